"""One safety model for every client (postdeploy.safety): the guard, its transport, its budget, the browser's
route guard and what the browser steps make of a blocked request. Over httpx's mock transport and fake Playwright
objects; tests/features/test_safety.py proves the browser guard with a real browser, sandbox and database."""

from __future__ import annotations

import socket
import textwrap
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pydantic import ValidationError

from postdeploy import plugin, verdicts
from postdeploy.browser import PageWatch, guard_context
from postdeploy.environment import Environment
from postdeploy.errors import UnsafeOperation
from postdeploy.http import Clients
from postdeploy.safety import (
    Guard,
    GuardedTransport,
    RequestBudgetExhausted,
    guard_for,
    guarded_client,
)


def make_env(read_only: bool = True, **safety) -> Environment:
    return Environment.model_validate({
        "name": "prod",
        "safety": {"read_only": read_only, **safety},
        "services": {"api": {"base_url": "http://api.test"}, "frontend": {"base_url": "http://frontend.test/app"}},
        "accounts": {"admin": {"username": "admin@example.com", "password": "pw-admin-1"}},
        "auth": {"kind": "json_login", "service": "api", "path": "/api/v1/auth/login"},
        "browser": {"service": "frontend", "login": {"kind": "form", "path": "/login"}},
    })


def recording(status: int = 200):
    sent: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/api/v1/auth/login":
            return httpx.Response(200, json={"access_token": "tok-123456789"})
        if request.url.path == "/bounce":
            return httpx.Response(307, headers={"Location": "/api/v1/orders"})
        return httpx.Response(status)

    return sent, httpx.MockTransport(app)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the rules ---------------------------------------------------------------------------

def test_a_read_only_environment_refuses_writes_at_the_transport_with_the_message_of_the_client():
    sent, transport = recording()
    client = Clients(make_env(), transport=transport)["api"]
    with pytest.raises(UnsafeOperation) as err:
        client.request("PATCH", "/api/v1/users/1?x=1", json={"email_enabled": False}, attach=False)
    assert str(err.value) == ("refused PATCH http://api.test/api/v1/users/1?x=1: this environment allows only GET, HEAD, "
                              "OPTIONS (safety.read_only / safety.allowed_methods in the environment file).")
    assert sent == []  # nothing left the process
    assert client.requests == 0  # a refused request is not counted as sent
    assert verdicts.classify(err.value) is verdicts.Kind.SUITE_ERROR


def test_the_declared_login_endpoints_are_the_only_writes_a_read_only_environment_lets_out():
    guard = Guard(make_env())
    assert guard.refusal("POST", "http://API.test:80/api/v1/auth/login?next=/") is None  # auth.service + auth.path
    assert guard.refusal("POST", "http://frontend.test/app/login") is None  # the browser's login form, on its page
    for method, url in (("POST", "http://api.test/api/v1/orders"), ("PUT", "http://api.test/api/v1/auth/login"),
                        ("POST", "https://api.test/api/v1/auth/login"), ("POST", "http://other.test/api/v1/auth/login"),
                        ("DELETE", "http://frontend.test/app/login")):
        refused = guard.refusal(method, url)
        assert refused is not None and refused.kind == "method", (method, url)


def test_a_redirect_is_asked_about_too():
    sent, transport = recording()
    client = Clients(make_env(), transport=transport)["api"]
    client.allow("POST", "/bounce")  # one more exempt endpoint: its 307 keeps the method, to a path that is not
    with pytest.raises(UnsafeOperation, match=r"refused POST http://api.test/api/v1/orders"):
        client.request("POST", "/bounce", json={}, follow_redirects=True, attach=False)
    assert [r.url.path for r in sent] == ["/bounce"]


def test_allowed_methods_choose_the_methods_whatever_read_only_says():
    guard = Guard(make_env(read_only=False, allowed_methods=["get", "post"]))
    assert guard.methods == ("GET", "POST")
    assert guard.refusal("POST", "http://api.test/x") is None
    assert guard.refusal("DELETE", "http://api.test/x").message.startswith(
        "refused DELETE http://api.test/x: this environment allows only GET, POST")
    assert Guard(make_env(read_only=False)).refusal("DELETE", "http://api.test/x") is None


def test_urls_are_counted_against_the_service_they_lie_under():
    guard = Guard(make_env())
    assert guard.service_of("http://api.test/api/v1/users") == "api"
    assert guard.service_of("http://frontend.test/app/static/app.js") == "frontend"
    assert guard.service_of("http://frontend.test/application") is None  # not under the base path /app
    assert guard.service_of("https://cdn.example/x.js") is None


# ---- the budget ---------------------------------------------------------------------------

