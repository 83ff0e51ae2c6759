"""HTTP steps: requests, statuses, JSON, headers, timing, CORS, health, sign-in.

Generic: any web system can be verified with these and an environment file. Every string argument of a step
(its quoted values, table cells, doc string) may hold ``{{name}}`` placeholders: the plugin fills them from the
environment (``values:`` and more) before the step runs (``postdeploy.plugin.StepArguments``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from postdeploy import checks, evidence
from postdeploy.auth import Credentials, Sessions
from postdeploy.environment import Environment, expand
from postdeploy.errors import Inconclusive, SuiteError
from postdeploy.http import Exchange


def _headers(credentials: Credentials | None, extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    return [*(credentials.headers if credentials else ()), *(extra or [])]


def _send(service_client, credentials, method: str, service: str, path: str, **kwargs: Any) -> Exchange:
    client = service_client(service)
    return client.request(method, path, headers=_headers(credentials, kwargs.pop("headers", None)), **kwargs)


def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = datatable
    return [dict(zip([h.strip().lower() for h in header], (c.strip() for c in row))) for row in rows]


@pytest.fixture
def response() -> Exchange:
    """The last response; a When step that sends a request replaces it."""
    raise SuiteError("this step checks the last response, but no request was sent yet: a 'When I send ...' step "
                     "must come before it in the scenario (the feature is wrong, not the target)")


# ---- who is asking ----------------------------------------------------------------------

@given("I am anonymous", target_fixture="credentials")
def _() -> None:
    """Send the next requests without credentials.

    Example: Given I am anonymous
    """
    return None


@given(parsers.parse('I am signed in as "{account}"'), target_fixture="credentials")
def _(sessions: Sessions, account: str) -> Credentials:
    """Sign in as an account of the environment (``accounts:``), the way ``auth:`` says; later requests carry its credentials.

    Example: Given I am signed in as "admin"
    """
    return sessions.credentials(account)


# ---- requests ----------------------------------------------------------------------------

@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service'), target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str) -> Exchange:
    """Send a request to a service of the environment, as the current identity.

    Example: When I send a GET request to "/api/v1/users/me" on the "api" service
    """
    return _send(service_client, credentials, method, service, path)


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the JSON body:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, docstring: str) -> Exchange:
    """Send a JSON body (a docstring; ``{{name}}`` placeholders are filled from the environment).

    Example: When I send a POST request to "/api/v1/orders" on the "api" service with the JSON body:
    """
    return _send(service_client, credentials, method, service, path, json=json.loads(docstring))


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the headers:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a request with extra headers, from a table with the columns ``name`` and ``value``.

    Example: When I send a GET request to "/api/v1/users/me" on the "api" service with the headers:
    """
    headers = [(row["name"], row["value"]) for row in _table(datatable)]
    return _send(service_client, credentials, method, service, path, headers=headers)


@when(parsers.parse('I send a CORS preflight for {method:w} "{path}" to the "{service}" service from the origin "{origin}"'),
      target_fixture="response")
def _(service_client, method: str, path: str, service: str, origin: str) -> Exchange:
    """Send the browser's CORS preflight (OPTIONS with Origin and Access-Control-Request-Method).

    Example: When I send a CORS preflight for GET "/api/v1/users/me" to the "api" service from the origin "https://evil.example"
    """
    return _preflight(service_client(service), path, method, origin)


def _preflight(client, path: str, method: str, origin: str) -> Exchange:
    return client.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method.upper(),
        "Access-Control-Request-Headers": "authorization,content-type"})


# ---- status and body ---------------------------------------------------------------------

@then(parsers.parse("the response status is {status:d}"))
def _(response: Exchange, status: int) -> None:
    """The last response has this status.

    Example: Then the response status is 200
    """
    checks.status(response, status)


@then(parsers.parse("the response status is one of {statuses}"))
def _(response: Exchange, statuses: str) -> None:
    """The last response has one of these statuses (comma separated).

    Example: Then the response status is one of 200, 302
    """
    checks.status(response, {int(s) for s in re.split(r"[,\s]+(?:or\s+)?", statuses) if s})


@then(parsers.parse("the response status is not {status:d}"))
def _(response: Exchange, status: int) -> None:
    """The last response does not have this status.

    Example: Then the response status is not 503
    """
    checks.status_not(response, status)


@then("the response is JSON")
def _(response: Exchange) -> None:
    """The last response body parses as JSON.

    Example: Then the response is JSON
    """
    checks.json_body(response)


