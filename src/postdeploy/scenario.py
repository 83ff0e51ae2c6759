"""What one scenario carries from step to step: the values it remembered, and what it must undo.

**Values.** A step remembers a value under a name (an id from a response, a header, a token, a link); every
later step of the same scenario may use it as ``{{name}}`` in any argument, table cell or docstring (the one
expansion hook, :class:`postdeploy.plugin.StepArguments`). ``{{run_id}}`` is always there: what a mutating
scenario creates carries it, so a person (or a sweeper) can tell the run's leftovers from real data. A value
remembered as a secret is masked in every report like the environment's secrets.

**Cleanups.** A mutating scenario registers how to undo what it created right after creating it; the
registered actions run when the scenario ends, whatever ended it (a failed step, an error, an interruption of
the scenario), last registered first. A cleanup that fails leaves something on the target: the scenario then
ends in error, naming what was left behind, so a run can never be green while it leaves debris.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from . import redact
from .errors import CheckFailed, PostdeployError, SuiteError

VALUES_KEY = pytest.StashKey[dict[str, str]]()
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: names a scenario cannot take: they already mean something in every placeholder
RESERVED = ("run_id", "services", "accounts", "values", "secrets", "objectives", "auth", "browser", "expect",
            "safety", "database", "mailbox", "release", "routes", "rate_limits", "name", "description")


def values(node: pytest.Item) -> dict[str, str]:
    """The values the scenario of ``node`` remembered so far (name -> text)."""
    return node.stash.setdefault(VALUES_KEY, {})


def remember(node: pytest.Item, name: str, value: Any, *, secret: bool = False,
             taken: tuple[str, ...] = ()) -> str:
    """Keep ``value`` under ``name`` for the rest of the scenario; return it as text.

    ``taken`` holds names the environment already defines (``values:``, ``secrets:``): a scenario value may
    not hide them, so ``{{name}}`` always means one thing. A JSON object or list is kept as JSON text.
    """
    if not _NAME.fullmatch(name or ""):
        raise SuiteError(f"'{name}' cannot name a remembered value: use letters, digits and '_', not starting with "
                         "a digit (e.g. 'item_id'); it is used later as {{item_id}}")
    if name in RESERVED or name in taken:
        where = "is a name every step already knows" if name in RESERVED else "is already a value of the environment"
        raise SuiteError(f"'{name}' {where}, so {{{{{name}}}}} would be ambiguous; remember the value under "
                         f"another name (e.g. 'created_{name}')")
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if secret and text:
        redact.register(text)
    values(node)[name] = text
    return text


@dataclass
class Cleanup:
    """One way to undo something the scenario created."""

    what: str  # for people: "DELETE /api/v1/items/42 on the 'api' service"
    action: Callable[[], None]  # raises when the undo did not happen


@dataclass
class Cleanups:
    """The scenario's cleanups, run at its end (the ``cleanups`` fixture) last registered first."""

    registered: list[Cleanup] = field(default_factory=list)
    done: list[str] = field(default_factory=list)

    def add(self, what: str, action: Callable[[], None]) -> None:
        self.registered.append(Cleanup(what, action))

    def run(self) -> None:
        """Run every cleanup (each one, even when an earlier one failed); fail once naming what was left."""
        __tracebackhide__ = True
        left: list[str] = []
        kind: type[Exception] = CheckFailed
        while self.registered:
            cleanup = self.registered.pop()
            try:
                cleanup.action()
            except (AssertionError, PostdeployError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                left.append(f"{cleanup.what}: {first}")
                if len(left) == 1 and isinstance(exc, PostdeployError):
                    kind = type(exc)  # the first failure's verdict: the target's, the environment's, the suite's
            else:
                self.done.append(cleanup.what)
        if left:
            lines = [f"cleanup failed, the run left something on the target: {left[0]}",
                     *(f"  - {item}" for item in left[1:])]
            raise kind(redact.redact("\n".join(lines)))