def test_the_budget_stops_a_service_at_max_requests_and_the_check_is_inconclusive():
    sent, transport = recording()
    env = make_env(max_requests=3)
    clients = Clients(env, transport=transport)
    for _ in range(3):
        clients["api"].request("GET", "/health", attach=False)
    with pytest.raises(RequestBudgetExhausted) as err:
        clients["api"].request("GET", "/health", attach=False)
    assert str(err.value).startswith(
        "inconclusive: GET http://api.test/health (service 'api') was not sent: this run already sent 3 requests to "
        "service 'api', the most environment 'prod' allows in one run (safety.max_requests: 3)")
    assert verdicts.classify(err.value) is verdicts.Kind.INCONCLUSIVE
    assert len(sent) == 3 and clients["api"].requests == 3
    assert clients["frontend"].request("GET", "/health", attach=False).status == 200  # a budget per service
    assert guard_for(env).sent() == {"api": 3, "frontend": 1}


def test_every_client_of_a_run_shares_one_budget_the_preflight_included():
    env = make_env(max_requests=2)
    env = env.model_copy(update={"services": {"api": env.services["api"].model_copy(
        update={"base_url": f"http://127.0.0.1:{closed_port()}"})}, "browser": None})
    assert plugin.preflight(env)  # nothing answers there, but the request went out: it counts
    assert guard_for(env).sent() == {"api": 1}
    sent, transport = recording()
    Clients(env, transport=transport)["api"].request("GET", "/health", attach=False)
    with pytest.raises(RequestBudgetExhausted):
        Clients(env, transport=transport)["api"].request("GET", "/health", attach=False)  # another pool, same run
    assert guard_for(env) is guard_for(env) and guard_for(make_env()) is not guard_for(env)


def test_max_requests_defaults_to_2000_and_must_be_positive():
    assert make_env().safety.max_requests == 2000
    with pytest.raises(ValidationError):
        make_env(max_requests=0)


# ---- every httpx client is guarded --------------------------------------------------------

def test_a_guarded_client_sends_through_the_guard_and_so_do_its_proxies(monkeypatch):
    guard = Guard(make_env())
    sent, transport = recording()
    with guarded_client(guard, "api", transport=transport) as client:
        assert client.get("http://api.test/x").status_code == 200
        with pytest.raises(UnsafeOperation):
            client.post("http://api.test/x")
    assert len(sent) == 1
    asked: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"via proxy")

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        with guarded_client(guard, "api", timeout=5) as client:
            with pytest.raises(UnsafeOperation):  # refused before the proxy is even asked
                client.post("http://api.test/x")
            assert client.get("http://api.test/x").text == "via proxy"  # a GET goes out, through the proxy
    finally:
        server.shutdown()
    assert asked == ["GET http://api.test/x"]


def test_the_transport_wrapper_delegates_and_closes():
    closed = []

    class Inner(httpx.MockTransport):
        def close(self):
            closed.append(True)

    wrapper = GuardedTransport(Inner(lambda r: httpx.Response(204)), Guard(make_env()), "api")
    assert wrapper.handle_request(httpx.Request("HEAD", "http://api.test/")).status_code == 204
    wrapper.close()
    assert closed == [True]


# ---- the browser's route guard --------------------------------------------------------------

class FakeRequest:
    def __init__(self, method: str, url: str, failure: str | None = None):
        self.method, self.url, self.failure = method, url, failure


class FakeRoute:
    def __init__(self, method: str, url: str):
        self.request = FakeRequest(method, url)
        self.outcome = ""

    def fallback(self):
        self.outcome = "fallback"

    def abort(self, error_code: str = "failed"):
        self.outcome = f"abort:{error_code}"


class FakeContext:
    def __init__(self):
        self.routes, self.listeners = [], {}

    def route(self, pattern, handler):
        self.routes.append((pattern, handler))

    def on(self, event, handler):
        self.listeners[event] = handler

    def send(self, method: str, url: str) -> str:
        if not self.routes:
            self.listeners["request"](FakeRequest(method, url))
            return "sent"
        route = FakeRoute(method, url)
        for _, handler in self.routes:
            handler(route)
        return route.outcome


def test_the_route_guard_aborts_what_the_environment_forbids_and_lets_the_rest_through():
    context = FakeContext()
    guard = guard_context(context, Guard(make_env()))
    assert [p for p, _ in context.routes] == ["**/*"]
    assert context.send("GET", "http://frontend.test/app/settings") == "fallback"
    assert context.send("POST", "http://api.test/api/v1/auth/login") == "fallback"  # the declared login
    assert context.send("PATCH", "http://api.test/api/v1/users/7/notification-preferences") == "abort:blockedbyclient"
    error = guard.error()
    assert isinstance(error, UnsafeOperation)
    assert str(error).startswith(
        "the browser tried PATCH http://api.test/api/v1/users/7/notification-preferences, which read-only environment "
        "'prod' forbids (it allows only GET, HEAD, OPTIONS")
    assert "tag the scenario @mutating" in str(error)
    assert guard.error() is None  # reported once ...
    assert isinstance(guard.error(all_of_them=True), UnsafeOperation)  # ... unless all of them are asked for
    assert guard.lines() == ["PATCH http://api.test/api/v1/users/7/notification-preferences (service 'api'): blocked: "
                             "environment 'prod' allows only GET, HEAD, OPTIONS"]


