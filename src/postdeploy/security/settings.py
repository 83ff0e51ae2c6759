"""Production settings visible from outside: the environment name, debug flag and log level a service reports
(a ``/version`` or ``/health`` field), compared with what the environment expects."""

from __future__ import annotations

from typing import Any

from .. import evidence, paths
from ..checks._base import fail, show
from ..errors import SuiteError
from ..http import Exchange
from .section import Expected


def _same(seen: Any, want: Any) -> bool:
    if isinstance(seen, str) and isinstance(want, str):
        return seen.casefold() == want.casefold()  # WARNING and warning are one log level
    return seen == want and type(seen) is type(want)


def check_setting(exchange: Exchange, name: str, expected: Expected) -> None:
    """The answer reports ``name`` at ``expected.at`` with the expected value (``equals`` or one of ``one_of``)."""
    __tracebackhide__ = True
    if expected.equals is None and expected.one_of is None:
        raise SuiteError(f"the reported setting '{name}' says where it is ({expected.at}) but not what it must be: "
                         "write equals: or one_of:")
    wanted = [expected.equals] if expected.one_of is None else list(expected.one_of)
    if exchange.status != 200:
        fail(f"expected the settings at {exchange.where} to answer 200, got {exchange.summary(120)}")
    try:
        seen = paths.resolve(exchange.json(), expected.at)
    except ValueError:
        fail(f"expected a JSON answer reporting '{name}' at {exchange.where}, got {exchange.summary(120)}")
    except paths.PathNotFound as exc:
        fail(f"expected {exchange.where} to report '{name}' at '{expected.at}', but {exc.reason}")
    evidence.table(f"reported setting {name}", [{"setting": name, "at": expected.at, "reported": show(seen),
                                                 "expected": " or ".join(show(w) for w in wanted)}])
    if not any(_same(seen, want) for want in wanted):
        fail(f"expected '{name}' {' or '.join(show(w) for w in wanted)} at '{expected.at}' of {exchange.where}, "
             f"got {show(seen)}")
