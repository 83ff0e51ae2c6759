"""The HTTP client's own logic, over httpx's mock transport (no target needed)."""

import httpx
import pytest

from postdeploy import redact
from postdeploy.auth import Sessions
from postdeploy.environment import Environment
from postdeploy.errors import AlreadyReported, CheckFailed, ServiceUnreachable, UnsafeOperation
from postdeploy.http import Clients


def make_env(read_only: bool = True, **extra) -> Environment:
    return Environment.model_validate({
        "name": "t",
        "safety": {"read_only": read_only},
        "services": {"api": {"base_url": "http://api.test"}},
        "accounts": {"admin": {"username": "admin@example.com", "password": "pw-admin-1"}},
        "auth": {"kind": "json_login", "service": "api", "path": "/login", "username_field": "email"},
        **extra,
    })


def app(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/login":
        return httpx.Response(200, json={"access_token": "tok-123456789"})
    if request.url.path == "/me":
        ok = request.headers.get("authorization") == "Bearer tok-123456789"
        return httpx.Response(200 if ok else 401, json={"ok": ok})
    if request.url.path == "/down":
        raise httpx.ConnectError("connection refused", request=request)
    return httpx.Response(404, json={"detail": "not found"})


def test_read_only_environment_refuses_writes_before_sending():
    sent = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200))
    client = Clients(make_env(read_only=True), transport=transport)["api"]
    with pytest.raises(UnsafeOperation) as err:
        client.request("DELETE", "/orders/1", attach=False)
    assert "allows only GET, HEAD, OPTIONS" in str(err.value)
    assert sent == []


def test_declared_login_endpoint_is_exempt_in_read_only_environments():
    redact.clear()
    clients = Clients(make_env(read_only=True), transport=httpx.MockTransport(app))
    creds = Sessions(clients.env, clients).credentials("admin")
    assert creds.headers == (("Authorization", "Bearer tok-123456789"),)
    assert clients["api"].request("GET", "/me", headers=list(creds.headers), attach=False).status == 200
    assert b"tok-123456789" in redact.registered()


def test_transport_failure_is_an_environment_problem_not_a_check_failure():
    client = Clients(make_env(), transport=httpx.MockTransport(app))["api"]
    with pytest.raises(ServiceUnreachable) as err:
        client.request("GET", "/down", attach=False)
    assert not isinstance(err.value, AssertionError)
    assert "service 'api' did not answer GET http://api.test/down" in str(err.value)


def test_preflight_unreachable_service_fails_fast_without_sending():
    sent = []
    clients = Clients(make_env(), unreachable={"api": "service 'api' does not answer"},
                      transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)))
    with pytest.raises(AlreadyReported):
        clients["api"].request("GET", "/health", attach=False)
    with pytest.raises(AlreadyReported):  # signing in needs the service too
        Sessions(clients.env, clients).credentials("admin")
    assert sent == []


def test_failed_login_is_a_check_failure_that_names_account_and_endpoint():
    env = make_env()
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"detail": "bad credentials"}))
    clients = Clients(env, transport=transport)
    with pytest.raises(CheckFailed) as err:
        Sessions(env, clients).credentials("admin")
    assert "login as 'admin' failed: expected a 2xx answer, got 401" in str(err.value)
    assert "POST http://api.test/login" in str(err.value)


def test_exchange_transcript_redacts_credentials():
    redact.clear()
    clients = Clients(make_env(), transport=httpx.MockTransport(app))
    exchange = clients["api"].request("POST", "/login", json={"email": "a@example.com", "password": "pw-admin-1"}, attach=False)
    transcript = exchange.as_text()
    assert "pw-admin-1" not in transcript and "tok-123456789" not in transcript
    assert "[REDACTED]" in transcript and "a@example.com" in transcript


def test_a_5xx_says_since_when_the_service_answers_5xx_so_later_failures_name_their_common_cause():
    def maintenance(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503 if request.url.path != "/ok" else 200, json={"status": "maintenance"})

    client = Clients(make_env(), transport=httpx.MockTransport(maintenance))["api"]
    assert client.request("GET", "/ok", attach=False).since == ""
    first = client.request("GET", "/health", attach=False)
    later = client.request("GET", "/api/v1/users/me", attach=False)
    assert "service 'api' has answered 503 since" in first.summary()
    assert later.since == first.since and "(first to GET /health)" in later.summary()


def test_a_429_waits_for_retry_after_once_then_is_inconclusive():
    from postdeploy.errors import RateLimited

    seen = []

    def limited(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(429, headers={"Retry-After": "0"}, json={})

    client = Clients(make_env(), transport=httpx.MockTransport(limited))["api"]
    with pytest.raises(RateLimited, match="inconclusive: GET http://api.test/x .* answered 429 Too Many Requests again"):
        client.request("GET", "/x", attach=False)
    assert seen == ["/x", "/x"]
    assert client.request("GET", "/x", attach=False, rate_limit_check=True).status == 429  # the rate-limit family's
