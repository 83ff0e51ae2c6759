"""Checks that a release does not show what users should not see: stack traces in error answers, API
documentation where the environment says it is off."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import evidence
from ..http import Exchange
from ._base import Send, every, fail, row_body

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


def errors_without_internals(send: Send, requests: Iterable[Mapping[str, str]]) -> None:
    """Provoke errors (each request: ``method``, ``path``, optional JSON ``body`` and ``header`` as
    ``Name: value``) and check that no answer carries a stack trace; every answer is judged, then all reported."""
    __tracebackhide__ = True
    rows, problems = [], []
    for request in requests:
        content, extra = row_body(request)
        header = request.get("header") or None
        if header:
            name, _, value = header.partition(":")
            extra.append((name.strip(), value.strip()))
        exchange = send(request["method"], request["path"], content=content, headers=extra)
        try:
            no_stack_trace(exchange)
            verdict = "clean"
        except AssertionError as exc:
            verdict = "reveals internals"
            problems.append(str(exc))
        rows.append({"request": f"{request['method']} {request['path']}", "status": exchange.status, "verdict": verdict})
    every("error answers", rows, problems, "error answers without internals")


def api_docs(client: Any, service: str, policy: str, docs_paths: Sequence[str]) -> None:
    """API documentation as the environment expects (``expect.api_docs``): with ``disabled`` none of
    ``docs_paths`` may answer 200, with ``enabled`` one must."""
    __tracebackhide__ = True
    rows = []
    for path in docs_paths:
        exchange = client.request("GET", path, attach=False)
        rows.append({"path": path, "status": exchange.status, "content-type": exchange.headers.get("content-type", "")})
    evidence.table("documentation paths", rows)
    exposed = [r["path"] for r in rows if r["status"] == 200]
    if policy == "disabled" and exposed:
        fail(f"expected API documentation disabled on '{service}' (expect.api_docs: disabled), "
             f"but {', '.join(exposed)} answer 200 at {client.base_url}")
    if policy == "enabled" and not exposed:
        fail(f"expected API documentation on '{service}' (expect.api_docs: enabled), none of "
             f"{', '.join(docs_paths)} answers 200 at {client.base_url}")