@then(parsers.parse('the JSON at "{path}" is {value}'))
def _(response: Exchange, path: str, value: str) -> None:
    """A value in the JSON body equals a JSON literal (``"ok"``, ``3``, ``true``, ``null``); the path is RFC 9535 JSONPath (``$.items[?@.status == 'sent'].id``) or the short form ``checks.database``, and a query that can match several values compares the list of its matches (``[1, 3]``).

    Example: Then the JSON at "checks.database" is "ok"
    """
    checks.json_equals(response, path, checks.parse_literal(value))


@then(parsers.parse('the JSON at "{path}" exists'))
def _(response: Exchange, path: str) -> None:
    """The JSON body has a value at this path (RFC 9535 JSONPath or the short dotted form); a filter or wildcard must match at least one value.

    Example: Then the JSON at "user.role" exists
    """
    checks.json_value(response, path)


@then(parsers.parse('the response body contains "{text}"'))
def _(response: Exchange, text: str) -> None:
    """The body contains this text.

    Example: Then the response body contains "notification_email_sent"
    """
    if text not in response.text:
        checks.fail(f"expected the body to contain {text!r}, got {response.summary()} from {response.where}")


@then(parsers.parse('the response body does not contain "{text}"'))
def _(response: Exchange, text: str) -> None:
    """The body does not contain this text.

    Example: Then the response body does not contain "Traceback"
    """
    if text in response.text:
        checks.fail(f"expected the body not to contain {text!r}, but it does: {response.summary()} from {response.where}")


@then("the response does not reveal a stack trace")
def _(response: Exchange) -> None:
    """The body carries no stack trace (Python, Java, Node.js, Go, .NET, PHP, Ruby).

    Example: Then the response does not reveal a stack trace
    """
    checks.no_stack_trace(response)


# ---- headers -----------------------------------------------------------------------------

@then(parsers.parse('the response header "{name}" is present'))
def _(response: Exchange, name: str) -> None:
    """The header is present.

    Example: Then the response header "Retry-After" is present
    """
    checks.header_value(response, name)


@then(parsers.parse('the response header "{name}" is absent'))
def _(response: Exchange, name: str) -> None:
    """The header is absent.

    Example: Then the response header "Retry-After" is absent
    """
    checks.header_absent(response, name)


@then(parsers.parse('the response header "{name}" is "{value}"'))
def _(response: Exchange, name: str, value: str) -> None:
    """The header has exactly this value.

    Example: Then the response header "X-Frame-Options" is "DENY"
    """
    checks.header_matches(response, name, "^" + re.escape(value) + "$")


@then(parsers.parse('the response header "{name}" matches "{pattern}"'))
def _(response: Exchange, name: str, pattern: str) -> None:
    """The header matches a regular expression.

    Example: Then the response header "Strict-Transport-Security" matches "max-age=\\d+"
    """
    checks.header_matches(response, name, pattern)


@then("the response headers match:")
def _(response: Exchange, datatable) -> None:
    """Every header of the table (columns ``header`` and ``pattern``) is present and matches; all are checked, then all problems reported.

    Example: Then the response headers match:
    """
    rows = _table(datatable)
    problems, seen = [], []
    for row in rows:
        value = response.headers.get(row["header"])
        ok = value is not None and re.search(row["pattern"], value) is not None
        seen.append({"header": row["header"], "expected": row["pattern"], "seen": value or "(absent)", "ok": ok})
        if not ok:
            problems.append(f"{row['header']}: expected /{row['pattern']}/, got {value!r}")
    checks.every("headers", seen, problems, f"every header as listed in the response to {response.where}")


# ---- timing ------------------------------------------------------------------------------

@then(parsers.parse("the response time is under {limit:d} ms"))
def _(response: Exchange, limit: int) -> None:
    """The last response arrived within this many milliseconds.

    Example: Then the response time is under 500 ms
    """
    if response.elapsed_ms >= limit:
        checks.fail(f"expected a response within {limit} ms, got {response.elapsed_ms:.0f} ms from {response.where}")


@then(parsers.parse('the response time is within the "{objective}" objective'))
def _(env: Environment, response: Exchange, objective: str) -> None:
    """The last response arrived within an objective of the environment (``objectives:``, in ms or s): below its green limit.

    Example: Then the response time is within the "api_latency_ms" objective
    """
    spec = env.objective_spec(objective)
    limit = spec.milliseconds(name=objective)
    if response.elapsed_ms >= limit:
        checks.fail(f"expected a response within the '{objective}' objective of {spec.show(spec.green)}, "
                    f"got {response.elapsed_ms:.0f} ms from {response.where}{spec.latency_note(response.elapsed_ms)}")


