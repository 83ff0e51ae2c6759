"""Named checks. Each says, in its first line, what was expected, what was seen and where.

Checks raise :class:`~postdeploy.errors.CheckFailed` (an ``AssertionError``: a target defect)
and hide their own frames from tracebacks.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Iterable
from typing import Any

from . import evidence, paths
from .environment import HealthSpec
from .errors import CheckFailed
from .http import Exchange
from .redact import redact

# What a stack trace looks like in the languages web back ends are written in.
STACK_TRACE_PATTERNS = {
    "Python traceback": re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"),
    "Java/Kotlin stack": re.compile(r"\bat [\w$.]+\([\w$]+\.(java|kt):\d+\)|Exception in thread \""),
    "Node.js stack": re.compile(r"\n\s+at .+ \(.+:\d+:\d+\)|at Object\.<anonymous>"),
    "Go panic": re.compile(r"goroutine \d+ \[running\]|panic: .+\n"),
    ".NET stack": re.compile(r"at [\w.]+\(.*\) in .+:line \d+"),
    "PHP/Ruby stack": re.compile(r"Stack trace:\n#0 |\.rb:\d+:in `"),
}


def fail(message: str) -> None:
    __tracebackhide__ = True
    raise CheckFailed(redact(message))


def every(name: str, rows: list[dict[str, Any]], problems: list[str], expectation: str) -> None:
    """A table-driven check: attach the table of everything checked, then fail once, naming every problem."""
    __tracebackhide__ = True
    evidence.table(name, rows)
    if problems:
        fail(f"expected {expectation}; {len(problems)} of {len(rows)} did not: " + " | ".join(problems))


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
        fail(f"expected JSON '{path}' to be {_j(expected)}, got {_j(seen)} from {exchange.where}")


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


def no_stack_trace(exchange: Exchange) -> None:
    __tracebackhide__ = True
    text = exchange.text
    for kind, pattern in STACK_TRACE_PATTERNS.items():
        match = pattern.search(text)
        if match:
            fail(f"expected an error without internals, got a {kind} ({match.group(0).strip()[:80]!r}) "
                 f"in the {exchange.status} answer to {exchange.where}")


def health_problems(exchange: Exchange, spec: HealthSpec) -> list[str]:
    """What is wrong with a health answer, judged by the environment's expectation (empty: healthy)."""
    problems = []
    if exchange.status not in spec.status:
        problems.append(f"status {exchange.status}, expected {' or '.join(map(str, spec.status))}")
    if spec.body is not None and exchange.text.strip() != spec.body:
        problems.append(f"body {exchange.text.strip()[:80]!r}, expected {spec.body!r}")
    if spec.contains is not None and spec.contains not in exchange.text:
        problems.append(f"body does not contain {spec.contains!r}")
    if spec.json_fields:
        try:
            document = exchange.json()
        except ValueError:
            return problems + [f"body is not JSON: {exchange.text[:80]!r}"]
        for path, expected in spec.json_fields.items():
            try:
                seen = paths.resolve(document, path)
            except paths.PathNotFound as exc:
                problems.append(f"'{path}' missing ({exc.reason})")
                continue
            if seen != expected:
                problems.append(f"'{path}' is {_j(seen)}, expected {_j(expected)}")
    return problems


# name, optional labels (quoted values may hold any character, "}" included), a value
_METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+\S+')


def prometheus_metrics(exchange: Exchange) -> set[str]:
    """The metric families exposed by a Prometheus text answer (fails if it is not one)."""
    __tracebackhide__ = True
    content_type = exchange.headers.get("content-type", "")
    names: set[str] = set()
    for line in exchange.text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            match = _METRIC_LINE.match(line)
            if not match:
                fail(f"expected Prometheus text exposition, got the line {line[:80]!r} from {exchange.where}")
            names.add(match.group(1))
    if not content_type.startswith(("text/plain", "application/openmetrics-text")) or not names:
        fail(f"expected Prometheus text (text/plain with samples), got {content_type or 'no content type'} "
             f"{exchange.summary(120)} from {exchange.where}")
    return names


def parse_literal(text: str) -> Any:
    """A Gherkin value: JSON when it parses (``"ok"``, ``3``, ``true``, ``null``), else the text."""
    try:
        return _json.loads(text)
    except ValueError:
        return text


def _j(value: Any) -> str:
    return _json.dumps(value, ensure_ascii=False, default=str)
