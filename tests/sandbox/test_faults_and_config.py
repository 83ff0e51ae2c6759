"""Every fault switch and the configuration variables, each in a private sandbox (few, combined, fast)."""
import re
import time

import pytest

from sandbox import config, db

SECURITY = ("strict-transport-security", "x-content-type-options", "x-frame-options", "content-security-policy",
            "referrer-policy")


def _assets(sb, page):
    html = sb.http.get(sb.frontend + page).text
    return html, re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_frontend_healthy(sandbox):
    html, assets = _assets(sandbox, "/settings/notifications")
    assert "<h1" in html and 'name="api-base-url"' in html and 'data-fault' not in html
    for a in assets:
        assert re.fullmatch(r"/static/[a-z]+\.[0-9a-f]{8}\.(js|css|svg)", a)
        r = sandbox.http.get(sandbox.frontend + a)
        assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
    r = sandbox.http.get(sandbox.frontend + "/login")
    assert r.headers["cache-control"] == "no-cache"
    assert '<label for="email">Email</label>' in r.text and '<label for="password">Password</label>' in r.text
    assert sandbox.api in r.headers["content-security-policy"]
    for h in SECURITY:
        assert h in r.headers
    for lang in ("en", "es"):
        r = sandbox.http.get(f"{sandbox.frontend}/i18n/{lang}.json")
        assert r.status_code == 200 and "max-age=300" in r.headers["cache-control"] and r.json()["login.title"]
    r = sandbox.http.get(sandbox.frontend + "/", follow_redirects=True)
    assert r.status_code == 200 and str(r.url).endswith("/dashboard")


def test_unknown_fault_is_rejected():
    with pytest.raises(config.ConfigError, match="unknown fault name.*nope"):
        config.parse_faults("no_security_headers,nope")


def test_database_faults_are_declared_with_their_sql():
    """A database fault's SQL is declared with the fault, in the one table; db.apply_faults runs it in order."""
    assert {n for n, f in config.FAULTS.items() if f.sql} == {"no_duplicate_prevention", "drop_index", "rls_disabled"}

    class Conn:
        def __init__(self):
            self.ran = []

        def execute(self, sql):
            self.ran.append(sql)

    conn = Conn()
    assert db.apply_faults(conn, ["slow_api", "rls_disabled", "drop_index"]) == ["rls_disabled", "drop_index"]
    assert conn.ran == [*config.FAULTS["rls_disabled"].sql, *config.FAULTS["drop_index"].sql]
    assert db.apply_faults(conn, ["slow_api"]) == []


def test_fault_group_presentation_and_debug_config(start_sandbox):
    faults = "no_security_headers,metrics_disabled,no_cache_headers,i18n_missing,frontend_js_error," \
             "frontend_broken_asset,rate_limit_disabled,email_template_missing"
    with start_sandbox(SANDBOX_FAULTS=faults, DEBUG="true", ENABLE_DOCS="true", CORS_ORIGINS="*",
                       LOG_LEVEL="INFO") as sb:
        assert sb.state["faults"] == faults.split(",")
        for url in (sb.api + "/health", sb.frontend + "/login"):
            r = sb.http.get(url)
            assert not any(h in r.headers for h in SECURITY), url
        assert sb.http.get(sb.api + "/metrics").status_code == 404
        html, assets = _assets(sb, "/settings/notifications")
        assert 'data-fault="js-error"' in html
        codes = {a: sb.http.get(sb.frontend + a).status_code for a in assets}
        assert 404 in codes.values() and 200 in codes.values()
        ok = [a for a, c in codes.items() if c == 200]
        assert sb.http.get(sb.frontend + ok[0]).headers["cache-control"] == "no-store"
        assert sb.http.get(sb.frontend + "/i18n/en.json").status_code == 404
        # rate_limit_disabled: no 429 and no rate limit headers
        codes = {sb.get("/api/v1/users/me", "customer").status_code for _ in range(110)}
        assert codes == {200}
        assert "x-ratelimit-limit" not in sb.get("/api/v1/users/me", "customer").headers
        # email_template_missing: the customer receipt fails with error_type=other, the staff email goes out
        order, tx, email = sb.place_paid_order()
        rows = sb.wait_for("SELECT array_agg(type || ':' || status || ':' || coalesce(error_type, '') ORDER BY type) "
                           "FROM notifications WHERE metadata->>'transaction_id' = %s", (tx,),
                           lambda r: r[0] and len(r[0]) == 2 and all(":pending" not in x for x in r[0]))
        assert rows[0] == ["customer:failed:other", "staff:sent:"]
        assert "[EMAIL_SEND_FAILED] error_type=other" in sb.log("worker")
        # DEBUG=true: traces in error responses; ENABLE_DOCS=true: docs; CORS_ORIGINS=*: wildcard + credentials
        for r in (sb.http.get(sb.api + "/api/v1/users/me"), sb.http.get(sb.api + "/nope"),
                  sb.request("POST", "/api/v1/auth/login", json={})):
            body = r.json()
            assert "Traceback (most recent call last):" in body["trace"] and re.search(r'File ".*", line \d+',
                                                                                       body["trace"])
        for p in ("/docs", "/redoc", "/openapi.json"):
            assert sb.http.get(sb.api + p).status_code == 200
        assert "/api/v1/notifications/test" in sb.http.get(sb.api + "/openapi.json").json()["paths"]
        r = sb.http.get(sb.api + "/health", headers={"Origin": "https://evil.example"})
        assert r.headers["access-control-allow-origin"] == "*"
        assert r.headers["access-control-allow-credentials"] == "true"


