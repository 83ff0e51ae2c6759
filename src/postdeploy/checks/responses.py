"""Checks of one answer: its status, its JSON, its body, its headers, how long it took."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .. import paths
from ..environment import Objective
from ..http import Exchange
from ._base import every, fail, show


def status(exchange: Exchange, expected: int | Iterable[int]) -> None:
    __tracebackhide__ = True
    allowed = {expected} if isinstance(expected, int) else set(expected)
    if exchange.status not in allowed:
        want = " or ".join(map(str, sorted(allowed)))
        fail(f"expected status {want}, got {exchange.summary()} from {exchange.where}")


def status_not(exchange: Exchange, unexpected: int) -> None:
    __tracebackhide__ = True
    if exchange.status == unexpected:
        fail(f"expected any status but {unexpected}, got {exchange.summary()} from {exchange.where}")


def json_body(exchange: Exchange) -> Any:
    __tracebackhide__ = True
    try:
        return exchange.json()
    except ValueError:
        fail(f"expected a JSON body, got {exchange.headers.get('content-type', 'no content type')} "
             f"{exchange.summary()} from {exchange.where}")


def json_value(exchange: Exchange, path: str) -> Any:
    __tracebackhide__ = True
    document = json_body(exchange)
    try:
        return paths.resolve(document, path)
    except paths.PathNotFound as exc:
        fail(f"expected a value at JSON path '{path}', but {exc.reason} at '{exc.reached}' in the body of {exchange.where}")


def json_equals(exchange: Exchange, path: str, expected: Any) -> None:
    __tracebackhide__ = True
    seen = json_value(exchange, path)
    if seen != expected:
        fail(f"expected JSON '{path}' to be {show(expected)}, got {show(seen)} from {exchange.where}")


def body_contains(exchange: Exchange, text: str) -> None:
    __tracebackhide__ = True
    if text not in exchange.text:
        fail(f"expected the body to contain {text!r}, got {exchange.summary()} from {exchange.where}")


def body_lacks(exchange: Exchange, text: str) -> None:
    __tracebackhide__ = True
    if text in exchange.text:
        fail(f"expected the body not to contain {text!r}, but it does: {exchange.summary()} from {exchange.where}")


def header_value(exchange: Exchange, name: str) -> str:
    __tracebackhide__ = True
    value = exchange.headers.get(name)
    if value is None:
        fail(f"expected header '{name}', but it is absent from the response to {exchange.where}")
    return value


def header_matches(exchange: Exchange, name: str, pattern: str) -> None:
    __tracebackhide__ = True
    value = header_value(exchange, name)
    if not re.search(pattern, value):
        fail(f"expected header '{name}' to match /{pattern}/, got {value!r} from {exchange.where}")


def header_absent(exchange: Exchange, name: str) -> None:
    __tracebackhide__ = True
    value = exchange.headers.get(name)
    if value is not None:
        fail(f"expected no header '{name}', got {value!r} from {exchange.where}")


def headers_match(exchange: Exchange, expected: Iterable[tuple[str, str]]) -> None:
    """Every (header, pattern) is present and matches; all are checked, then every problem reported."""
    __tracebackhide__ = True
    problems, seen = [], []
    for header, pattern in expected:
        value = exchange.headers.get(header)
        ok = value is not None and re.search(pattern, value) is not None
        seen.append({"header": header, "expected": pattern, "seen": value or "(absent)", "ok": ok})
        if not ok:
            problems.append(f"{header}: expected /{pattern}/, got {value!r}")
    every("headers", seen, problems, f"every header as listed in the response to {exchange.where}")


def answered_within(exchange: Exchange, limit_ms: int) -> None:
    __tracebackhide__ = True
    if exchange.elapsed_ms >= limit_ms:
        fail(f"expected a response within {limit_ms} ms, got {exchange.elapsed_ms:.0f} ms from {exchange.where}")


def within_objective(exchange: Exchange, objective: str, spec: Objective) -> None:
    """The answer arrived below the green limit of an objective of the environment (``env.objective_spec``)."""
    __tracebackhide__ = True
    limit = spec.milliseconds(name=objective)
    if exchange.elapsed_ms >= limit:
        fail(f"expected a response within the '{objective}' objective of {spec.show(spec.green)}, "
             f"got {exchange.elapsed_ms:.0f} ms from {exchange.where}{spec.latency_note(exchange.elapsed_ms)}")

