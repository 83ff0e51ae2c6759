"""API behaviour against the shared sandbox: health, auth, roles, preferences, notifications, orders, v2, metrics."""
import uuid

import pytest


def test_health_bodies(sandbox):
    for path in ("/health", "/api/v1/health"):
        r = sandbox.http.get(sandbox.api + path)
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "checks": {"api": "ok", "database": "ok"}}
    r = sandbox.http.get(sandbox.worker + "/health")
    assert r.json() == {"status": "ok", "service": "notification-service", "checks": {"database": "ok", "smtp": "ok"}}
    r = sandbox.http.get(sandbox.frontend + "/health")
    assert r.json() == {"status": "ok", "service": "frontend", "checks": {"api": "ok"}}
    assert sandbox.http.get(sandbox.maildev + "/api/healthz").status_code == 200


def test_login_json_and_oauth2_form(sandbox):
    body = sandbox.login("admin")
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["user"]["email"] == "admin@example.com" and body["user"]["role"] == "admin"
    r = sandbox.http.post(sandbox.api + "/api/v1/auth/token",
                          data={"username": "staff@example.com", "password": "staff-pass-123"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "staff"
    r = sandbox.http.post(sandbox.api + "/api/v1/auth/login", json={"email": "admin@example.com", "password": "x"})
    assert r.status_code == 401 and "detail" in r.json() and "trace" not in r.json()


def test_legacy_account_from_v1_1_0_can_log_in(sandbox):
    assert sandbox.login("legacy")["user"]["role"] == "customer"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}])