# ---- table-driven checks -----------------------------------------------------------------

@then("every service answers its health check as the environment expects")
def _(env: Environment, service_client) -> None:
    """Ask every service of the environment its health path and judge the answer by its ``health:`` expectation.

    Example: Then every service answers its health check as the environment expects
    """
    rows, problems = [], []
    for name, service in env.services.items():
        client = service_client(name)
        exchange = client.request("GET", service.health.path, follow_redirects=service.health.follow_redirects)
        found = checks.health_problems(exchange, service.health)
        rows.append({"service": name, "url": exchange.url, "status": exchange.status,
                     "ms": round(exchange.elapsed_ms), "verdict": "healthy" if not found else "; ".join(found)})
        if found:
            problems.append(f"'{name}' at {exchange.url}: {'; '.join(found)}")
    checks.every("health of every service", rows, problems, "every service healthy")


@then(parsers.parse('every account can sign in and "{path}" on the "{service}" service accepts its credentials'))
def _(env: Environment, sessions: Sessions, service_client, path: str, service: str) -> None:
    """Sign in as every account of the environment, then call a protected endpoint with each; all must answer 2xx.

    Example: Then every account can sign in and "/api/v1/users/me" on the "api" service accepts its credentials
    """
    rows, problems = [], []
    for name in env.accounts:
        try:
            creds = sessions.credentials(name, fresh=True)
        except AssertionError as exc:
            rows.append({"account": name, "sign-in": "failed", "accepted": ""})
            problems.append(str(exc))
            continue
        exchange = service_client(service).request("GET", path, headers=list(creds.headers))
        accepted = 200 <= exchange.status < 300
        rows.append({"account": name, "sign-in": "ok", "accepted": f"{exchange.status}"})
        if not accepted:
            problems.append(f"'{name}' signed in but {exchange.where} answered {exchange.summary()}")
    checks.every("accounts", rows, problems, "every account to sign in and be accepted")


@then(parsers.parse('these requests to the "{service}" service answer:'))
def _(service_client, credentials, service: str, datatable) -> None:
    """Send each request of the table (``method``, ``path``, optional ``body``) as the current identity and expect its ``status`` (``401|403`` for either).

    Example: Then these requests to the "api" service answer:
    """
    rows, problems = [], []
    for row in _table(datatable):
        body = row.get("body") or None
        exchange = _send(service_client, credentials, row["method"], service, row["path"],
                         content=body.encode() if body else None,
                         headers=[("Content-Type", "application/json")] if body else None)
        expected = {int(s) for s in row["status"].split("|")}
        ok = exchange.status in expected
        rows.append({"request": f"{row['method']} {row['path']}", "expected": row["status"], "seen": exchange.status, "ok": ok})
        if not ok:
            problems.append(f"{exchange.where}: expected {row['status']}, got {exchange.summary(120)}")
    checks.every("requests", rows, problems, "every request answered with its listed status")


@then(parsers.parse('these requests to the "{service}" service answer without revealing internals:'))
def _(service_client, credentials, service: str, datatable) -> None:
    """Provoke errors (table: ``method``, ``path``, optional ``body``, ``header``) and check no answer carries a stack trace.

    Example: Then these requests to the "api" service answer without revealing internals:
    """
    rows, problems = [], []
    for row in _table(datatable):
        body, header = row.get("body") or None, row.get("header") or None
        extra = [("Content-Type", "application/json")] if body else []
        if header:
            name, _, value = header.partition(":")
            extra.append((name.strip(), value.strip()))
        exchange = _send(service_client, credentials, row["method"], service, row["path"],
                         content=body.encode() if body else None, headers=extra)
        try:
            checks.no_stack_trace(exchange)
            verdict = "clean"
        except AssertionError as exc:
            verdict = "reveals internals"
            problems.append(str(exc))
        rows.append({"request": f"{row['method']} {row['path']}", "status": exchange.status, "verdict": verdict})
    checks.every("error answers", rows, problems, "error answers without internals")


# ---- configuration exposure --------------------------------------------------------------

