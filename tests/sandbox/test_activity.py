"""The notifications API of the notifications-API checklist, implemented by the activity.sp_* procedures."""
import uuid

import psycopg
import pytest

PROCEDURES = ["sp_get_user_notifications", "sp_get_notification_by_id", "sp_mark_notification_as_read",
              "sp_mark_notifications_as_read_bulk", "sp_delete_notification", "sp_get_unread_count",
              "sp_create_notification", "sp_get_notification_settings", "sp_update_notification_settings"]
ACT = "/api/v1/activity/notifications"


def test_procedures_exist_and_app_user_may_execute_them(sandbox):
    with sandbox.db() as c:
        for p in PROCEDURES:
            ok = c.execute("SELECT has_function_privilege('app_user', oid, 'EXECUTE') FROM pg_proc "
                           "WHERE proname = %s AND pronamespace = 'activity'::regnamespace", (p,)).fetchone()
            assert ok == (True,), p


def test_create_requires_service_token(sandbox):
    uid = sandbox.get("/api/v1/users/me", "customer").json()["id"]
    body = {"user_id": uid, "type": "order", "title": "Shipped", "message": "Your parcel left"}
    assert sandbox.request("POST", ACT, json=body).status_code == 401
    assert sandbox.request("POST", ACT, json=body, headers={"X-Service-Token": "wrong"}).status_code == 401
    r = sandbox.request("POST", ACT, json=body, headers={"X-Service-Token": sandbox.state["service_token"]})
    assert r.status_code == 201 and r.json()["title"] == "Shipped" and r.json()["is_read"] is False


def test_list_get_read_bulk_delete_count(sandbox):
    token = {"X-Service-Token": sandbox.state["service_token"]}
    uid = sandbox.get("/api/v1/users/me", "staff").json()["id"]
    ids = [sandbox.request("POST", ACT, headers=token, json={"user_id": uid, "type": "system", "title": f"n{i}"})
           .json()["id"] for i in range(3)]
    before = sandbox.get(ACT + "/unread-count", "staff").json()["unread_count"]
    page = sandbox.get(ACT + "?page=1&page_size=2", "staff").json()
    assert len(page["items"]) == 2 and page["total"] >= 3
    assert sandbox.get(f"{ACT}/{ids[0]}", "staff").json()["id"] == ids[0]
    assert sandbox.get(f"{ACT}/{ids[0]}", "customer").status_code == 404  # not hers
    assert sandbox.request("POST", f"{ACT}/{ids[0]}/read", "staff").json()["is_read"] is True
    assert sandbox.get(ACT + "/unread-count", "staff").json()["unread_count"] == before - 1
    r = sandbox.request("POST", ACT + "/read-all", "staff", json={"notification_ids": ids[1:]})
    assert r.json() == {"updated": 2}
    assert sandbox.request("DELETE", f"{ACT}/{ids[2]}", "staff").status_code == 204
    assert sandbox.get(f"{ACT}/{ids[2]}", "staff").status_code == 404
    assert sandbox.request("DELETE", f"{ACT}/{uuid.uuid4()}", "staff").status_code == 404
    unread = sandbox.get(ACT + "?unread_only=true", "staff").json()["items"]
    assert all(not n["is_read"] for n in unread)


def test_settings(sandbox):
    s = sandbox.get(ACT + "/settings", "legacy").json()
    assert s["email_enabled"] is True and s["digest_frequency"] == "daily"
    r = sandbox.request("PUT", ACT + "/settings", "legacy", json={"digest_frequency": "weekly", "push_enabled": True})
    assert r.status_code == 200 and r.json()["digest_frequency"] == "weekly" and r.json()["email_enabled"] is True
    assert sandbox.request("PUT", ACT + "/settings", "legacy", json={"digest_frequency": "hourly"}).status_code == 422


def test_app_user_cannot_bypass_rls(sandbox):
    with sandbox.db("app_dsn", autocommit=True) as c:
        # no user context: nothing visible
        assert c.execute("SELECT count(*) FROM activity.notifications").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM notifications").fetchone()[0] == 0
        uid = c.execute("SELECT id FROM users WHERE email = 'customer@example.com'").fetchone()[0]
        other = c.execute("SELECT id FROM users WHERE email = 'legacy@example.com'").fetchone()[0]
        c.execute("SELECT set_config('app.user_id', %s, false)", (str(uid),))
        owners = {r[0] for r in c.execute("SELECT user_id FROM activity.notifications").fetchall()}
        assert owners == {uid}
        # the procedure for someone else's id returns nothing either
        assert c.execute("SELECT count(*) FROM activity.sp_get_user_notifications(%s, 100, 0)",
                         (other,)).fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("ALTER TABLE activity.notifications DISABLE ROW LEVEL SECURITY")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SET row_security = off; SELECT count(*) FROM activity.notifications")
