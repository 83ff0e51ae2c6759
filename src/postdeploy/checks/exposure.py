"""Checks that a release does not show what users should not see: stack traces in error answers, API
documentation where the environment says it is off."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .. import evidence
from ..errors import SuiteError
from ..http import Exchange
from ._base import every, fail, path_of

# What a stack trace looks like in the languages web back ends are written in.
STACK_TRACE_PATTERNS = {
    "Python traceback": re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+"),
    "Java/Kotlin stack": re.compile(r"\bat [\w$.]+\([\w$]+\.(java|kt):\d+\)|Exception in thread \""),
    "Node.js stack": re.compile(r"\n\s+at .+ \(.+:\d+:\d+\)|at Object\.<anonymous>"),
    "Go panic": re.compile(r"goroutine \d+ \[running\]|panic: .+\n"),
    ".NET stack": re.compile(r"at [\w.]+\(.*\) in .+:line \d+"),
    "PHP/Ruby stack": re.compile(r"Stack trace:\n#0 |\.rb:\d+:in `"),
}


def no_stack_trace(exchange: Exchange) -> None:
    __tracebackhide__ = True
    text = exchange.text
    for kind, pattern in STACK_TRACE_PATTERNS.items():
        match = pattern.search(text)
        if match:
            fail(f"expected an error without internals, got a {kind} ({match.group(0).strip()[:80]!r}) "
                 f"in the {exchange.status} answer to {exchange.where}")


def errors_without_internals(answers: Sequence[tuple[Any, Exchange]]) -> None:
    """No answer (to requests meant to provoke errors) carries a stack trace; every answer is judged, then all
    reported."""
    __tracebackhide__ = True
    rows, problems = [], []
    for spec, exchange in answers:
        try:
            no_stack_trace(exchange)
            verdict = "clean"
        except AssertionError as exc:
            verdict = "reveals internals"
            problems.append(str(exc))
        rows.append({"request": spec.label, "status": exchange.status, "verdict": verdict})
    every("error answers", rows, problems, "error answers without internals")


def docs_answers(client: Any, docs_paths: Sequence[str]) -> list[Exchange]:
    """GET each path where API documentation is usually served (``expect.docs_paths``)."""
    return [client.request("GET", path, attach=False) for path in docs_paths]


def api_docs(answers: Sequence[Exchange], service: str, policy: str) -> None:
    """API documentation as the environment expects (``expect.api_docs``): with ``disabled`` none of the
    documentation paths may answer 200, with ``enabled`` one must."""
    __tracebackhide__ = True
    if not answers:
        raise SuiteError("no documentation path was asked: 'When I look for API documentation on the ... service' "
                         "must come first, and expect.docs_paths may not be empty")
    rows = [{"path": path_of(e.url), "status": e.status, "content-type": e.headers.get("content-type", "")}
            for e in answers]
    evidence.table("documentation paths", rows)
    exposed = [r["path"] for r in rows if r["status"] == 200]
    where = answers[0].url.rsplit(path_of(answers[0].url), 1)[0]
    if policy == "disabled" and exposed:
        fail(f"expected API documentation disabled on '{service}' (expect.api_docs: disabled), "
             f"but {', '.join(exposed)} answer 200 at {where}")
    if policy == "enabled" and not exposed:
        fail(f"expected API documentation on '{service}' (expect.api_docs: enabled), none of "
             f"{', '.join(r['path'] for r in rows)} answers 200 at {where}")
