"""Named checks. Each says, in its first line, what was expected, what was seen and where.

Checks raise :class:`~postdeploy.errors.CheckFailed` (an ``AssertionError``: a target defect)
and hide their own frames from tracebacks.
"""

from __future__ import annotations

import json as _json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from . import evidence, metrics, paths
from .environment import ANONYMOUS, Environment, HealthSpec, Objective, expand
from .errors import CheckFailed, Inconclusive
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
    """A table-driven check: attach the table of everything checked, then fail once, naming every problem.

    The first line says what was expected and the first problem seen; every problem follows on a line of its own.
    """
    __tracebackhide__ = True
    evidence.table(name, rows)
    if problems:
        first = f"expected {expectation}; {len(problems)} of {len(rows)} did not, first: {problems[0]}"
        fail("\n".join([first, *(f"  - {p}" for p in problems)]) if len(problems) > 1 else first)


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


def prometheus_metrics(exchange: Exchange) -> list[metrics.Metric]:
    """The metric families of a Prometheus answer, with their samples (fails if it is not Prometheus exposition)."""
    __tracebackhide__ = True
    content_type = exchange.headers.get("content-type", "")
    try:
        families = metrics.parse(exchange.text, content_type)
    except metrics.MalformedExposition as exc:
        line = f"the line {exc.line[:80]!r}" if exc.line is not None else "a text"
        fail(f"expected Prometheus text exposition, got {line} from {exchange.where} ({exc.reason})")
    if not content_type.startswith(("text/plain", metrics.OPENMETRICS)) or not families:
        fail(f"expected Prometheus text (text/plain with samples), got {content_type or 'no content type'} "
             f"{exchange.summary(120)} from {exchange.where}")
    return families


def prometheus_exposes(exchange: Exchange, wanted: Iterable[str]) -> list[metrics.Metric]:
    """The answer is Prometheus exposition with every metric of ``wanted`` (``_total``, ``_count``, ``_sum``,
    ``_bucket``, ``_created`` suffixes match); returns its families."""
    __tracebackhide__ = True
    families = prometheus_metrics(exchange)
    wanted = list(wanted)
    missing = [name for name in wanted if not metrics.exposes(families, name)]
    evidence.table("metrics", [{"metric": name, "exposed": name not in missing} for name in wanted])
    if missing:
        fail(f"expected the metrics {', '.join(missing)} in the Prometheus text from {exchange.where}; "
             f"it exposes {len(families)} others")
    return families


def parse_literal(text: str) -> Any:
    """A Gherkin value: JSON when it parses (``"ok"``, ``3``, ``true``, ``null``), else the text."""
    try:
        return _json.loads(text)
    except ValueError:
        return text


def _j(value: Any) -> str:
    return _json.dumps(value, ensure_ascii=False, default=str)


# ---- checks of a release: routes and roles, identity, content types, caching, latency, versions ----

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


def statuses_text(codes: Iterable[int]) -> str:
    return " or ".join(map(str, codes))


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


def identity_problems(exchange: Exchange, account: str, expected: dict[str, tuple[str, str]]) -> list[str]:
    """What is wrong with an account's "who am I" answer: ``expected`` maps a field (``username``,
    ``role``) to (its JSON path, the value the account must see there); usernames compare case-blind."""
    where = f"{exchange.method} {_path_of(exchange.url)} (service '{exchange.service}')"
    if exchange.status != 200:
        return [f"expected 200 for '{account}' at {where}, got {exchange.summary(120)}"]
    try:
        document = exchange.json()
    except ValueError:
        return [f"expected a JSON answer for '{account}' at {where}, got {exchange.summary(120)}"]
    problems = []
    for field, (path, want) in expected.items():
        try:
            seen = paths.resolve(document, path)
        except paths.PathNotFound as exc:
            problems.append(f"expected {field} {want!r} of '{account}' at '{path}' of {where}, but {exc.reason}")
            continue
        same = str(seen).casefold() == want.casefold() if field == "username" else seen == want
        if not same:
            problems.append(f"expected {field} {want!r} of '{account}' at '{path}' of {where}, got {_j(seen)}")
    return problems


def content_type_problem(exchange: Exchange, expected: str) -> str | None:
    """The media type of an answer (parameters such as ``charset`` aside) is ``expected``."""
    seen = exchange.headers.get("content-type")
    media = (seen or "").split(";", 1)[0].strip().lower()
    if media == expected.strip().lower():
        return None
    return (f"expected content type {expected} from {exchange.method} {_path_of(exchange.url)} "
            f"(service '{exchange.service}'), got {seen or 'none'} (status {exchange.status})")


_MAX_AGE = re.compile(r"\b(?:max-age|s-maxage)\s*=\s*\"?(\d+)", re.IGNORECASE)


