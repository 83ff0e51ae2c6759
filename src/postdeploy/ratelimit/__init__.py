"""Rate limits, verified as the environment's ``rate_limits:`` table promises them (docs/rate-limits.md).

A *burst* sends requests to one limit's route as its identity, one after the other, and stops as soon as the
answer is known: at the first 429, or after ``limit + SLACK`` requests without one, never more (the bound is in
the report). Before it, the identity's window is waited out when its headers say part of it is spent, so the
burst starts from a full quota. What each request got (status, the rate-limit headers, Retry-After, when it was
sent and answered) is a :class:`Timeline`, attached as a table and a chart. The checks judge timelines: the limit
enforced at its number, the refusal saying when to retry, the headers counting down, another identity unaffected,
a concurrent burst held to the limit, requests let through again after the window.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .. import evidence
from ..errors import CheckFailed, Inconclusive
from ..http import retry_after_seconds
from ..redact import redact

#: requests a burst may send past the limit before it says the limit is not enforced (at most limit + SLACK)
SLACK = 2
MAX_WAIT_S = 120


@dataclass
class Sent:
    number: int
    sent: float          # seconds since the burst began
    answered: float
    status: int
    limit: int | None = None
    remaining: int | None = None
    reset_s: float | None = None      # seconds until the window resets, as the headers say
    retry_after: float | None = None
    identity: str = ""


@dataclass
class Timeline:
    """One burst against one limit (``spec``: a :class:`postdeploy.environment.RateLimit`)."""

    spec: Any
    identity: str
    concurrent: bool = False
    requests: list[Sent] = field(default_factory=list)
    others: list[Sent] = field(default_factory=list)  # one request of each other identity, once the limit was spent
    waited_s: float = 0.0             # the window waited out before the burst
    after_window: Sent | None = None  # a request once the refusal's window had passed

    @property
    def label(self) -> str:
        return f"{self.spec.method} {self.spec.path} as {self.identity}"

    @property
    def let_through(self) -> int:
        return sum(1 for r in self.requests if r.status != 429)

    @property
    def first_refusal(self) -> Sent | None:
        return next((r for r in self.requests if r.status == 429), None)


def read_headers(headers: Any, kind: str) -> tuple[int | None, int | None, float | None]:
    """(limit, remaining, seconds to reset) from ``X-RateLimit-*`` or the IETF draft's ``RateLimit`` /
    ``RateLimit-Policy`` (both its older ``limit=, remaining=, reset=`` and its newer ``"name";r=;t=`` form)."""
    def number(value: str | None) -> float | None:
        try:
            return float(value) if value is not None and value.strip() != "" else None
        except ValueError:
            return None

    if kind == "x-ratelimit" or (kind == "none" and "x-ratelimit-remaining" in headers):
        limit, remaining = number(headers.get("x-ratelimit-limit")), number(headers.get("x-ratelimit-remaining"))
        reset = number(headers.get("x-ratelimit-reset"))
        if reset is not None and reset > 10**9:  # an epoch time, as many servers send it
            reset = max(0.0, reset - time.time())
        return (int(limit) if limit is not None else None, int(remaining) if remaining is not None else None, reset)
    value = headers.get("ratelimit")
    if value is None:
        return None, None, None
    fields = dict(re.findall(r"\b(limit|remaining|reset|r|t|q)\s*=\s*(\d+(?:\.\d+)?)", value))
    policy = dict(re.findall(r"\b(q|w)\s*=\s*(\d+)", headers.get("ratelimit-policy", "")))
    limit = fields.get("limit") or fields.get("q") or policy.get("q")
    remaining = fields.get("remaining") or fields.get("r")
    reset = fields.get("reset") or fields.get("t")
    return (int(float(limit)) if limit else None, int(float(remaining)) if remaining else None,
            float(reset) if reset else None)


retry_after_s = retry_after_seconds  # Retry-After as seconds: delta-seconds or an HTTP date


Ask = Callable[[str], Any]  # ask(identity) -> Exchange: one request to the limit's route as that identity


def _record(number: int, started: float, sent: float, exchange: Any, kind: str, identity: str) -> Sent:
    limit, remaining, reset = read_headers(exchange.headers, kind)
    return Sent(number, round(sent - started, 3), round(time.monotonic() - started, 3), exchange.status, limit,
                remaining, reset, retry_after_s(exchange.headers.get("retry-after")), identity)


def _spent(record: Sent, limit: int) -> bool:
    """The identity's quota was partly spent before this request (its headers say so: judged against the limit
    they announce, so that a limit other than the promised one is not taken for a spent quota), or it is
    refused."""
    announced = record.limit if record.limit is not None else limit
    return record.status == 429 or (record.remaining is not None and record.remaining + 1 < announced)


def _wait_out(spec: Any, record: Sent, identity: str) -> float:
    """Sleep until the window the record's answer names is over; returns the seconds slept. Bounded by the window
    and :data:`MAX_WAIT_S`: past that the check is inconclusive."""
    wait = record.retry_after if record.status == 429 and record.retry_after is not None else record.reset_s
    wait = spec.window if wait is None else wait
    bound = min(MAX_WAIT_S, spec.window + 5)
    if wait > bound:
        raise Inconclusive(f"inconclusive: the quota of {identity} on {spec.method} {spec.path} is spent and its "
                           f"window ends in {wait:.0f} s, longer than a check waits ({bound:.0f} s)")
    time.sleep(wait + 0.2)
    return wait + 0.2


def burst(spec: Any, ask: Ask, identity: str, others: Sequence[str] = ()) -> Timeline:
    """Requests one after the other until the first 429 (or ``limit + SLACK`` without one), from a full quota: when
    the first answer's headers say the identity already spent part of its window (or it is refused), the window
    is waited out and the burst starts again, once. Then one request as each of ``others`` (another account,
    anonymous), whose quotas must be untouched."""
    timeline = Timeline(spec, identity)
    for attempt in (1, 2):
        started = time.monotonic()
        first = _record(1, started, started, ask(identity), spec.headers, identity)
        if _spent(first, spec.limit) and attempt == 1:
            timeline.waited_s += _wait_out(spec, first, identity)
            continue
        timeline.requests = [first]
        break
    while timeline.requests[-1].status != 429 and len(timeline.requests) < spec.limit + SLACK:
        sent = time.monotonic()
        timeline.requests.append(_record(len(timeline.requests) + 1, started, sent, ask(identity), spec.headers,
                                         identity))
    for other in others if timeline.first_refusal is not None else ():
        sent = time.monotonic()
        number = len(timeline.requests) + len(timeline.others) + 1
        timeline.others.append(_record(number, started, sent, ask(other), spec.headers, other))
    return timeline


def concurrent_burst(spec: Any, ask: Ask, identity: str) -> Timeline:
    """``limit + max(SLACK, limit // 4)`` requests in flight at once, from a full quota (one request first tells
    whether it is; when not, the window is waited out): a counter that is not atomic lets more than the limit
    through. The first request counts against the limit like the others."""
    timeline = Timeline(spec, identity, concurrent=True)
    started = time.monotonic()
    first = _record(1, started, started, ask(identity), spec.headers, identity)
    if _spent(first, spec.limit):
        timeline.waited_s = _wait_out(spec, first, identity)
        started = time.monotonic()
        first = _record(1, started, started, ask(identity), spec.headers, identity)
    total = spec.limit + max(SLACK, spec.limit // 4)
    workers = min(total - 1, 32)
    gate = threading.Barrier(workers)

    def one(number: int) -> Sent:
        try:
            gate.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        sent = time.monotonic()
        return _record(number, started, sent, ask(identity), spec.headers, identity)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        timeline.requests = [first, *sorted(pool.map(one, range(2, total + 1)), key=lambda r: r.sent)]
    return timeline


def quota_back_in(timelines: Sequence[Timeline]) -> float:
    """Seconds until every identity a burst spent has its whole quota again, as the last answer of each burst says
    (Retry-After, else the reset header, else the window), at most :data:`MAX_WAIT_S`: what a scenario that is not
    about rate limits waits before it runs after this family."""
    waits = []
    for t in timelines:
        last = (t.after_window or (t.requests[-1] if t.requests else None))
        if last is None:
            continue
        wait = last.retry_after if last.retry_after is not None else last.reset_s
        waits.append(t.spec.window if wait is None else wait)
    return min(max(waits, default=0.0), MAX_WAIT_S)


def after_window(timeline: Timeline, ask: Ask) -> None:
    """Wait what the refusal said (Retry-After, else the reset header, else the window) and ask once more."""
    refusal = timeline.first_refusal
    if refusal is None:
        return
    wait = refusal.retry_after if refusal.retry_after is not None else refusal.reset_s
    wait = min(timeline.spec.window if wait is None else wait, MAX_WAIT_S)
    time.sleep(wait + 0.3)
    started = time.monotonic()
    timeline.after_window = _record(0, started, started, ask(timeline.identity), timeline.spec.headers,
                                    timeline.identity)


# ---- judging -------------------------------------------------------------------------------------------------

def fail(message: str) -> None:
    __tracebackhide__ = True
    raise CheckFailed(redact(message))


def enforced_at_its_number(timelines: Sequence[Timeline]) -> None:
    """Exactly ``limit`` requests went through and the next was refused with 429; a limit not enforced at all is
    said apart from one enforced at the wrong number."""
    __tracebackhide__ = True
    problems = []
    for t in timelines:
        attach(t)
        refusal, spec = t.first_refusal, t.spec
        if refusal is None:
            seen_limit = next((r.limit for r in t.requests if r.limit is not None), None)
            problems.append(f"{t.label}: not enforced at all, {len(t.requests)} requests in a row and none refused"
                            if seen_limit is None else
                            f"{t.label}: enforced at the wrong number, {len(t.requests)} requests went through "
                            f"(its headers say a limit of {seen_limit})")
        elif t.let_through != spec.limit:
            problems.append(f"{t.label}: enforced at the wrong number, {t.let_through} went through before the "
                            f"first 429 (request {refusal.number}), expected {spec.limit} per {spec.window:g} s")
    _report(problems, timelines, "every limit to let exactly its number through and refuse the next with 429")


def says_when_to_retry(timelines: Sequence[Timeline]) -> None:
    """The 429 carries ``Retry-After`` (when the environment promises it) within the window, and the promised
    headers are on every answer, their remaining count going down by one a request."""
    __tracebackhide__ = True
    problems = []
    for t in timelines:
        spec, refusal = t.spec, t.first_refusal
        if refusal is None:
            problems.append(f"{t.label}: no request was refused, so there is no refusal to judge")
            continue
        if spec.retry_after and (refusal.retry_after is None or not 0 < refusal.retry_after <= spec.window + 1):
            problems.append(f"{t.label}: the 429 says nothing of when to retry (Retry-After "
                            f"{'absent' if refusal.retry_after is None else refusal.retry_after})")
        if spec.headers != "none":
            answered = [r for r in t.requests if r.status != 429]
            missing = [r.number for r in t.requests if r.remaining is None]
            counts = [r.remaining for r in answered if r.remaining is not None]
            if missing:
                problems.append(f"{t.label}: the promised {spec.headers} headers are missing from request(s) "
                                f"{', '.join(map(str, missing[:5]))}")
            elif any(b != a - 1 for a, b in itertools.pairwise(counts)):
                problems.append(f"{t.label}: the remaining count does not go down by one a request: "
                                f"{', '.join(map(str, counts[:8]))}")
            elif any(r.limit is not None and r.limit != spec.limit for r in t.requests):
                problems.append(f"{t.label}: the headers say a limit of {t.requests[0].limit}, the environment "
                                f"{spec.limit}")
    _report(problems, timelines, "every refusal to say when to retry, and the promised headers to count down")


def per_identity(timelines: Sequence[Timeline]) -> None:
    """Once one identity spent its quota, the other identities' requests (another account; anonymous, so that a
    signed-in budget does not leak into the anonymous one) are not refused with 429."""
    __tracebackhide__ = True
    problems = []
    for t in timelines:
        attach(t)
        if t.first_refusal is None:
            problems.append(f"{t.label}: the quota was never spent, so another identity could not be compared")
            continue
        refused = [r.identity for r in t.others if r.status == 429]
        if refused:
            problems.append(f"{t.label}: not counted per identity, once {t.identity} spent its quota "
                            f"{' and '.join(refused)} {'was' if len(refused) == 1 else 'were'} refused too "
                            "(one budget for everybody)")
    _report(problems, timelines, "every limit to count each identity apart")


def concurrency_held(timelines: Sequence[Timeline]) -> None:
    """No more than ``limit`` of the requests sent at once went through."""
    __tracebackhide__ = True
    problems = []
    for t in timelines:
        attach(t)
        if t.let_through > t.spec.limit:
            problems.append(f"{t.label}: {t.let_through} of {len(t.requests)} requests sent at once went through, "
                            f"the limit is {t.spec.limit} (a counter that is not atomic)")
    _report(problems, timelines, "no concurrent burst to get more than its limit through")


def lets_through_again(timelines: Sequence[Timeline]) -> None:
    """After the time the refusal named, a request goes through again."""
    __tracebackhide__ = True
    problems = []
    for t in timelines:
        if t.after_window is None:
            problems.append(f"{t.label}: no request was refused, so there is no window to wait out")
        elif t.after_window.status == 429:
            problems.append(f"{t.label}: still refused after waiting what the refusal said (the window never "
                            "resets)")
    _report(problems, timelines, "every limit to let requests through again after its window")


def _report(problems: list[str], timelines: Sequence[Timeline], expectation: str) -> None:
    __tracebackhide__ = True
    evidence.table("rate limits", [{"limit": t.spec.describe(), "sent": len(t.requests), "let through": t.let_through,
                                    "first 429": t.first_refusal.number if t.first_refusal else "none",
                                    "waited for a fresh window (s)": round(t.waited_s, 1)} for t in timelines])
    if problems:
        first = f"expected {expectation}; {len(problems)} of {len(timelines)} did not, first: {problems[0]}"
        fail("\n".join([first, *(f"  - {p}" for p in problems[1:])]))


def attach(t: Timeline) -> None:
    """The burst as a timeline table and an SVG chart of outcomes over time."""
    rows = [{"#": r.number, "as": r.identity, "sent (s)": r.sent, "answered (s)": r.answered, "status": r.status,
             "limit": "" if r.limit is None else r.limit, "remaining": "" if r.remaining is None else r.remaining,
             "retry-after": "" if r.retry_after is None else r.retry_after} for r in t.requests]
    rows += [{"#": r.number, "as": r.identity, "sent (s)": r.sent, "answered (s)": r.answered, "status": r.status,
              "limit": "", "remaining": "", "retry-after": ""} for r in t.others]
    kind = "concurrent burst" if t.concurrent else "burst"
    evidence.table(f"{kind}: {t.label} (at most {t.spec.limit + SLACK} requests)", rows)
    evidence.svg(f"{kind}: {t.label}, chart", chart(t))


def chart(t: Timeline) -> str:
    """Each request as a bar at the time it was sent: green when let through, red when refused (429)."""
    width, height, pad = 640, 160, 30
    end = max([r.answered for r in t.requests] + [0.001])
    bar = max(2.0, (width - 2 * pad) / max(len(t.requests), 1) - 2)
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
              f'font-size="11"><title>{_esc(t.label)}</title>'),
             (f'<text x="{pad}" y="16">{_esc(t.label)}: {t.let_through} let through, '
              f'{len(t.requests) - t.let_through} refused (limit {t.spec.limit} per {t.spec.window:g} s)</text>'),
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>']
    for r in t.requests:
        x = pad + (r.sent / end) * (width - 2 * pad - bar)
        color = "#c62828" if r.status == 429 else "#2e7d32"
        parts.append(f'<rect x="{x:.1f}" y="{pad}" width="{bar:.1f}" height="{height - 2 * pad}" fill="{color}">'
                     f'<title>#{r.number} at {r.sent:.3f} s: {r.status}</title></rect>')
    parts.append(f'<text x="{pad}" y="{height - 8}">0 s</text><text x="{width - pad - 40}" y="{height - 8}">'
                 f'{math.ceil(end * 1000)} ms</text></svg>')
    return "".join(parts)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
