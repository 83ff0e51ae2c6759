"""The release's routes: who may call which route (the environment's ``routes:`` table), and tables of
requests judged by status, content type, JSON entries or latency."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .. import evidence
from ..environment import ANONYMOUS, Environment, Objective, expand
from ..errors import Inconclusive, SuiteError
from ..http import Exchange
from ..request_spec import RequestSpec
from ._base import Send, asked, every, problems_first, statuses_text

#: a request of a table and the answer it got
Answer = tuple[RequestSpec, Exchange]


def _cell_who(who: str) -> str:
    return who if who == ANONYMOUS else f"'{who}'"


@dataclass(frozen=True)
class RouteAnswers:
    """The cells of the routes table (route, service, client, path, caller, expected codes), the answer of each
    cell sent (by index), the callers whose credentials were refused, each account's first probe cell, and the
    cells the environment's safety did not allow to send."""

    cells: list[tuple]
    seen: dict[int, Exchange]
    refused: set[str]
    probes: dict[str, int]
    unsent: list[tuple]
    sign_in_failures: dict[str, str]


def ask_routes(env: Environment, client_for: Callable[[str], Any],
               credentials_for: Callable[[str], Any], workers: int = 4) -> RouteAnswers:
    """Ask every route of the environment's ``routes`` table as every caller its row names. Each account is
    first tried on its first route that is closed to anonymous callers and should answer it 2xx: when that
    answers 401 its credentials are refused, which spares the target its other cells. The rest go out a few at
    a time."""
    __tracebackhide__ = True
    if not env.routes:
        raise Inconclusive(f"environment '{env.name}' has no 'routes:' table: nothing says who may call which route")
    callers = list(dict.fromkeys(who for route in env.routes for who in route.answers))
    headers, failures = {}, {}
    for who in callers:
        try:
            headers[who] = () if who == ANONYMOUS else tuple(credentials_for(who).headers)
        except AssertionError as exc:  # reported by the Then step, once for all the caller's cells
            failures[who] = str(exc).splitlines()[0]
    cells, unsent = [], []
    for route in env.routes:
        service = route.service or env.auth.service
        client = client_for(service)
        path = expand(env, route.path)
        for who, codes in route.answers.items():
            cell = (route, service, client, path, who, codes)
            (cells if route.method in client.allowed_methods else unsent).append(cell)
    if not cells:
        raise Inconclusive(f"no route of the 'routes:' table of environment '{env.name}' may be called there "
                           f"(safety allows only {', '.join(client_for(env.auth.service).allowed_methods)})")

    def ask(i: int) -> Exchange:
        route, _, client, path, who, _ = cells[i]
        return client.request(route.method, path, headers=headers[who], attach=False)

    def protected(route: Any) -> bool:
        return ANONYMOUS in route.answers and not any(200 <= c < 300 for c in route.answers[ANONYMOUS])

    probes = {}  # account -> its first cell that must answer it 2xx on a route closed to anonymous callers
    for i, (route, _, _, _, who, codes) in enumerate(cells):
        if who != ANONYMOUS and who not in probes and who not in failures and protected(route) and all(200 <= c < 300 for c in codes):
            probes[who] = i
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        seen = dict(zip(probes.values(), pool.map(ask, probes.values())))
        refused = {cells[i][4] for i, exchange in seen.items() if exchange.status == 401}
        rest = [i for i in range(len(cells)) if i not in seen and cells[i][4] not in refused | set(failures)]
        seen.update(zip(rest, pool.map(ask, rest)))
    return RouteAnswers(cells, seen, refused, probes, unsent, failures)


def routes_and_roles(answers: RouteAnswers) -> None:
    """Every cell of the routes table got the status the row gives its caller; the table of every cell is
    attached, and the exchange of every cell that differs; refused credentials are reported once."""
    __tracebackhide__ = True
    cells, seen, refused, probes, unsent = answers.cells, answers.seen, answers.refused, answers.probes, answers.unsent
    rows, problems = [], []
    problems += [f"could not sign in as '{who}' to call its routes: {failure}"
                 for who, failure in answers.sign_in_failures.items()]
    for i, (route, service, client, path, who, codes) in enumerate(cells):
        row = {"route": f"{route.method} {path}", "service": service, "caller": who, "expected": statuses_text(codes)}
        exchange = seen.get(i)
        if exchange is None:
            why = "its sign-in failed" if who in answers.sign_in_failures else "its credentials were refused"
            rows.append({**row, "seen": f"not sent: {why}", "ok": ""})
            continue
        ok = exchange.status in codes
        rows.append({**row, "seen": exchange.status, "ok": ok})
        if ok:
            continue
        problem = (f"expected {statuses_text(codes)} for {_cell_who(who)} {route.method} {path} "
                   f"(service '{service}'), got {exchange.summary(100)}")
        if who in refused and probes[who] == i:
            skipped = sum(1 for cell in cells if cell[4] == who) - 1
            problem += f"; its credentials are refused, so its {skipped} other cells were not sent"
        problems.append(problem)
        if len(problems) <= 10:
            evidence.text(f"{who}: {route.method} {path} -> {exchange.status}", exchange.as_text())
    for route, service, client, path, who, codes in unsent:
        rows.append({"route": f"{route.method} {path}", "service": service, "caller": who,
                     "expected": statuses_text(codes), "seen": "not sent: the environment allows only "
                     + ", ".join(client.allowed_methods), "ok": ""})
    problems_first("routes and roles", rows, problems, "route/caller cells")


def send_requests(send: Send, specs: Iterable[RequestSpec]) -> list[Answer]:
    """Send each request of a table (:mod:`postdeploy.request_spec`) in turn, as one identity; every answer is
    kept with its request, for the Then steps to judge."""
    return [(spec, send(spec.method, spec.path, **spec.options())) for spec in specs]


