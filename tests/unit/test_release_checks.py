"""The checks of a release (routes and roles, identity, content types, page caching, JSON entries, latency,
versions), over httpx's mock transport: each failure's first line says what was expected, what was seen, where."""

import httpx
import pytest
from pydantic import ValidationError

from postdeploy import checks
from postdeploy.auth import Sessions
from postdeploy.environment import Environment, Release, VersionSource
from postdeploy.errors import CheckFailed, Inconclusive
from postdeploy.http import Clients, Exchange

TOKENS = {f"tok-{who}-00000000": who for who in ("admin", "customer")}


def make_env(routes, read_only: bool = False, **extra) -> Environment:
    return Environment.model_validate({
        "name": "t",
        "safety": {"read_only": read_only},
        "services": {"api": {"base_url": "http://api.test"}},
        "accounts": {"admin": {"username": "admin@example.com", "password": "pw-admin-1", "role": "admin"},
                     "customer": {"username": "customer@example.com", "password": "pw-cust-1", "role": "customer"}},
        "auth": {"kind": "json_login", "service": "api", "path": "/login", "username_field": "email"},
        "routes": routes,
        **extra,
    })


def app(open_route: str = ""):
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":
            who = request.content.decode().split('"email":')[1].split('"')[1].split("@")[0]
            return httpx.Response(200, json={"access_token": f"tok-{who}-00000000"})
        role = TOKENS.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if request.url.path == open_route:
            return httpx.Response(200, json={"items": ["everything"]})
        if role is None:
            return httpx.Response(401, json={"detail": "Not authenticated"})
        if request.url.path.startswith("/admin") and role != "admin":
            return httpx.Response(403, json={"detail": "Forbidden"})
        return httpx.Response(200, json={"ok": True})
    return handle


ROUTES = [
    {"path": "/admin/users", "anonymous": 401, "customer": 403, "admin": 200},
    {"path": "/v2/notifications", "anonymous": 401, "customer": "200", "admin": [200]},
    {"method": "post", "path": "/admin/replay", "anonymous": "401|403", "customer": "403 or 401"},
]


def run_routes(env: Environment, transport: httpx.MockTransport) -> None:
    clients = Clients(env, transport=transport)
    sessions = Sessions(env, clients)
    checks.routes_and_roles(checks.ask_routes(env, clients.__getitem__, sessions.credentials))


def test_route_rows_name_their_callers_as_columns():
    env = make_env(ROUTES)
    assert env.routes[0].answers == {"anonymous": [401], "customer": [403], "admin": [200]}
    assert env.routes[2].method == "POST" and env.routes[2].answers == {"anonymous": [401, 403], "customer": [403, 401]}


def test_a_caller_that_is_no_account_is_refused_naming_the_closest():
    with pytest.raises(ValidationError) as err:
        make_env([{"path": "/x", "anonymous": 401, "custmer": 403}])
    assert "lists the caller 'custmer', which is neither 'anonymous' nor an account (did you mean 'customer'?)" \
        in str(err.value)
    with pytest.raises(ValidationError, match="expected an HTTP status"):
        make_env([{"path": "/x", "anonymous": "nope"}])


def test_every_cell_of_the_routes_table_passes_on_a_well_protected_target():
    run_routes(make_env(ROUTES), httpx.MockTransport(app()))


def test_an_unprotected_route_fails_first_with_the_caller_the_route_and_what_it_got():
    with pytest.raises(CheckFailed) as err:
        run_routes(make_env(ROUTES), httpx.MockTransport(app(open_route="/v2/notifications")))
    first, *rest = str(err.value).splitlines()
    assert first.startswith("expected 401 for anonymous GET /v2/notifications (service 'api'), got 200 ")
    assert "(and 0 more" not in first and rest == []
    with pytest.raises(CheckFailed) as err:
        run_routes(make_env(ROUTES), httpx.MockTransport(app(open_route="/admin/users")))
    first, *rest = str(err.value).splitlines()
    assert first.startswith("expected 401 for anonymous GET /admin/users (service 'api'), got 200 ")
    assert first.endswith("(and 1 more of the 8 route/caller cells checked)")
    assert rest[1].startswith("  - expected 403 for 'customer' GET /admin/users (service 'api'), got 200")


def test_a_read_only_environment_sends_only_the_rows_it_allows():
    sent = []

    def spy(request):
        sent.append(request.method)
        return app()(request)
    run_routes(make_env(ROUTES, read_only=True), httpx.MockTransport(spy))
    assert "POST" in sent  # the declared login only
    assert sent.count("POST") == 2 and sent.count("GET") == 6


def test_refused_credentials_are_reported_once_and_spare_the_target_the_other_cells():
    sent = []

    def refuse_customer(request):
        sent.append((request.method, request.url.path))
        if request.headers.get("authorization", "").endswith("tok-customer-00000000"):
            return httpx.Response(401, json={"detail": "Invalid or expired token"})
        return app()(request)
    with pytest.raises(CheckFailed) as err:
        run_routes(make_env(ROUTES), httpx.MockTransport(refuse_customer))
    assert str(err.value).splitlines()[0] == (
        "expected 200 for 'customer' GET /v2/notifications (service 'api'), got 401 "
        "'{\"detail\":\"Invalid or expired token\"}'; its credentials are refused, so its 2 other cells were not sent")
    assert len(sent) == 2 + 6  # two sign-ins; the customer's probe and the 5 cells of the others


