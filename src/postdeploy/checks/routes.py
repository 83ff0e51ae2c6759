"""The release's routes: who may call which route (the environment's ``routes:`` table), and tables of
requests judged by status, content type, JSON entries or latency."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import evidence
from ..environment import ANONYMOUS, Environment, Objective, expand
from ..errors import Inconclusive
from ..http import Exchange
from ._base import Send, asked, every, problems_first, row_body, statuses_text


def _cell_who(who: str) -> str:
    return who if who == ANONYMOUS else f"'{who}'"


def routes_and_roles(env: Environment, client_for: Callable[[str], Any],
                     credentials_for: Callable[[str], Any], workers: int = 4) -> None:
    """Ask every route of the environment's ``routes`` table as every caller its row names, and
    expect the status the row gives that caller. Each account is first tried on its first route that is
    closed to anonymous callers and should answer it 2xx: when that answers 401 its credentials are
    refused, which is reported once and spares the target its other cells. The rest go out a few at a time; the table of every cell is
    attached, and the exchange of every cell that differs."""
    __tracebackhide__ = True
    if not env.routes:
        raise Inconclusive(f"environment '{env.name}' has no 'routes:' table: nothing says who may call which route")
    callers = list(dict.fromkeys(who for route in env.routes for who in route.answers))
    headers = {who: () if who == ANONYMOUS else tuple(credentials_for(who).headers) for who in callers}
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
        if who != ANONYMOUS and who not in probes and protected(route) and all(200 <= c < 300 for c in codes):
            probes[who] = i
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        seen = dict(zip(probes.values(), pool.map(ask, probes.values())))
        refused = {cells[i][4] for i, exchange in seen.items() if exchange.status == 401}
        rest = [i for i in range(len(cells)) if i not in seen and cells[i][4] not in refused]
        seen.update(zip(rest, pool.map(ask, rest)))
    rows, problems = [], []
    for i, (route, service, client, path, who, codes) in enumerate(cells):
        row = {"route": f"{route.method} {path}", "service": service, "caller": who, "expected": statuses_text(codes)}
        exchange = seen.get(i)
        if exchange is None:
            rows.append({**row, "seen": f"not sent: the credentials of '{who}' were refused", "ok": ""})
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


def requests_answer(send: Send, requests: Iterable[Mapping[str, str]]) -> None:
    """Send each request (``method``, ``path``, optional JSON ``body``) and expect its ``status``
    (``401|403`` for either); every request is sent, then every difference reported."""
    __tracebackhide__ = True
    rows, problems = [], []
    for request in requests:
        content, headers = row_body(request)
        exchange = send(request["method"], request["path"], content=content, headers=headers)
        expected = {int(s) for s in request["status"].split("|")}
        ok = exchange.status in expected
        rows.append({"request": f"{request['method']} {request['path']}", "expected": request["status"],
                     "seen": exchange.status, "ok": ok})
        if not ok:
            problems.append(f"{exchange.where}: expected {request['status']}, got {exchange.summary(120)}")
    every("requests", rows, problems, "every request answered with its listed status")


def content_type_problem(exchange: Exchange, expected: str) -> str | None:
    """The media type of an answer (parameters such as ``charset`` aside) is ``expected``."""
    seen = exchange.headers.get("content-type")
    media = (seen or "").split(";", 1)[0].strip().lower()
    if media == expected.strip().lower():
        return None
    return f"expected content type {expected} from {asked(exchange)}, got {seen or 'none'} (status {exchange.status})"


def content_types(send: Send, requests: Iterable[Mapping[str, str]]) -> None:
    """Each request (``method``, default GET, and ``path``) answers with the media type of its
    ``content type``, whatever the status (:func:`content_type_problem`)."""
    __tracebackhide__ = True
    rows, problems = [], []
    for request in requests:
        exchange = send(request.get("method") or "GET", request["path"])
        problem = content_type_problem(exchange, request["content type"])
        rows.append({"request": f"{exchange.method} {request['path']}", "expected": request["content type"],
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


def entries_at_least(send: Send, requests: Iterable[Mapping[str, str]], at_least: int) -> None:
    """Each request (``method``, default GET, and ``path``) answers 2xx JSON holding at least ``at_least``
    values (:func:`entries_problem`): a translation file or a configuration that loads as ``{}`` fails."""
    __tracebackhide__ = True
    rows, problems = [], []
    for request in requests:
        exchange = send(request.get("method") or "GET", request["path"])
        problem = entries_problem(exchange, at_least)
        try:
            entries = json_entries(exchange.json())
        except ValueError:
            entries = "not JSON"
        rows.append({"request": f"{exchange.method} {request['path']}", "status": exchange.status, "entries": entries,
                     "ok": problem is None})
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


def latencies(send: Send, requests: Iterable[Mapping[str, str]], objective: str, spec: Objective) -> None:
    """Time each request (``method``, default GET, and ``path``): each must succeed below the green limit of
    an objective of the environment (``env.objective_spec``), so real routes are measured, not only health."""
    __tracebackhide__ = True
    limit = spec.milliseconds(name=objective)
    rows, problems = [], []
    for request in requests:
        exchange = send(request.get("method") or "GET", request["path"])
        problem = latency_problem(exchange, objective, limit, spec)
        rows.append({"request": f"{exchange.method} {request['path']}", "status": exchange.status,
                     "ms": round(exchange.elapsed_ms), "objective ms": limit, "ok": problem is None})
        problems += [problem] if problem else []
    problems_first(f"latency against '{objective}'", rows, problems, "requests")
