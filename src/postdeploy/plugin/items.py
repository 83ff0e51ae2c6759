"""Items that are not scenarios: one per unreachable service and one per feature file that does not parse, put
first in the run after ``-m``/``-k`` selected (so they are never deselected); and what collection refuses or
skips for the environment (no ``--env``; @mutating scenarios in a read-only environment)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .. import environment, verdicts
from ..errors import ServiceUnreachable, SuiteError
from ..verdicts import Kind
from .state import ENV_KEY, env_dir, unreachable


class EnvironmentCheck(pytest.Item):
    """One per unreachable service: the single place its problem is reported."""

    def __init__(self, *, service: str, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service, self.problem = service, problem
        self.add_marker(pytest.mark.environment_error)

    def runtest(self) -> None:
        raise ServiceUnreachable(self.problem.rstrip(". ") + ". Scenarios that need it are not verified.")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return f"environment error: {excinfo.value}"

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"environment: service '{self.service}' reachable"


class FeatureFileCheck(pytest.Item):
    """One per feature file that does not parse: a suite error; the other files still run."""

    def __init__(self, *, file: str, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file, self.problem = file, problem

    def runtest(self) -> None:
        raise SuiteError(self.problem)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return f"suite error: {excinfo.value}"

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"feature file {self.file} parses"


@pytest.hookimpl(trylast=True)  # after -m and -k deselected: the environment's problems are never deselected
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    from ..binding import broken

    scenarios = [item for item in items if is_scenario(item)]
    env = config.stash.get(ENV_KEY, None)
    if scenarios and env is None:
        names = ", ".join(environment.available(env_dir(config))) or "none found"
        raise pytest.UsageError(
            "postdeploy: choose the target environment with --env=NAME (available: " + names + "). "
            "There is no default, so a run never hits a shared or production system by accident."
        )
    if env is None:
        return
    if env.safety.read_only:
        reason = verdicts.skip_reason(Kind.NOT_APPLICABLE, f"@mutating scenario not run: environment '{env.name}' "
                                      "is read-only (safety.read_only in its environment file)")
        for item in scenarios:
            if item.get_closest_marker("mutating"):
                item.add_marker(pytest.mark.skip(reason=reason))
    config.addinivalue_line("markers", "environment_error: a service of the environment did not answer")
    problems = unreachable()
    parent = items[0].parent if items else session
    checks: list[pytest.Item] = [
        EnvironmentCheck.from_parent(parent, name=f"environment[{svc}]", service=svc, problem=why)
        for svc, why in sorted(problems.items())]
    checks += [FeatureFileCheck.from_parent(parent, name=f"feature[{Path(file).name}]", file=file, problem=why)
               for file, why in sorted(broken().items())]
    items[:0] = checks


def is_scenario(item: pytest.Item) -> bool:
    """Is the item a test function that pytest-bdd's ``scenario()``/``scenarios()`` made?

    pytest-bdd internals, on purpose: its public API has no way to tell at collection time. The functions it makes
    are plain test functions that carry only the feature's tags as markers (``pytest_bdd_apply_tag`` is called for
    tagged scenarios only), and its public hooks (``pytest_bdd_before_scenario`` and the step hooks) run only when a
    scenario runs, too late to refuse a run without ``--env`` or to skip @mutating scenarios before their setup. Its
    one record of them is ``scenario_wrapper_template_registry`` (its own ``--generate-missing`` reads it too).
    """
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    return function is not None and function in scenario_wrapper_template_registry