def test_no_routes_table_is_inconclusive():
    with pytest.raises(Inconclusive, match="no 'routes:' table"):
        run_routes(make_env([]), httpx.MockTransport(app()))


def exchange(status=200, body=b"{}", headers=None, path="/x", elapsed_ms=12.0, service="api") -> Exchange:
    return Exchange(service=service, method="GET", url=f"http://t.test{path}", request_headers=(), request_body=b"",
                    status=status, headers=httpx.Headers(headers or {}), body=body, elapsed_ms=elapsed_ms)


def test_identity_compares_the_username_case_blind_and_the_role_exactly():
    expected = {"username": ("email", "Staff@Example.com"), "role": ("role", "staff")}
    assert checks.identity_problems(exchange(body=b'{"email":"staff@example.com","role":"staff"}', path="/me"),
                                    "staff", expected) == []
    problems = checks.identity_problems(exchange(body=b'{"email":"admin@example.com","role":"admin"}', path="/me"),
                                        "staff", expected)
    assert problems == ["expected username 'Staff@Example.com' of 'staff' at 'email' of GET /me (service 'api'), "
                        'got "admin@example.com"',
                        "expected role 'staff' of 'staff' at 'role' of GET /me (service 'api'), got \"admin\""]
    assert checks.identity_problems(exchange(401, path="/me"), "staff", expected)[0].startswith(
        "expected 200 for 'staff' at GET /me (service 'api'), got 401")


def test_content_types_compare_the_media_type_only():
    assert checks.content_type_problem(exchange(headers={"content-type": "application/json; charset=utf-8"}),
                                       "application/json") is None
    assert checks.content_type_problem(exchange(headers={"content-type": "text/plain"}), "application/json") == \
        "expected content type application/json from GET /x (service 'api'), got text/plain (status 200)"


@pytest.mark.parametrize(("cache", "ok"), [
    ("no-cache", True), ("", True), ("public, max-age=300", True), ("private, max-age=0, must-revalidate", True),
    ("public, max-age=31536000, immutable", False), ("public, max-age=301", False), ("public, s-maxage=86400", False),
    ("max-age=60, immutable", False),
])
def test_pages_must_be_revalidated(cache, ok):
    problem = checks.page_cache_problem(exchange(headers={"cache-control": cache} if cache else {}, path="/login"), 300)
    assert (problem is None) == ok
    if not ok:
        assert problem.startswith("expected a page cached at most 300 s and never immutable at GET /login")


def test_json_entries_count_nested_values_and_empty_documents_hold_none():
    assert checks.json_entries({}) == 0 and checks.json_entries([]) == 0
    assert checks.json_entries({"a": "x", "b": {"c": 1, "d": [1, 2]}}) == 4
    assert checks.entries_problem(exchange(body=b'{"a": "x", "b": "y"}'), 2) is None
    assert checks.entries_problem(exchange(body=b"{}", path="/i18n/en.json"), 1).startswith(
        "expected JSON with at least 1 entries at GET /i18n/en.json (service 'api'), got 0")
    assert checks.entries_problem(exchange(404, path="/i18n/en.json"), 1) is not None


def test_latency_is_measured_on_successful_answers_only():
    assert checks.latency_problem(exchange(elapsed_ms=200), "p", 1000) is None
    assert checks.latency_problem(exchange(elapsed_ms=1500, path="/orders"), "p", 1000) == \
        "expected GET /orders (service 'api') within the 'p' objective of 1000 ms, got 1500 ms (status 200)"
    assert "expected a successful answer to time" in checks.latency_problem(exchange(401, elapsed_ms=5), "p", 1000)


def test_the_expected_release_comes_from_the_variable_then_the_file():
    env = make_env([], release={"version": 2.1, "services": {"api": {"path": "/version", "json": "version"}}})
    assert checks.expected_release(env, {}) == ("2.1", "release.version")
    assert checks.expected_release(env, {"POSTDEPLOY_RELEASE_VERSION": "2.2.0"}) == \
        ("2.2.0", "$POSTDEPLOY_RELEASE_VERSION")
    with pytest.raises(Inconclusive, match="no expected release"):
        checks.expected_release(make_env([]), {})
    with pytest.raises(ValidationError, match="release.services.apii names the service 'apii'"):
        make_env([], release={"services": {"apii": {}}})


def test_reported_versions_from_json_header_or_body():
    by_json = VersionSource.model_validate({"json": "build.version"})
    seen = checks.reported_version(exchange(body=b'{"build": {"version": "v2.0.0"}}', path="/version"), by_json)
    assert seen == "v2.0.0"
    assert checks.version_problem("api", seen, "2.0.0", "release.version", exchange(), by_json) is None
    by_header = VersionSource.model_validate({"path": "/", "header": "X-App-Version"})
    assert checks.reported_version(exchange(headers={"x-app-version": "1.1.0"}), by_header) == "1.1.0"
    assert checks.reported_version(exchange(body=b"2.0.0\n"), VersionSource()) == "2.0.0"
    problem = checks.version_problem("worker", "1.1.0", "2.0.0", "release.version",
                                     exchange(path="/version", service="worker"), by_json)
    assert problem == "expected release 2.0.0 (release.version) on service 'worker', got '1.1.0' at 'build.version' " \
                      "of GET /version"
    with pytest.raises(CheckFailed, match="expected service 'api' to report its version at GET /version"):
        checks.reported_version(exchange(404, path="/version"), by_json)
    assert Release().version is None