def test_the_browser_spends_the_same_budget_and_a_request_past_it_is_aborted():
    env = make_env(max_requests=2)
    context = FakeContext()
    guard = guard_context(context, guard_for(env))
    assert context.send("GET", "http://frontend.test/app/") == "fallback"
    assert context.send("GET", "https://cdn.example/font.woff2") == "fallback"  # no service: not counted
    Clients(env, transport=recording()[1])["frontend"].request("GET", "/health", attach=False)
    assert context.send("GET", "http://frontend.test/app/static/app.js") == "abort:blockedbyclient"
    assert isinstance(guard.error(), RequestBudgetExhausted)
    assert guard.lines() == ["GET http://frontend.test/app/static/app.js (service 'frontend'): blocked: the run's "
                             "request budget for this service (safety.max_requests: 2) is spent"]


def test_where_every_method_is_allowed_the_browser_is_not_routed_but_its_requests_are_counted():
    env = make_env(read_only=False, max_requests=2)
    context = FakeContext()
    guard = guard_context(context, guard_for(env))
    assert context.routes == [] and not guard.routed  # the target answers the browser's CORS preflights itself
    assert context.send("PATCH", "http://api.test/api/v1/users/7/notification-preferences") == "sent"
    assert context.send("GET", "http://api.test/api/v1/users/me") == "sent"
    assert guard.error() is None and guard_for(env).sent() == {"api": 2}
    assert context.send("GET", "http://api.test/api/v1/users/me") == "sent"  # could not be held back ...
    error = guard.error()  # ... but its scenario cannot reach a verdict
    assert isinstance(error, RequestBudgetExhausted)
    assert str(error).startswith("inconclusive: the browser sent GET http://api.test/api/v1/users/me (service 'api') "
                                 "beyond the requests environment 'prod' allows to it in one run (safety.max_requests: 2)")


def test_the_page_watch_does_not_count_a_blocked_request_as_a_failed_request():
    context = FakeContext()
    guard = guard_context(context, Guard(make_env()))
    url = "http://api.test/api/v1/users/7/notification-preferences"
    context.send("PATCH", url)
    events = {}

    class Page:
        def on(self, name, handler):
            events[name] = handler

    class Console:
        def __init__(self, text, where):
            self.type, self.text, self.location = "error", text, {"url": where, "lineNumber": 0}

    watch = PageWatch(route_guard=guard)
    watch.attach_to(Page())
    events["requestfailed"](FakeRequest("PATCH", url, "net::ERR_BLOCKED_BY_CLIENT"))
    events["console"](Console("Failed to load resource: net::ERR_BLOCKED_BY_CLIENT", url))
    events["requestfailed"](FakeRequest("GET", "http://api.test/x", "net::ERR_CONNECTION_REFUSED"))
    events["console"](Console("Uncaught (in promise) TypeError: Failed to fetch", "http://frontend.test/app/app.js"))
    assert watch.failed_requests == ["GET http://api.test/x: net::ERR_CONNECTION_REFUSED"]
    assert watch.console_errors == ["Uncaught (in promise) TypeError: Failed to fetch (http://frontend.test/app/app.js:0)"]


# ---- what the browser steps make of a block (the real page fixture, over fake Playwright objects) -----

