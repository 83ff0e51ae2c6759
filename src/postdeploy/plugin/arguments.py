"""``{{name}}`` placeholders in a step's arguments, expanded from the environment in one place."""

from __future__ import annotations

import os
from typing import Any

import pytest

from .. import environment, redact, scenario
from ..environment import Environment
from .allure_results import allure_steps
from .state import RUN_ID_VAR


class StepArguments:
    """Every string a step is given is expanded here, in one place: ``{{name}}`` placeholders in its parsed
    arguments, in the cells of its ``datatable`` and in its ``docstring`` are filled from the values the scenario
    remembered (:mod:`postdeploy.scenario`), ``{{run_id}}`` and the environment
    (:func:`postdeploy.environment.expand`) before the step function runs, so step functions receive final values.

    pytest-bdd calls the step function with the very ``step_func_args`` dict its ``pytest_bdd_before_step_call``
    hook receives (``pytest_bdd/scenario.py``, ``_execute_step_function``), so rewriting it in place is how a hook
    changes a step's arguments with its public API. The hook does not say which entries were parsed from the step's
    text and which are fixtures: a parsed argument is a string that the step's text holds (typed fields such as
    ``{count:d}`` are converted before the hook and cannot hold a placeholder).

    It wraps the other hookimpls: allure-pytest-bdd lists the step's parameters and attaches its table and doc
    string from the expanded values, redacted (a placeholder may name a secret), and the step function then
    receives them unredacted. The Allure step's title says the expanded text too.
    """

    def __init__(self, env: Environment) -> None:
        self.env = env

    @pytest.hookimpl(wrapper=True)
    def pytest_bdd_before_step_call(self, request: pytest.FixtureRequest, step: Any, step_func_args: dict[str, Any],
                                    **_: Any) -> Any:
        __tracebackhide__ = True
        raw = {name: step_func_args[name] for name in self.arguments(step, step_func_args)}
        if not raw:
            return (yield)
        extra = {"run_id": os.environ.get(RUN_ID_VAR, ""), **scenario.values(request.node)}
        expanded = {}
        for name, value in raw.items():
            expanded[name] = self.expand(value, extra)
        step_func_args.update({name: _redacted(value) for name, value in expanded.items()})  # what the report shows
        title = step.name
        for name, value in raw.items():
            if name not in ("datatable", "docstring"):
                title = title.replace(value, _redacted(expanded[name]))
        for result in allure_steps(request, step):
            result.name = f"{step.keyword} {title}"
        try:
            return (yield)
        finally:
            step_func_args.update(expanded)  # what the step function receives

    @staticmethod
    def arguments(step: Any, step_func_args: dict[str, Any]) -> list[str]:
        """The names of the step's arguments that hold a placeholder."""
        names = []
        for name, value in step_func_args.items():
            if name == "datatable" and step.datatable is not None and isinstance(value, list):
                held = any(isinstance(cell, str) and "{{" in cell for row in value for cell in row)
            elif name == "docstring" and step.docstring is not None:
                held = isinstance(value, str) and "{{" in value
            else:
                held = isinstance(value, str) and "{{" in value and value in step.name
            if held:
                names.append(name)
        return names

    def expand(self, value: Any, extra: dict[str, str] | None = None) -> Any:
        """A string, or every cell of a table, with its placeholders filled (``extra``: the scenario's
        remembered values and ``run_id``, :mod:`postdeploy.scenario`)."""
        __tracebackhide__ = True
        if isinstance(value, list):
            return [[self.expand(cell, extra) for cell in row] for row in value]
        return environment.expand(self.env, value, extra) if isinstance(value, str) and "{{" in value else value


def _redacted(value: Any) -> Any:
    """What the report may show of an expanded argument."""
    if isinstance(value, list):
        return [[redact.redact(cell) if isinstance(cell, str) else cell for cell in row] for row in value]
    return redact.redact(value)