def test_fault_group_security_and_data(start_sandbox):
    faults = "cors_reflect_any,auth_bypass,no_duplicate_prevention,drop_index,rls_disabled,slow_api"
    with start_sandbox(SANDBOX_FAULTS=faults, CORS_ORIGINS="https://app.example.com") as sb:
        r = sb.http.get(sb.api + "/health", headers={"Origin": "https://evil.example"})
        assert r.headers["access-control-allow-origin"] == "https://evil.example"
        assert r.headers["access-control-allow-credentials"] == "true"
        # slow_api: /api/* is slow, /health is not
        t = time.monotonic(); sb.http.get(sb.api + "/health"); fast = time.monotonic() - t
        t = time.monotonic(); r = sb.http.get(sb.api + "/api/v1/health"); slow = time.monotonic() - t
        assert fast < 0.5 and slow >= 1.4 and r.status_code == 200
        # auth_bypass: anonymous is the customer
        r = sb.http.get(sb.api + "/api/v1/users/me")
        assert r.status_code == 200 and r.json()["email"] == "customer@example.com"
        # no_duplicate_prevention: a replay sends again and duplicates rows
        order, tx, email = sb.place_paid_order()
        r = sb.request("POST", f"/api/v1/orders/{order['id']}/pay", "customer", json={"transaction_id": tx})
        assert r.json()["replayed"] is True
        mails = sb.wait_for_emails(lambda e: order["id"][:8] in e["subject"], count=4)
        assert len(mails) == 4
        assert "[DUPLICATE_NOTIFICATION]" not in sb.log("worker")
        with sb.db("readonly_dsn") as c:
            assert c.execute("SELECT count(*) FROM notifications WHERE metadata->>'transaction_id' = %s",
                             (tx,)).fetchone()[0] == 4
            idx = {r[0] for r in c.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'notifications'")}
            assert "idx_notifications_status" not in idx and "idx_notifications_transaction_type" not in idx
            assert c.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'notifications'::regclass"
                             ).fetchone()[0] is False
        with sb.db("app_dsn") as c:  # rls_disabled: app_user sees every row without a user context
            assert c.execute("SELECT count(*) FROM activity.notifications").fetchone()[0] >= 12
        assert "database faults applied: ['no_duplicate_prevention', 'drop_index', 'rls_disabled']" \
            in sb.log("migrations")