def test_unauthenticated_is_401_with_www_authenticate(sandbox, headers):
    r = sandbox.get("/api/v1/users/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "detail" in r.json()


def test_roles(sandbox):
    assert sandbox.get("/api/v1/users/me", "customer").json()["role"] == "customer"
    assert sandbox.get("/api/v1/notifications/history", "customer").status_code == 403
    assert sandbox.get("/api/v1/notifications/history", "staff").status_code == 200
    assert sandbox.get("/api/v1/notifications/config", "staff").status_code == 403
    assert sandbox.get("/api/v1/notifications/config", "admin").status_code == 200
    assert sandbox.get("/api/v1/users", "customer").status_code == 403


def test_notification_preferences(sandbox):
    me = sandbox.get("/api/v1/users/me", "staff").json()
    prefs = sandbox.get("/api/v1/users/notification-preferences", "staff").json()
    assert prefs == {"user_id": me["id"], "staff_notifications_enabled": True, "email_enabled": True}
    r = sandbox.request("PATCH", f"/api/v1/users/{me['id']}/notification-preferences", "staff",
                        json={"email_enabled": False})
    assert r.status_code == 200 and r.json()["email_enabled"] is False
    r = sandbox.request("PATCH", f"/api/v1/users/{me['id']}/notification-preferences", "admin",
                        json={"email_enabled": True})
    assert r.status_code == 200 and r.json()["email_enabled"] is True
    # a customer cannot change someone else's preferences
    r = sandbox.request("PATCH", f"/api/v1/users/{me['id']}/notification-preferences", "customer",
                        json={"staff_notifications_enabled": False})
    assert r.status_code == 403


def test_history_pagination_and_filter(sandbox):
    r = sandbox.get("/api/v1/notifications/history?page=1&page_size=2", "admin").json()
    assert r["page"] == 1 and r["page_size"] == 2 and len(r["items"]) <= 2 and r["total"] >= 4
    failed = sandbox.get("/api/v1/notifications/history?status=failed", "admin").json()
    assert failed["items"] and all(n["status"] == "failed" for n in failed["items"])
    assert all(n["error_type"] in ("auth", "connection", "timeout", "other") for n in failed["items"])
    assert sandbox.get("/api/v1/notifications/history?status=bogus", "admin").status_code == 422


def test_history_v2_cursor_pagination(sandbox):
    seen, cursor = [], None
    for _ in range(20):
        q = "/api/v2/notifications/history?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = sandbox.get(q, "admin").json()
        assert set(body) == {"items", "next_cursor"}
        seen += [n["id"] for n in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 4


def test_notification_config_get_patch(sandbox):
    cfg = sandbox.get("/api/v1/notifications/config", "admin").json()
    assert cfg["staff_notifications_enabled"] is True and cfg["retry_attempts"] == 3
    r = sandbox.request("PATCH", "/api/v1/notifications/config", "admin", json={"sender_name": "Shop"})
    assert r.status_code == 200 and r.json()["sender_name"] == "Shop"
    assert sandbox.request("PATCH", "/api/v1/notifications/config", "admin",
                           json={"retry_attempts": 0}).status_code == 422
    assert sandbox.request("PATCH", "/api/v1/notifications/config", "customer", json={}).status_code == 403


def test_test_email_is_sent_and_rate_limited(sandbox):
    rcpt = f"test-{uuid.uuid4().hex[:8]}@example.com"
    codes = []
    for _ in range(5):
        r = sandbox.request("POST", "/api/v1/notifications/test", "admin",
                            json={"recipient_email": rcpt, "notification_type": "staff"})
        codes.append(r.status_code)
    assert codes == [202] * 5
    r = sandbox.request("POST", "/api/v1/notifications/test", "admin",
                        json={"recipient_email": rcpt, "notification_type": "staff"})
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.headers["x-ratelimit-limit"] == "5" and r.headers["x-ratelimit-remaining"] == "0"
    mails = sandbox.wait_for_emails(lambda e: any(t["address"] == rcpt for t in e["to"]), count=5)
    assert len(mails) == 5
    assert "[EMAIL_SEND_SUCCESS]" in sandbox.log("worker")


def test_resend_failed_notification(sandbox):
    failed = sandbox.get("/api/v1/notifications/history?status=failed", "admin").json()["items"][0]
    r = sandbox.request("POST", f"/api/v1/notifications/{failed['id']}/resend", "admin")
    assert r.status_code == 202
    row = sandbox.wait_for("SELECT status FROM notifications WHERE id = %s", (failed["id"],),
                           lambda row: row[0] == "sent")
    assert row[0] == "sent"
    assert sandbox.request("POST", f"/api/v1/notifications/{uuid.uuid4()}/resend", "admin").status_code == 404
    assert sandbox.request("POST", f"/api/v1/notifications/{failed['id']}/resend", "staff").status_code == 403


def test_paid_order_sends_staff_and_customer_emails(sandbox):
    order, tx, email = sandbox.place_paid_order()
    short = order["id"][:8]
    mails = sandbox.wait_for_emails(lambda e: short in e["subject"], count=2)
    to = sorted(t["address"] for m in mails for t in m["to"])
    assert to == sorted(["staff@example.com", email])
    receipt = next(m for m in mails if email in [t["address"] for t in m["to"]])
    assert sandbox.frontend in receipt["html"] and tx in receipt["text"]
    rows = sandbox.wait_for("SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM notifications "
                            "WHERE metadata->>'transaction_id' = %s", (tx,), lambda r: r[0] == 2)
    assert rows == (2, 2)
    got = sandbox.get(f"/api/v1/orders/{order['id']}", "customer").json()
    assert got["status"] == "paid" and got["transaction_id"] == tx and got["total"] == 25.0


def test_duplicate_prevention_on_replay(sandbox):
    order, tx, email = sandbox.place_paid_order()
    short = order["id"][:8]
    assert len(sandbox.wait_for_emails(lambda e: short in e["subject"], count=2)) == 2
    before = sandbox.http.get(sandbox.worker + "/metrics").text
    r = sandbox.request("POST", f"/api/v1/orders/{order['id']}/pay", "customer", json={"transaction_id": tx})
    assert r.status_code == 200 and r.json()["replayed"] is True
    r = sandbox.request("POST", "/api/v1/admin/events/replay", "admin", json={"transaction_id": tx})
    assert r.status_code == 202
    sandbox.wait_for("SELECT count(*) FROM notification_duplicates WHERE transaction_id = %s", (tx,),
                     lambda row: row[0] == 4)
    assert len(sandbox.wait_for_emails(lambda e: short in e["subject"], count=3, timeout=1.5)) == 2
    assert f"[DUPLICATE_NOTIFICATION] transaction_id={tx}" in sandbox.log("worker")
    after = sandbox.http.get(sandbox.worker + "/metrics").text

    def metric(text):
        return float(next(l for l in text.splitlines() if l.startswith("notification_duplicate_prevented_total"))
                     .split()[-1])
    assert metric(after) - metric(before) == 4
    # paying a paid order with another transaction is a conflict
    r = sandbox.request("POST", f"/api/v1/orders/{order['id']}/pay", "customer", json={"transaction_id": "other"})
    assert r.status_code == 409


def test_orders_visibility_and_v2_shapes(sandbox):
    r = sandbox.request("POST", "/api/v2/orders", "customer",
                        json={"items": [{"sku": "S", "quantity": 3, "unit_price_cents": 199}]})
    assert r.status_code == 201
    data = r.json()["data"]
    assert data["total_cents"] == 597 and "total" not in data
    v1 = sandbox.get(f"/api/v1/orders/{data['id']}", "customer").json()
    assert v1["total"] == 5.97 and "total_cents" not in v1
    assert sandbox.get(f"/api/v1/orders/{data['id']}", "legacy").status_code == 404
    assert sandbox.get(f"/api/v1/orders/{data['id']}", "staff").status_code == 200
    me2 = sandbox.get("/api/v2/users/me", "customer").json()
    assert set(me2) == {"data"} and me2["data"]["email"] == "customer@example.com"
    legacy_orders = sandbox.get("/api/v1/orders", "legacy").json()
    assert legacy_orders["total"] == 2 and all(o["status"] == "paid" for o in legacy_orders["items"])


def test_metrics(sandbox):
    text = sandbox.http.get(sandbox.api + "/metrics").text
    for name in ("http_requests_total{", "http_request_duration_seconds_bucket", "notification_email_sent_total",
                 'notification_email_failed_total{error_type="connection"}', "notification_duplicate_prevented_total",
                 'notification_queue_lag{group="notification-service"}'):
        assert name in text
    wtext = sandbox.http.get(sandbox.worker + "/metrics").text
    for name in ("notification_email_sent_total", 'notification_email_failed_total{error_type="auth"}',
                 "notification_email_duration_ms_bucket", "notification_duplicate_prevented_total",
                 'notification_queue_lag{group="notification-service"}'):
        assert name in wtext


def test_security_headers_and_cors_default(sandbox):
    r = sandbox.http.get(sandbox.api + "/health", headers={"Origin": sandbox.frontend})
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert "max-age" in r.headers["strict-transport-security"] and r.headers["content-security-policy"]
    assert r.headers["referrer-policy"]
    assert r.headers["access-control-allow-origin"] == sandbox.frontend
    assert r.headers["access-control-allow-credentials"] == "true" and "Origin" in r.headers["vary"]
    r = sandbox.http.get(sandbox.api + "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    r = sandbox.http.options(sandbox.api + "/api/v1/users/me", headers={
        "Origin": sandbox.frontend, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == sandbox.frontend
    assert "authorization" in r.headers["access-control-allow-headers"].lower()


def test_production_defaults(sandbox):
    for p in ("/docs", "/redoc", "/openapi.json"):
        assert sandbox.http.get(sandbox.api + p).status_code == 404
    r = sandbox.http.get(sandbox.api + "/no/such/route")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = sandbox.get("/api/v1/orders/not-a-uuid", "customer")
    assert r.status_code == 404 and "trace" not in r.json()
    assert "X-RateLimit-Limit" in sandbox.get("/api/v1/users/me", "customer").headers
    assert "X-RateLimit-Limit" not in sandbox.http.get(sandbox.api + "/health").headers