@then(parsers.parse('API documentation on the "{service}" service is exposed as the environment expects'))
def _(env: Environment, service_client, service: str) -> None:
    """With ``expect.api_docs: disabled``, none of ``expect.docs_paths`` may answer 200; with ``enabled``, one must; ``any`` skips.

    Example: Then API documentation on the "api" service is exposed as the environment expects
    """
    policy = env.expect.api_docs
    if policy == "any":
        pytest.skip(f"not applicable: environment '{env.name}' does not constrain API documentation (expect.api_docs: any)")
    client = service_client(service)
    rows = []
    for path in env.expect.docs_paths:
        exchange = client.request("GET", path, attach=False)
        rows.append({"path": path, "status": exchange.status, "content-type": exchange.headers.get("content-type", "")})
    evidence.table("documentation paths", rows)
    exposed = [r["path"] for r in rows if r["status"] == 200]
    if policy == "disabled" and exposed:
        checks.fail(f"expected API documentation disabled on '{service}' (expect.api_docs: disabled), "
                    f"but {', '.join(exposed)} answer 200 at {client.base_url}")
    if policy == "enabled" and not exposed:
        checks.fail(f"expected API documentation on '{service}' (expect.api_docs: enabled), none of "
                    f"{', '.join(env.expect.docs_paths)} answers 200 at {client.base_url}")


@then(parsers.parse('the "{service}" service allows CORS on "{path}" from every origin the environment allows'))
def _(env: Environment, service_client, service: str, path: str) -> None:
    """Preflight from each of ``expect.cors.allowed_origins``: each must be allowed (echoed, with credentials if expected).

    Example: Then the "api" service allows CORS on "/api/v1/users/me" from every origin the environment allows
    """
    origins = env.expect.cors.allowed_origins
    if not origins:
        raise Inconclusive(f"inconclusive: environment '{env.name}' lists no expect.cors.allowed_origins, so the "
                           "allowed origins cannot be checked; list them in its file")
    client = service_client(service)
    rows, problems = [], []
    for origin in origins:
        exchange = _preflight(client, path, "GET", origin)
        allowed = exchange.headers.get("access-control-allow-origin")
        creds = exchange.headers.get("access-control-allow-credentials")
        ok = allowed == origin and (not env.expect.cors.credentials or creds == "true")
        rows.append({"origin": origin, "allow-origin": allowed or "(absent)", "allow-credentials": creds or "(absent)", "ok": ok})
        if not ok:
            problems.append(f"origin {origin}: Access-Control-Allow-Origin {allowed!r}, Allow-Credentials {creds!r}")
    checks.every("CORS for allowed origins", rows, problems, f"CORS to allow each configured origin on {client.base_url}{path}")


@then(parsers.parse('CORS does not allow the origin "{origin}"'))
def _(response: Exchange, origin: str) -> None:
    """The last (preflight) response does not let this origin in: no matching or wildcard Access-Control-Allow-Origin.

    Example: Then CORS does not allow the origin "https://evil.example"
    """
    allowed = response.headers.get("access-control-allow-origin")
    if allowed in (origin, "*"):
        checks.fail(f"expected the origin {origin} to be refused, got Access-Control-Allow-Origin {allowed!r} from {response.where}")


@then("CORS does not combine a wildcard origin with credentials")
def _(response: Exchange) -> None:
    """``Access-Control-Allow-Origin: *`` never appears together with ``Access-Control-Allow-Credentials: true``.

    Example: Then CORS does not combine a wildcard origin with credentials
    """
    allowed = response.headers.get("access-control-allow-origin")
    creds = response.headers.get("access-control-allow-credentials")
    if allowed == "*" and (creds or "").lower() == "true":
        checks.fail(f"expected no wildcard origin with credentials, got Access-Control-Allow-Origin '*' and "
                    f"Access-Control-Allow-Credentials 'true' from {response.where}")


# ---- metrics -----------------------------------------------------------------------------

@then("the response is Prometheus text exposing the metrics:")
def _(response: Exchange, datatable) -> None:
    """The body is Prometheus text exposition and has every metric family of the table (column ``metric``; ``_total`` etc. suffixes match).

    Example: Then the response is Prometheus text exposing the metrics:
    """
    checks.prometheus_exposes(response, [row["metric"] for row in _table(datatable)])


# ---- static assets -----------------------------------------------------------------------

_ASSET = re.compile(r"""(?:src|href)=["']([^"']+\.(?:js|css|woff2?|png|svg|ico))["']""", re.I)


@when(parsers.parse('I fetch the static assets referenced by "{path}" on the "{service}" service'), target_fixture="assets")
def _(service_client, path: str, service: str) -> list[Exchange]:
    """Load a page and every script, style sheet, font and image it references from the same service.

    Example: When I fetch the static assets referenced by "/login" on the "frontend" service
    """
    client = service_client(service)
    page = client.request("GET", path, follow_redirects=True)
    checks.status(page, 200)
    urls = sorted({u for u in _ASSET.findall(page.text) if not u.startswith(("http://", "https://", "//"))})
    if not urls:
        checks.fail(f"expected {page.where} to reference static assets, found none")
    return [client.request("GET", u, attach=False) for u in urls]


