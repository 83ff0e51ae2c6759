"""Issue 14's bad releases: a health that hides a database outage (and the outage it hides), and careless CORS origin
checks. Each fault against the healthy behaviour; one private sandbox per group of compatible faults."""
import time
from urllib.parse import urlsplit

import jwt

HEALTHY = {"status": "ok", "checks": {"api": "ok", "database": "ok"}}
DOWN = {"status": "error", "checks": {"api": "ok", "database": "error"}}
PREFLIGHT = {"Access-Control-Request-Method": "GET"}


def _cors(sb, origin: str) -> list:
    """The api's preflight for GET /api/v1/users/me and a simple cross-origin GET /api/version, from ``origin``."""
    return [sb.http.options(sb.api + "/api/v1/users/me", headers={"Origin": origin, **PREFLIGHT}),
            sb.http.get(sb.api + "/api/version", headers={"Origin": origin})]


def _allows(sb, origin: str) -> None:
    preflight, simple = _cors(sb, origin)
    assert preflight.status_code == 204 and "GET" in preflight.headers["access-control-allow-methods"], origin
    assert simple.status_code == 200, origin
    for r in (preflight, simple):
        assert r.headers["access-control-allow-origin"] == origin, (origin, r.request.method)
        assert r.headers["access-control-allow-credentials"] == "true", (origin, r.request.method)
        assert "Origin" in r.headers["vary"]


def _refuses(sb, origin: str, credentials: bool = False) -> None:
    """No Access-Control-Allow-Origin (nor methods) for ``origin``; ``credentials``: yet Allow-Credentials: true."""
    for r in _cors(sb, origin):
        assert "access-control-allow-origin" not in r.headers, (origin, r.request.method)
        assert "access-control-allow-methods" not in r.headers, (origin, r.request.method)
        assert r.headers.get("access-control-allow-credentials") == ("true" if credentials else None), \
            (origin, r.request.method)
        assert "Origin" in r.headers["vary"]


def _lookalikes(allowed: str) -> dict[str, str]:
    """The origins a careless check lets in, derived from an allowed one."""
    scheme, host = urlsplit(allowed).scheme, urlsplit(allowed).netloc
    return {"null": "null", "suffix": f"{allowed}.evil.example",
            "scheme": f"{'https' if scheme == 'http' else 'http'}://{host}", "unknown": "https://evil.example"}


def test_healthy_cors_allows_exactly_the_configured_origins(sandbox):
    _allows(sandbox, sandbox.frontend)
    _allows(sandbox, sandbox.frontend + "/")  # the same origin, written with a slash
    for kind, origin in _lookalikes(sandbox.frontend).items():
        _refuses(sandbox, origin)
    r = sandbox.http.get(sandbox.api + "/api/version")  # same-origin (no Origin): no CORS header at all
    assert not [h for h in r.headers if h.startswith("access-control-")]


def test_healthy_health_reports_the_database(sandbox):
    for p in ("/health", "/api/v1/health", "/api/v2/health"):
        r = sandbox.http.get(sandbox.api + p)
        assert r.status_code == 200 and r.json() == HEALTHY, p