def statuses_as_listed(answers: Sequence[Answer]) -> None:
    """Each answer has the ``status`` its row lists (``200``, ``401|403``, ``2xx``); every answer is judged,
    then every difference reported."""
    __tracebackhide__ = True
    _needs(answers, "status", lambda spec: spec.status)
    rows, problems = [], []
    for spec, exchange in answers:
        ok = spec.status.allows(exchange.status)
        rows.append({"request": spec.label, "expected": spec.status.text, "seen": exchange.status, "ok": ok})
        if not ok:
            problems.append(f"{exchange.where}: expected {spec.status}, got {exchange.summary(120)}")
    every("requests", rows, problems, "every request answered with its listed status")


def _needs(answers: Sequence[Answer], column: str, value: Callable[[RequestSpec], Any]) -> None:
    if not answers:
        raise SuiteError("no requests were sent: a 'When I send these requests ...' step must come first")
    missing = [spec.label for spec, _ in answers if value(spec) is None]
    if missing:
        raise SuiteError(f"this step judges each answer by the '{column}' column of its request, which "
                         f"{', '.join(missing)} lacks")


def content_type_problem(exchange: Exchange, expected: str) -> str | None:
    """The media type of an answer (parameters such as ``charset`` aside) is ``expected``."""
    seen = exchange.headers.get("content-type")
    media = (seen or "").split(";", 1)[0].strip().lower()
    if media == expected.strip().lower():
        return None
    return f"expected content type {expected} from {asked(exchange)}, got {seen or 'none'} (status {exchange.status})"


def content_types_as_listed(answers: Sequence[Answer]) -> None:
    """Each answer has the media type of its row's ``content type``, whatever the status
    (:func:`content_type_problem`)."""
    __tracebackhide__ = True
    _needs(answers, "content type", lambda spec: spec.content_type)
    rows, problems = [], []
    for spec, exchange in answers:
        problem = content_type_problem(exchange, spec.content_type)
        rows.append({"request": spec.label, "expected": spec.content_type,
                     "seen": exchange.headers.get("content-type", "(none)"), "status": exchange.status,
                     "ok": problem is None})
        problems += [problem] if problem else []
    problems_first("content types", rows, problems, "requests")


def json_entries(document: Any) -> int:
    """How many values a JSON document holds, nested ones counted one by one (``{}`` and ``[]``: 0)."""
    if isinstance(document, dict):
        return sum(json_entries(v) for v in document.values())
    if isinstance(document, list):
        return sum(json_entries(v) for v in document)
    return 1


def entries_problem(exchange: Exchange, at_least: int) -> str | None:
    """The answer is JSON holding at least ``at_least`` values (an empty ``{}`` holds none)."""
    if not 200 <= exchange.status < 300:
        return f"expected JSON with at least {at_least} entries at {asked(exchange)}, got {exchange.summary(80)}"
    try:
        count = json_entries(exchange.json())
    except ValueError:
        return f"expected JSON with at least {at_least} entries at {asked(exchange)}, got {exchange.summary(80)}"
    if count < at_least:
        return f"expected JSON with at least {at_least} entries at {asked(exchange)}, got {count}: {exchange.summary(80)}"
    return None


def entries_at_least(answers: Sequence[Answer], at_least: int) -> None:
    """Each answer is 2xx JSON holding at least ``at_least`` values (:func:`entries_problem`): a translation
    file or a configuration that loads as ``{}`` fails."""
    __tracebackhide__ = True
    _needs(answers, "path", lambda spec: spec.path)
    rows, problems = [], []
    for spec, exchange in answers:
        problem = entries_problem(exchange, at_least)
        try:
            entries = json_entries(exchange.json())
        except ValueError:
            entries = "not JSON"
        rows.append({"request": spec.label, "status": exchange.status, "entries": entries, "ok": problem is None})
        problems += [problem] if problem else []
    problems_first("JSON entries", rows, problems, "requests")


def latency_problem(exchange: Exchange, objective: str, limit_ms: float, spec: Objective | None = None) -> str | None:
    """A successful answer within the objective (an error answer is not a measurement of the route).

    ``spec`` (``env.objective_spec``) states the limit in the objective's own unit (``5 s``) and, when it has
    a yellow band, the level the time reached; the answer must be green."""
    if exchange.status >= 400:
        return (f"expected a successful answer to time against the '{objective}' objective at {asked(exchange)}, "
                f"got {exchange.summary(80)}")
    if exchange.elapsed_ms >= limit_ms:
        limit = spec.show(spec.green) if spec is not None else f"{limit_ms:.0f} ms"
        note = spec.latency_note(exchange.elapsed_ms) if spec is not None else ""
        return (f"expected {asked(exchange)} within the '{objective}' objective of {limit}, "
                f"got {exchange.elapsed_ms:.0f} ms (status {exchange.status}){note}")
    return None


def latencies(answers: Sequence[Answer], objective: str, spec: Objective) -> None:
    """Each answer succeeded below the green limit of an objective of the environment (``env.objective_spec``),
    so real routes are measured, not only health."""
    __tracebackhide__ = True
    _needs(answers, "path", lambda request: request.path)
    limit = spec.milliseconds(name=objective)
    rows, problems = [], []
    for request, exchange in answers:
        problem = latency_problem(exchange, objective, limit, spec)
        rows.append({"request": request.label, "status": exchange.status,
                     "ms": round(exchange.elapsed_ms), "objective ms": limit, "ok": problem is None})
        problems += [problem] if problem else []
    problems_first(f"latency against '{objective}'", rows, problems, "requests")