def test_fault_group_auth_and_versions(start_sandbox):
    with start_sandbox(SANDBOX_FAULTS="jwt_secret_mismatch,v1_removed") as sb:
        token = sb.login("customer")["access_token"]
        r = sb.http.get(sb.api + "/api/v2/users/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert sb.http.get(sb.api + "/api/v1/users/me").status_code == 410
        # default general rate limit: 100 per minute per client (anonymous: per IP), health not limited
        first = sb.http.get(sb.api + "/api/v2/users/me")
        assert first.headers["x-ratelimit-limit"] == "100"
        codes = [sb.http.get(sb.api + "/api/v2/users/me").status_code
                 for _ in range(int(first.headers["x-ratelimit-remaining"]))]
        assert 429 not in codes
        r = sb.http.get(sb.api + "/api/v2/users/me")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.headers["x-ratelimit-limit"] == "100" and r.headers["x-ratelimit-remaining"] == "0"
        assert sb.http.get(sb.api + "/api/v1/health").status_code == 200


def test_maintenance_mode(start_sandbox):
    with start_sandbox(MAINTENANCE_MODE="true") as sb:
        for p in ("/health", "/api/v1/health", "/api/v1/users/me", "/metrics"):
            r = sb.http.get(sb.api + p)
            assert r.status_code == 503 and r.headers["retry-after"] == "300"
            assert r.json()["status"] == "maintenance"
        r = sb.http.get(sb.frontend + "/health")
        assert r.status_code == 503 and r.json()["checks"] == {"api": "maintenance"}


def test_every_component_reports_the_release_version(sandbox):
    for url in (sandbox.api, sandbox.worker, sandbox.frontend):
        r = sandbox.http.get(url + "/version")
        assert r.status_code == 200 and r.json()["version"] == config.RELEASE_VERSION, url
    html = sandbox.http.get(sandbox.frontend + "/login")
    assert html.headers["cache-control"] == "no-cache" and html.headers["content-type"].startswith("text/html")
    r = sandbox.get("/api/v1/users/me", "staff")
    assert r.headers["content-type"] == "application/json" and r.json()["email"] == "staff@example.com"


def test_fault_group_bad_release(start_sandbox):
    """The realistic bad releases the smoke family must catch (issue 12, "false greens"), one sandbox for all."""
    faults = "new_route_unprotected,customer_gets_admin_data,wrong_identity,json_as_text_plain," \
             "html_cached_immutable,slow_api_routes,i18n_empty,frontend_api_unreachable,stale_instance"
    with start_sandbox(SANDBOX_FAULTS=faults) as sb:
        assert sb.state["faults"] == faults.split(",")
        # new_route_unprotected: the new v2 history route answers anonymous callers and customers; v1 is protected
        r = sb.get("/api/v2/notifications/history")
        assert r.status_code == 200 and "items" in r.json()
        assert sb.get("/api/v2/notifications/history", "customer").status_code == 200
        assert sb.get("/api/v1/notifications/history").status_code == 401
        # customer_gets_admin_data: a customer lists every account; anonymous is still refused
        r = sb.get("/api/v1/users", "customer")
        assert r.status_code == 200
        assert {"admin@example.com", "staff@example.com"} <= {u["email"] for u in r.json()["items"]}
        assert sb.get("/api/v1/users").status_code == 401
        assert sb.get("/api/v1/notifications/config", "customer").status_code == 403
        # wrong_identity: staff is told it is the admin; the others are themselves
        assert sb.get("/api/v1/users/me", "staff").json()["email"] == "admin@example.com"
        assert sb.get("/api/v1/users/me", "customer").json()["email"] == "customer@example.com"
        assert sb.get("/api/v2/users/me", "staff").json()["data"]["email"] == "staff@example.com"
        # json_as_text_plain: 2xx JSON under /api/ is labelled text/plain (still JSON); errors and /health are not
        r = sb.get("/api/v1/health")
        assert r.headers["content-type"] == "text/plain; charset=utf-8" and r.json()["status"] == "ok"
        assert sb.get("/api/v1/users/me").headers["content-type"] == "application/json"
        assert sb.http.get(sb.api + "/health").headers["content-type"] == "application/json"
        # html_cached_immutable: pages cached for a year; assets as before
        _, assets = _assets(sb, "/login")
        assert sb.http.get(sb.frontend + "/login").headers["cache-control"] == "public, max-age=31536000, immutable"
        assert sb.http.get(sb.frontend + assets[0]).headers["cache-control"] == "public, max-age=31536000, immutable"
        # slow_api_routes: the order listings are slow, health and other routes are not
        sb.auth("staff")
        started = time.monotonic()
        sb.get("/api/v1/orders", "staff")
        slow = time.monotonic() - started
        started = time.monotonic()
        sb.get("/api/v1/health")
        sb.get("/api/v1/users/me", "staff")
        fast = time.monotonic() - started
        assert slow >= 1.4 and fast < 1.0
        # i18n_empty: the translation files are served, empty
        r = sb.http.get(sb.frontend + "/i18n/en.json")
        assert r.status_code == 200 and r.json() == {}
        # frontend_api_unreachable: the frontend's health says ok, with its API check in error
        r = sb.http.get(sb.frontend + "/health")
        assert r.status_code == 200 and r.json() == {"status": "ok", "service": "frontend", "checks": {"api": "error"}}
        # stale_instance: the worker runs the previous release; the api and the frontend the current one
        assert sb.http.get(sb.worker + "/version").json()["version"] == config.PREVIOUS_VERSION
        for url in (sb.api, sb.frontend):
            assert sb.http.get(url + "/version").json()["version"] == config.RELEASE_VERSION


def test_fault_group_proving_the_smoke_steps(start_sandbox):
    """The faults that each prove one Then step of the smoke features can fail, one sandbox for all."""
    faults = "cors_wildcard_credentials,unhashed_assets,health_degraded_200,history_badges_missing,x_powered_by"
    with start_sandbox(SANDBOX_FAULTS=faults) as sb:
        assert sb.state["faults"] == faults.split(",")
        # cors_wildcard_credentials: an unlisted origin gets '*' with credentials (preflight and answer); the
        # frontend's own origin is still echoed
        preflight = {"Access-Control-Request-Method": "GET"}
        for r in (sb.http.options(sb.api + "/api/v1/users/me", headers={"Origin": "https://evil.example", **preflight}),
                  sb.http.get(sb.api + "/api/v1/health", headers={"Origin": "https://evil.example"})):
            assert r.headers["access-control-allow-origin"] == "*"
            assert r.headers["access-control-allow-credentials"] == "true"
        r = sb.http.options(sb.api + "/api/v1/users/me", headers={"Origin": sb.frontend, **preflight})
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == sb.frontend
        # unhashed_assets: plain names, served 200 and cached for a year
        _, assets = _assets(sb, "/login")
        assert {"/static/app.js", "/static/app.css"} <= set(assets)
        for a in assets:
            assert not re.search(r"\.[0-9a-f]{8}\.", a), a
            r = sb.http.get(sb.frontend + a)
            assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
        # health_degraded_200: every health route answers 200 "degraded" with all checks ok; the frontend's
        # health (which looks at the status code only) still says the api is ok
        for p in ("/health", "/api/v1/health", "/api/v2/health"):
            r = sb.http.get(sb.api + p)
            assert r.status_code == 200 and r.json() == {"status": "degraded",
                                                        "checks": {"api": "ok", "database": "ok"}}, p
        assert sb.http.get(sb.frontend + "/health").json()["checks"] == {"api": "ok"}
        # history_badges_missing: the history page (only) tells its script to render statuses as plain text
        assert 'data-fault="plain-status"' in sb.http.get(sb.frontend + "/settings/notifications/history").text
        assert "data-fault" not in sb.http.get(sb.frontend + "/settings/notifications").text
        assert 'hasFault("plain-status")' in sb.http.get(sb.frontend + "/static/app.js").text
        # x_powered_by: both services announce their framework, on every answer (errors included)
        for url in (sb.api + "/api/v1/health", sb.api + "/api/v1/users/me", sb.frontend + "/login",
                    sb.frontend + "/static/app.css"):
            assert sb.http.get(url).headers["x-powered-by"] == "Express", url


def test_no_server_banner_without_the_fault(sandbox):
    for url in (sandbox.api + "/api/v1/health", sandbox.frontend + "/login"):
        assert "x-powered-by" not in sandbox.http.get(url).headers, url
    r = sandbox.http.options(sandbox.api + "/api/v1/users/me",
                             headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
