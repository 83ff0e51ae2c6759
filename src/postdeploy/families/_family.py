"""What a family declares: its tag, its step modules, its environment sections and the sections it needs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..errors import SuiteError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class FamilyError(SuiteError):
    """A family declaration is wrong (a bad field, a name declared twice, a section nobody declares)."""


class Section(BaseModel):
    """A convenient base for a family's environment section: unknown keys are errors (a typo never passes
    silently), and the validated section is frozen, like the rest of the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True)
class Family:
    """One check family, declared once, in a file of its own.

    ``name`` is the tag (``@data_integrity``) and the pytest marker, ``description`` the marker's help;
    ``step_modules`` are importable module names registered as pytest plugins (their steps and fixtures);
    ``sections`` maps an environment file section to its type (a pydantic model, usually a :class:`Section`);
    ``requires`` names the sections a scenario of the family cannot run without: when one is absent from
    the environment, the scenario is *inconclusive* and says which.
    ``probe`` (optional) asks the family's own dependency once, in the preflight, when the environment has
    every section the family requires: ``probe(env) -> {name: why it cannot be reached}`` (empty when it can).
    Each problem is reported once, as an environment error of its own; the scenarios that need it are skipped
    (a step raises :class:`~postdeploy.errors.AlreadyReported` when ``name`` is in ``unreachable()``).
    """

    name: str
    description: str
    step_modules: tuple[str, ...] = ()
    sections: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    probe: Callable[[Any], Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise FamilyError(f"a family's name is its tag and marker: letters, digits and '_', not starting with a "
                              f"digit (e.g. 'data_integrity'); got {self.name!r}")
        if not isinstance(self.description, str) or not self.description.strip():
            raise FamilyError(f"family '{self.name}' needs a description (the help of its marker)")
        object.__setattr__(self, "step_modules", self._names("step_modules", self.step_modules, "'steps.orders'"))
        object.__setattr__(self, "requires", self._names("requires", self.requires, "'database'"))
        if not isinstance(self.sections, Mapping):
            raise FamilyError(f"family '{self.name}': sections must map a section name to its type, "
                              f"e.g. {{'database': Database}}; got {type(self.sections).__name__}")
        bad = [key for key in self.sections if not isinstance(key, str) or not _NAME.fullmatch(key)]
        if bad:
            raise FamilyError(f"family '{self.name}': section names are YAML keys made of letters, digits and '_'; "
                              f"got {bad}")
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))
        if self.probe is not None and not callable(self.probe):
            raise FamilyError(f"family '{self.name}': probe is a function env -> {{name: problem}}; "
                              f"got {type(self.probe).__name__}")

    def _names(self, what: str, value: Any, example: str) -> tuple[str, ...]:
        if isinstance(value, str):  # ("steps.http") is a string, not a tuple
            raise FamilyError(f"family '{self.name}': {what} is a tuple of names, got the string {value!r} "
                              f"(write ({value!r},))")
        names = tuple(value)
        if not all(isinstance(n, str) and n for n in names):
            raise FamilyError(f"family '{self.name}': {what} holds names such as {example}; got {names!r}")
        return names