def page_cache_problem(exchange: Exchange, max_age_s: int) -> str | None:
    """A page (HTML) must be revalidated: no ``immutable``, no ``max-age``/``s-maxage`` beyond ``max_age_s``."""
    where = f"{exchange.method} {_path_of(exchange.url)} (service '{exchange.service}')"
    if not 200 <= exchange.status < 300:
        return f"expected a page (2xx) at {where} to judge its caching, got {exchange.summary(80)}"
    cache = exchange.headers.get("cache-control", "")
    ages = [int(m) for m in _MAX_AGE.findall(cache)]
    if "immutable" in cache.lower() or any(age > max_age_s for age in ages):
        return (f"expected a page cached at most {max_age_s} s and never immutable at {where}, "
                f"got Cache-Control {cache!r}")
    return None


def json_entries(document: Any) -> int:
    """How many values a JSON document holds, nested ones counted one by one (``{}`` and ``[]``: 0)."""
    if isinstance(document, dict):
        return sum(json_entries(v) for v in document.values())
    if isinstance(document, list):
        return sum(json_entries(v) for v in document)
    return 1


def entries_problem(exchange: Exchange, at_least: int) -> str | None:
    """The answer is JSON holding at least ``at_least`` values (an empty ``{}`` holds none)."""
    where = f"{exchange.method} {_path_of(exchange.url)} (service '{exchange.service}')"
    if not 200 <= exchange.status < 300:
        return f"expected JSON with at least {at_least} entries at {where}, got {exchange.summary(80)}"
    try:
        count = json_entries(exchange.json())
    except ValueError:
        return f"expected JSON with at least {at_least} entries at {where}, got {exchange.summary(80)}"
    if count < at_least:
        return f"expected JSON with at least {at_least} entries at {where}, got {count}: {exchange.summary(80)}"
    return None


def latency_problem(exchange: Exchange, objective: str, limit_ms: float, spec: Objective | None = None) -> str | None:
    """A successful answer within the objective (an error answer is not a measurement of the route).

    ``spec`` (``env.objective_spec``) states the limit in the objective's own unit (``5 s``) and, when it has
    a yellow band, the level the time reached; the answer must be green."""
    where = f"{exchange.method} {_path_of(exchange.url)} (service '{exchange.service}')"
    if exchange.status >= 400:
        return (f"expected a successful answer to time against the '{objective}' objective at {where}, "
                f"got {exchange.summary(80)}")
    if exchange.elapsed_ms >= limit_ms:
        limit = spec.show(spec.green) if spec is not None else f"{limit_ms:.0f} ms"
        note = spec.latency_note(exchange.elapsed_ms) if spec is not None else ""
        return (f"expected {where} within the '{objective}' objective of {limit}, "
                f"got {exchange.elapsed_ms:.0f} ms (status {exchange.status}){note}")
    return None


RELEASE_VARIABLE = "POSTDEPLOY_RELEASE_VERSION"


def expected_release(env: Environment, variables: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The version that should be live and where it comes from: ``$POSTDEPLOY_RELEASE_VERSION`` (what a
    pipeline knows; ``--release`` sets it too), else ``release.version`` of the environment file."""
    __tracebackhide__ = True
    value = (os.environ if variables is None else variables).get(RELEASE_VARIABLE, "").strip()
    if value:
        return value, f"${RELEASE_VARIABLE}"
    release = env.section("release")
    if release.version:
        return str(release.version), "release.version"
    raise Inconclusive(f"no expected release: set release.version in environment '{env.name}' or "
                       f"${RELEASE_VARIABLE} (a pipeline knows the version it deploys)")


def reported_version(exchange: Exchange, source: Any) -> str:
    """The version a service reports: at a JSON path of its answer, in a header, or the whole body."""
    __tracebackhide__ = True
    where = f"{exchange.method} {_path_of(exchange.url)} (service '{exchange.service}')"
    if exchange.status != 200:
        fail(f"expected service '{exchange.service}' to report its version at {where}, got {exchange.summary(120)}")
    if source.header:
        value = exchange.headers.get(source.header)
        if value is None:
            fail(f"expected service '{exchange.service}' to report its version in the header "
                 f"'{source.header}' of {where}, but it is absent")
        return value.strip()
    if source.json_path:
        return str(json_value(exchange, source.json_path))
    return exchange.text.strip()


def version_problem(service: str, seen: str, expected: str, origin: str, exchange: Exchange, source: Any) -> str | None:
    if seen.strip().lstrip("vV") == expected.strip().lstrip("vV"):
        return None
    at = f"header '{source.header}'" if source.header else f"'{source.json_path}'" if source.json_path else "the body"
    return (f"expected release {expected} ({origin}) on service '{service}', got {seen[:60]!r} at {at} of "
            f"{exchange.method} {_path_of(exchange.url)}")


def _path_of(url: str) -> str:
    return urlsplit(url).path or "/"