CONFTEST = '''
import zipfile

import pytest

pytest_plugins = ["postdeploy.plugin", "postdeploy.steps.browser"]

API = "http://api.test"
BUTTONS = {  # what each button makes the page send, and when
    "Save preferences": ("now", "PATCH", API + "/api/v1/users/7/notification-preferences"),
    "Save later": ("at the next wait", "PATCH", API + "/api/v1/users/7/notification-preferences"),
    "Save at the end": ("at the end", "DELETE", API + "/api/v1/users/7/sessions"),
    "Sign in": ("now", "POST", API + "/api/v1/auth/login"),
}


class Request:
    def __init__(self, method, url):
        self.method, self.url, self.failure = method, url, None


class Route:
    def __init__(self, page, method, url):
        self.page, self.request = page, Request(method, url)

    def fallback(self):
        pass

    def abort(self, error_code="failed"):
        self.request.failure = "net::ERR_BLOCKED_BY_CLIENT"
        self.page.emit("requestfailed", self.request)


class Locator:
    def __init__(self, page, name):
        self.page, self.name, self.first = page, name, self

    def count(self):
        return 1

    def is_visible(self):
        return True

    def click(self):
        when, method, url = BUTTONS[self.name]
        self.page.pending.append((when, method, url))
        self.page.flush("now")

    def wait_for(self, **_):
        self.page.flush("at the next wait")
        raise TimeoutError("Timeout 5000ms exceeded")


class Tracing:
    def start(self, **_):
        pass

    def stop(self, path=None):
        if path:
            zipfile.ZipFile(path, "w").close()


class Page:
    url = "http://frontend.test/settings"

    def __init__(self, context):
        self.context, self.handlers, self.pending = context, {}, []

    def on(self, name, handler):
        self.handlers[name] = handler

    def emit(self, name, value):
        if name in self.handlers:
            self.handlers[name](value)

    def flush(self, moment):
        for item in [p for p in self.pending if p[0] == moment]:
            self.pending.remove(item)
            self.context.handler(Route(self, item[1], item[2]))

    def get_by_role(self, role, name, exact=False):
        return Locator(self, name)

    def get_by_text(self, text):
        return Locator(self, text)

    def wait_for_timeout(self, ms):
        pass

    def screenshot(self, **_):
        self.flush("at the end")
        return b"png"


class Context:
    tracing = Tracing()

    def set_default_timeout(self, ms):
        pass

    def route(self, pattern, handler):
        self.handler = handler

    def unroute_all(self, behavior=None):
        pass

    def new_page(self):
        return Page(self)

    def close(self):
        pass


class Browser:
    def new_context(self, **_):
        return Context()


class Exchange:
    status = 200


class Client:
    base_url = "http://frontend.test"

    def request(self, *args, **kwargs):
        return Exchange()


@pytest.fixture(scope="session")
def browser_instance():
    return Browser()


@pytest.fixture
def service_client():
    return lambda name: Client()
'''

FEATURE = '''\
@browser
Feature: A guarded browser
  Scenario: The save is blocked at its click
    When I click the "Save preferences" button
    Then the page made no failed requests

  Scenario: The save is noticed by a later step
    When I click the "Save later" button
    Then the page shows the text "Preferences saved"

  Scenario: The page writes after the last step
    When I click the "Save at the end" button
    Then the page path is "/settings"

  Scenario: Signing in is no write
    When I click the "Sign in" button
    Then the page made no failed requests
'''


def test_a_blocked_request_makes_its_scenario_the_read_only_suite_error_wherever_it_is_seen(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n")
    pytester.mkdir("features")
    pytester.path.joinpath("features", "guarded.feature").write_text(FEATURE)
    pytester.path.joinpath("features", "test_scenarios.py").write_text("from pytest_bdd import scenarios\nscenarios('.')\n")
    pytester.mkdir("environments").joinpath("ro.yaml").write_text(textwrap.dedent("""\
        safety: {read_only: true}
        services:
          api: {base_url: "http://api.test"}
          frontend: {base_url: "http://frontend.test"}
        auth: {kind: json_login, service: api, path: /api/v1/auth/login}
        browser: {service: frontend}
        """))
    result = pytester.runpytest_subprocess("features", "--env=ro", "--no-preflight")
    assert result.ret == verdicts.EXIT_SUITE_ERROR, result.stdout.str()
    cases = {}
    for case in ET.parse(pytester.path / "reports" / "junit.xml").getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        problem = next((c.get("message") or "" for c in case if c.tag in ("failure", "error")), "")
        cases[case.get("name")] = (properties.get("verdict"), properties.get("failing_step"), problem)
    patch = ("the browser tried PATCH http://api.test/api/v1/users/7/notification-preferences, which read-only "
             "environment 'ro' forbids")
    verdict, step, problem = cases["test_the_save_is_blocked_at_its_click"]
    assert (verdict, step) == ("suite_error", 'When I click the "Save preferences" button') and patch in problem
    verdict, step, problem = cases["test_the_save_is_noticed_by_a_later_step"]
    assert (verdict, step) == ("suite_error", 'Then the page shows the text "Preferences saved"'), problem
    assert patch in problem and "expected the text" not in problem  # the block, not what the page did without it
    verdict, _, problem = cases["test_the_page_writes_after_the_last_step"]
    assert verdict == "suite_error" and "the browser tried DELETE http://api.test/api/v1/users/7/sessions" in problem
    assert cases["test_signing_in_is_no_write"][0] == "passed"
    assert "failed requests" not in result.stdout.str()


def test_a_client_that_is_not_http_spends_the_same_budget():
    guard = Guard(make_env(max_requests=2))
    guard.spend("database", "query")
    guard.spend("database", "query")
    with pytest.raises(RequestBudgetExhausted, match="service 'database'.*safety.max_requests: 2"):
        guard.spend("database", "query")
    assert guard.sent() == {"database": 2}