@then(parsers.parse("every asset answers 200 with a Cache-Control max-age of at least {seconds:d} seconds"))
def _(assets: list[Exchange], seconds: int) -> None:
    """Each fetched asset is served and cacheable for at least this long (and not ``no-store``/``no-cache``).

    Example: Then every asset answers 200 with a Cache-Control max-age of at least 86400 seconds
    """
    rows, problems = [], []
    for asset in assets:
        cache = asset.headers.get("cache-control", "")
        match = re.search(r"max-age=(\d+)", cache)
        ok = asset.status == 200 and match is not None and int(match.group(1)) >= seconds and "no-store" not in cache and "no-cache" not in cache
        rows.append({"asset": asset.url, "status": asset.status, "cache-control": cache or "(absent)", "ok": ok})
        if not ok:
            problems.append(f"{asset.url}: {asset.status}, Cache-Control {cache or '(absent)'!r}")
    checks.every("static assets", rows, problems, f"long-lived caching (max-age >= {seconds}) for every asset")


@then("every script and style sheet name carries a content hash")
def _(assets: list[Exchange]) -> None:
    """Cache busting: every .js and .css name has a hash part of 8 or more hex/base64 characters (``app.3f2a9c1b.js``).

    Example: Then every script and style sheet name carries a content hash
    """
    unhashed = [a.url for a in assets if re.search(r"\.(js|css)(\?|$)", a.url)
                and not re.search(r"[.-][A-Za-z0-9_]{8,}\.(js|css)(\?|$)", a.url)]
    if unhashed:
        checks.fail(f"expected content-hashed asset names, these are not: {', '.join(unhashed)}")


# ---- the release: routes and roles, identity, content types, caching, latency, versions ---

@then("every route of the release answers each identity as the environment's routes table says")
def _(env: Environment, sessions: Sessions, service_client) -> None:
    """Ask every route of the environment's ``routes:`` table as each caller its row names (``anonymous`` or an account, signed in the way ``auth:`` says) and expect the status given there; every cell is checked, then every difference reported.

    Example: Then every route of the release answers each identity as the environment's routes table says
    """
    checks.routes_and_roles(env, service_client, lambda account: sessions.credentials(account))


@then(parsers.parse('every account sees its own username at "{username_path}" and role at "{role_path}" '
                    'in "{path}" on the "{service}" service'))
def _(env: Environment, sessions: Sessions, service_client, username_path: str, role_path: str, path: str,
      service: str) -> None:
    """Sign in as every account of the environment and ask a "who am I" endpoint: each must get its own ``username`` and ``role`` (from ``accounts:``) back at these JSON paths.

    Example: Then every account sees its own username at "email" and role at "role" in "/api/v1/users/me" on the "api" service
    """
    rows, problems, compared = [], [], 0
    for name in env.accounts:
        account = env.account(name)
        expected = {field: (at, value) for field, at, value in (("username", username_path, account.username),
                                                                 ("role", role_path, account.role)) if value}
        compared += len(expected)
        exchange = service_client(service).request("GET", path,
                                                    headers=list(sessions.credentials(name).headers))
        found = checks.identity_problems(exchange, name, expected)
        rows.append({"account": name, "expected": ", ".join(f"{f}={v}" for f, (_, v) in expected.items()),
                     "status": exchange.status, "verdict": "its own" if not found else "; ".join(found)})
        problems += found
    if not compared:
        raise Inconclusive(f"the accounts of environment '{env.name}' have neither a username nor a role to compare")
    checks.problems_first("identity of every account", rows, problems, "accounts")


@then(parsers.parse('these requests to the "{service}" service answer with the content types:'))
def _(service_client, credentials, service: str, datatable) -> None:
    """Send each request of the table (``method``, ``path``) as the current identity and expect the media type of its ``content type`` column (``application/json``, ``text/html``; charset aside), whatever the status.

    Example: Then these requests to the "api" service answer with the content types:
    """
    rows, problems = [], []
    for row in _table(datatable):
        exchange = _send(service_client, credentials, row.get("method") or "GET", service, row["path"])
        problem = checks.content_type_problem(exchange, row["content type"])
        rows.append({"request": f"{exchange.method} {row['path']}", "expected": row["content type"],
                     "seen": exchange.headers.get("content-type", "(none)"), "status": exchange.status,
                     "ok": problem is None})
        problems += [problem] if problem else []
    checks.problems_first("content types", rows, problems, "requests")