def test_fault_group_careless_cors_and_unreachable_database(start_sandbox):
    """cors_allow_null, cors_suffix_match, cors_allow_http, cors_credentials_without_origin and an extra origin in
    CORS_ORIGINS, each on preflights and simple requests; and database_unreachable_from_api with an honest health."""
    faults = "cors_allow_null,cors_suffix_match,cors_allow_http,cors_credentials_without_origin," \
             "database_unreachable_from_api"
    with start_sandbox(SANDBOX_FAULTS=faults,
                       CORS_ORIGINS="${SANDBOX_FRONTEND_URL},https://app.example.com,https://attacker.example") as sb:
        assert sb.state["faults"] == faults.split(",")
        # CORS_ORIGINS: the frontend (named by its variable), and the extra origins configured: all allowed
        for origin in (sb.frontend, "https://app.example.com", "https://attacker.example"):
            _allows(sb, origin)
        # cors_allow_null: the origin null, with credentials
        _allows(sb, "null")
        # cors_suffix_match: an origin that starts with an allowed one, https or http
        _allows(sb, "https://app.example.com.evil.example")
        _allows(sb, sb.frontend + ".evil.example")
        # cors_allow_http: an allowed host under the other scheme
        _allows(sb, "http://app.example.com")
        _allows(sb, "https://" + urlsplit(sb.frontend).netloc)
        # cors_credentials_without_origin: other origins are refused, but with Allow-Credentials: true
        for origin in ("https://evil.example", "https://example.com", "http://evil.example",
                       "https://evil.example.app.example.com"):
            _refuses(sb, origin, credentials=True)
        # no Origin: no CORS header at all
        assert not [h for h in sb.http.get(sb.api + "/api/version").headers if h.startswith("access-control-")]

        # database_unreachable_from_api: the sandbox started; the api's honest health says the database is down, so
        # the frontend's health says the api is; the worker (its own connection) is fine, and so is the database
        for p in ("/health", "/api/v1/health", "/api/v2/health"):
            r = sb.http.get(sb.api + p)
            assert r.status_code == 503 and r.json() == DOWN, p
        r = sb.http.get(sb.frontend + "/health")
        assert r.status_code == 503 and r.json()["checks"] == {"api": "error"}
        r = sb.http.get(sb.worker + "/health")
        assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"
        with sb.db() as c:
            assert c.execute("SELECT 1").fetchone() == (1,)
        a = sb.state["accounts"]["customer"]
        r = sb.http.post(sb.api + "/api/v1/auth/login", json={"email": a["email"], "password": a["password"]})
        assert r.status_code == 500 and r.json() == {"detail": "Internal Server Error"}


def test_fault_group_health_hides_the_database_outage(start_sandbox):
    """health_ignores_database with database_unreachable_from_api: every health says ok, every call that needs the
    database fails with 500 (sign-in too); a token issued before the outage is accepted, then the route fails."""
    secret = "issue-14-test-secret-0123456789-abcdefghijklmnop"
    with start_sandbox(SANDBOX_FAULTS="health_ignores_database,database_unreachable_from_api", JWT_SECRET=secret) as sb:
        for p in ("/health", "/api/v1/health", "/api/v2/health"):
            r = sb.http.get(sb.api + p)
            assert r.status_code == 200 and r.json() == HEALTHY, p
        r = sb.http.get(sb.frontend + "/health")
        assert r.status_code == 200 and r.json() == {"status": "ok", "service": "frontend", "checks": {"api": "ok"}}
        assert sb.http.get(sb.worker + "/health").status_code == 200
        assert sb.http.get(sb.api + "/version").status_code == 200
        # sign-in reads the users table: 500, for every account
        for account in ("admin", "staff", "customer"):
            a = sb.state["accounts"][account]
            r = sb.http.post(sb.api + "/api/v1/auth/login", json={"email": a["email"], "password": a["password"]})
            assert r.status_code == 500 and r.json() == {"detail": "Internal Server Error"}, account
        # a valid token (as login would have issued it before the outage): authenticated, then the database fails
        with sb.db() as c:
            uid, email, role = c.execute("SELECT id, email, role FROM users WHERE email = %s",
                                         (sb.state["accounts"]["customer"]["email"],)).fetchone()
        now = int(time.time())
        token = jwt.encode({"sub": str(uid), "email": email, "role": role, "iat": now, "exp": now + 600,
                            "iss": "notification-platform"}, secret, algorithm="HS256")
        bearer = {"Authorization": f"Bearer {token}"}
        for p in ("/api/v1/orders", "/api/v2/orders", "/api/v1/users/me", "/api/v1/activity/notifications"):
            r = sb.http.get(sb.api + p, headers=bearer)
            assert r.status_code == 500 and r.json() == {"detail": "Internal Server Error"}, p
        assert sb.http.get(sb.api + "/api/v1/orders").status_code == 401  # anonymous: refused before the database
        assert "database_exception" in sb.log("api")
