"""What every check shares: how it fails, how a table-driven check reports, how values and places are shown."""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .. import evidence
from ..errors import CheckFailed, SuiteError
from ..http import Exchange
from ..redact import redact


def fail(message: str) -> None:
    __tracebackhide__ = True
    raise CheckFailed(redact(message))


def every(name: str, rows: list[dict[str, Any]], problems: list[str], expectation: str) -> None:
    """A table-driven check: attach the table of everything checked, then fail once, naming every problem.

    The first line says what was expected and the first problem seen; every problem follows on a line of its own.
    """
    __tracebackhide__ = True
    evidence.table(name, rows)
    if problems:
        first = f"expected {expectation}; {len(problems)} of {len(rows)} did not, first: {problems[0]}"
        fail("\n".join([first, *(f"  - {p}" for p in problems)]) if len(problems) > 1 else first)


def problems_first(name: str, rows: list[dict[str, Any]], problems: list[str], what: str) -> None:
    """A table check whose message starts with its first problem: attach every row checked, then fail
    with the first problem (and how many more) as the first line, then every problem on a line of its own."""
    __tracebackhide__ = True
    evidence.table(name, rows)
    if problems:
        if len(problems) == 1:
            fail(problems[0])
        fail("\n".join([f"{problems[0]} (and {len(problems) - 1} more of the {len(rows)} {what} checked)",
                         *(f"  - {p}" for p in problems)]))


def parse_literal(text: str) -> Any:
    """A typed Gherkin value, read the same in every step: a JSON literal. ``"ok"`` is the text ok, ``3`` the
    number, ``"3"`` the text 3, ``true``/``false``/``null``, ``[1, 2]`` and ``{"a": 1}`` as in JSON. An unquoted
    word is not guessed at (is ``ok`` text? is ``1.0`` the text a version reads?): it is a feature error that
    says how to write it."""
    try:
        return _json.loads(text)
    except ValueError:
        raise SuiteError(f"{text!r} is not a value: write text in double quotes (\"{text}\"), numbers, true, "
                         f"false and null bare, lists and objects as JSON ([1, 2], {{\"a\": 1}})") from None


def statuses_text(codes: Iterable[int]) -> str:
    return " or ".join(map(str, codes))


def show(value: Any) -> str:
    """A value as JSON, the way messages show what was expected and seen."""
    return _json.dumps(value, ensure_ascii=False, default=str)


def path_of(url: str) -> str:
    return urlsplit(url).path or "/"


def asked(exchange: Exchange) -> str:
    """``GET /path (service 'api')``: the request of an answer, in a problem of a table check."""
    return f"{exchange.method} {path_of(exchange.url)} (service '{exchange.service}')"


#: ``send(method, path, **options) -> Exchange``: a request to one service as one identity (options as for
#: :meth:`postdeploy.http.ServiceClient.request`: ``content``, ``json``, ``headers``); table checks send with it
Send = Callable[..., Exchange]