@then(parsers.parse('these pages of the "{service}" service are never cached as immutable nor for more than '
                    '{seconds:d} seconds:'))
def _(service_client, credentials, service: str, seconds: int, datatable) -> None:
    """HTML must be revalidated so that a release reaches users: GET each ``path`` of the table; its Cache-Control may not say ``immutable`` nor a ``max-age``/``s-maxage`` beyond this.

    Example: Then these pages of the "frontend" service are never cached as immutable nor for more than 300 seconds:
    """
    rows, problems = [], []
    for row in _table(datatable):
        exchange = _send(service_client, credentials, "GET", service, row["path"])
        problem = checks.page_cache_problem(exchange, seconds)
        rows.append({"page": row["path"], "status": exchange.status,
                     "cache-control": exchange.headers.get("cache-control", "(absent)"), "ok": problem is None})
        problems += [problem] if problem else []
    checks.problems_first("page caching", rows, problems, "pages")


@then(parsers.parse('these requests to the "{service}" service answer JSON with at least {count:d} entries:'))
def _(service_client, credentials, service: str, count: int, datatable) -> None:
    """Each request of the table (``method``, ``path``) answers 2xx JSON holding at least this many values, nested ones counted one by one: a translation file or a configuration that loads as ``{}`` fails.

    Example: Then these requests to the "frontend" service answer JSON with at least 10 entries:
    """
    rows, problems = [], []
    for row in _table(datatable):
        exchange = _send(service_client, credentials, row.get("method") or "GET", service, row["path"])
        problem = checks.entries_problem(exchange, count)
        try:
            entries = checks.json_entries(exchange.json())
        except ValueError:
            entries = "not JSON"
        rows.append({"request": f"{exchange.method} {row['path']}", "status": exchange.status, "entries": entries,
                     "ok": problem is None})
        problems += [problem] if problem else []
    checks.problems_first("JSON entries", rows, problems, "requests")


@then(parsers.parse('these requests to the "{service}" service answer within the "{objective}" objective:'))
def _(env: Environment, service_client, credentials, service: str, objective: str, datatable) -> None:
    """Time each request of the table (``method``, ``path``) as the current identity: each must succeed within an objective of the environment (``objectives:``, in ms or s: below its green limit), so real routes are measured, not only health.

    Example: Then these requests to the "api" service answer within the "api_latency_ms" objective:
    """
    spec = env.objective_spec(objective)
    limit = spec.milliseconds(name=objective)
    rows, problems = [], []
    for row in _table(datatable):
        exchange = _send(service_client, credentials, row.get("method") or "GET", service, row["path"])
        problem = checks.latency_problem(exchange, objective, limit, spec)
        rows.append({"request": f"{exchange.method} {row['path']}", "status": exchange.status,
                     "ms": round(exchange.elapsed_ms), "objective ms": limit, "ok": problem is None})
        problems += [problem] if problem else []
    checks.problems_first(f"latency against '{objective}'", rows, problems, "requests")


@then("every service reports the release version")
def _(env: Environment, service_client) -> None:
    """Ask every service listed under ``release.services`` for the version it runs (its ``path``, then a ``json`` path, a ``header`` or the body; ``samples`` times on fresh connections to reach every instance) and expect the release: ``$POSTDEPLOY_RELEASE_VERSION`` when set, else ``release.version``.

    Example: Then every service reports the release version
    """
    expected, origin = checks.expected_release(env)
    sources = env.section("release").services
    if not sources:
        raise Inconclusive(f"environment '{env.name}' does not say where its services report their version "
                           "(release.services: name -> path, json)")
    rows, problems = [], []
    for name, source in sources.items():
        client = service_client(name)
        for sample in range(source.samples):
            fresh = [("Connection", "close")] if source.samples > 1 else []
            exchange = client.request("GET", expand(env, source.path), headers=fresh, attach=sample == 0)
            seen = checks.reported_version(exchange, source)
            problem = checks.version_problem(name, seen, expected, origin, exchange, source)
            rows.append({"service": name, "sample": sample + 1, "url": exchange.url, "version": seen,
                         "expected": expected, "ok": problem is None})
            if problem and problem not in problems:
                problems.append(problem)
    checks.problems_first("version of every service", rows, problems, "answers")
