"""Order-email notifications: the history (v1 pages, v2 cursors), resending one, the admin's test e-mail (with its
own rate limit) and the notification configuration (the new_route_unprotected fault acts here)."""

import base64
import binascii
import datetime as dt
import math
import time
import uuid
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from limits import RateLimitItem
from limits.strategies import FixedWindowRateLimiter
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from .. import db
from .auth import Auth
from .common import EmailStr, Settings

NOTIF_COLS = ("id, order_id, user_id, type, recipient_email, subject, status, attempts, error_type, metadata, "
              "created_at, sent_at")
CONFIG_COLS = ("staff_notifications_enabled, customer_receipts_enabled, sender_name, reply_to, retry_attempts, "
               "updated_at")


class TestIn(BaseModel):
    recipient_email: EmailStr
    notification_type: Literal["staff", "customer"] = "staff"


class ConfigIn(BaseModel):
    staff_notifications_enabled: bool | None = None
    customer_receipts_enabled: bool | None = None
    sender_name: str | None = Field(default=None, min_length=1, max_length=100)
    reply_to: EmailStr | None = None
    retry_attempts: int | None = Field(default=None, ge=1, le=10)


def notif_out(r: dict) -> dict:
    return {"id": str(r["id"]), "order_id": str(r["order_id"]) if r["order_id"] else None,
            "user_id": str(r["user_id"]) if r["user_id"] else None, "type": r["type"],
            "recipient_email": r["recipient_email"], "subject": r["subject"], "status": r["status"],
            "attempts": r["attempts"], "error_type": r["error_type"], "metadata": r["metadata"],
            "transaction_id": (r["metadata"] or {}).get("transaction_id"),
            "created_at": r["created_at"], "sent_at": r["sent_at"]}


def router(s: Settings, pool: db.Pool, auth: Auth, limiter: FixedWindowRateLimiter,
           test_limit: RateLimitItem) -> APIRouter:
    routes = APIRouter()
    admin_only, staff_or_admin = auth.admin_only, auth.staff_or_admin
    # new_route_unprotected: the release's new v2 history route was registered without its auth dependency
    v2_history_access = (lambda: auth.seeded_user("admin")) if "new_route_unprotected" in s.faults \
        else staff_or_admin

    @routes.get("/api/v1/notifications/history", tags=["notifications"])
    def history(status: Literal["pending", "sent", "failed"] | None = None,
                type: Literal["staff", "customer"] | None = None,
                page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=100),
                user: dict = Depends(staff_or_admin)):
        where, args = ["true"], []
        if status:
            where.append("status = %s"); args.append(status)
        if type:
            where.append("type = %s"); args.append(type)
        w = " AND ".join(where)
        with pool.transaction(user["id"], user["role"]) as conn, conn.cursor(row_factory=dict_row) as cur:
            total = cur.execute(f"SELECT count(*) AS n FROM notifications WHERE {w}", args).fetchone()["n"]
            rows = cur.execute(f"SELECT {NOTIF_COLS} FROM notifications WHERE {w} "
                               "ORDER BY created_at DESC, id LIMIT %s OFFSET %s",
                               [*args, page_size, (page - 1) * page_size]).fetchall()
        return {"items": [notif_out(r) for r in rows], "total": total, "page": page, "page_size": page_size,
                "pages": max(1, math.ceil(total / page_size))}

    @routes.get("/api/v2/notifications/history", tags=["v2"])
    def history_v2(status: Literal["pending", "sent", "failed"] | None = None,
                   cursor: str | None = None, limit: int = Query(20, ge=1, le=100),
                   user: dict = Depends(v2_history_access)):
        where, args = ["true"], []
        if status:
            where.append("status = %s"); args.append(status)
        if cursor:
            try:
                ts, cid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
                dt.datetime.fromisoformat(ts); uuid.UUID(cid)
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise HTTPException(400, "Invalid cursor")
            where.append("(created_at, id) < (%s::timestamptz, %s::uuid)"); args += [ts, cid]
        with pool.transaction(user["id"], user["role"]) as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT {NOTIF_COLS} FROM notifications WHERE {' AND '.join(where)} "
                               "ORDER BY created_at DESC, id DESC LIMIT %s", [*args, limit + 1]).fetchall()
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            nxt = base64.urlsafe_b64encode(f"{rows[-1]['created_at'].isoformat()}|{rows[-1]['id']}".encode()).decode()
        return {"items": [notif_out(r) for r in rows], "next_cursor": nxt}

    @routes.post("/api/v1/notifications/{notification_id}/resend", status_code=202, tags=["notifications"])
    def resend(notification_id: str, user: dict = Depends(admin_only)):
        try:
            uuid.UUID(notification_id)
        except ValueError:
            raise HTTPException(404, "Notification not found")
        with pool.transaction(user["id"], user["role"]) as conn:
            row = conn.execute("UPDATE notifications SET status = 'pending', error_type = NULL, error_message = NULL "
                               "WHERE id = %s RETURNING id", (notification_id,)).fetchone()
            if not row:
                raise HTTPException(404, "Notification not found")
            conn.execute("INSERT INTO outbox_events (event_type, aggregate_id, payload) VALUES "
                         "('notification.send', %s, %s)",
                         (notification_id, Jsonb({"notification_id": notification_id, "resend": True})))
        return {"id": notification_id, "status": "pending", "message": "Notification queued for resend"}

    @routes.post("/api/v1/notifications/test", status_code=202, tags=["notifications"])
    def send_test(body: TestIn, user: dict = Depends(admin_only)):
        key = str(user["id"])
        extra = {}
        if "rate_limit_disabled" not in s.faults:
            allowed = limiter.hit(test_limit, "test-email", key)
            reset, remaining = limiter.get_window_stats(test_limit, "test-email", key)
            if not allowed:
                retry = max(1, int(math.ceil(reset - time.time())))
                raise HTTPException(429, f"Rate limit exceeded: {test_limit.amount} test notifications per minute",
                                    headers={"Retry-After": str(retry),
                                             "X-RateLimit-Limit": str(test_limit.amount),
                                             "X-RateLimit-Remaining": "0",
                                             "X-RateLimit-Reset": str(int(math.ceil(reset)))})
        nid = str(uuid.uuid4())
        subject = f"Test {body.notification_type} notification"
        with pool.transaction(user["id"], user["role"]) as conn:
            conn.execute("INSERT INTO notifications (id, user_id, type, recipient_email, subject, metadata) "
                         "VALUES (%s, %s, %s, %s, %s, %s)",
                         (nid, user["id"], body.notification_type, body.recipient_email, subject,
                          Jsonb({"test": True, "requested_by": user["email"]})))
            conn.execute("INSERT INTO outbox_events (event_type, aggregate_id, payload) VALUES "
                         "('notification.send', %s, %s)", (nid, Jsonb({"notification_id": nid, "test": True})))
        return JSONResponse({"message": "Test notification queued", "notification_id": nid, "status": "pending",
                             "recipient_email": body.recipient_email,
                             "notification_type": body.notification_type}, status_code=202, headers=extra)

    @routes.delete("/api/v1/notifications/{notification_id}", status_code=204, tags=["notifications"])
    def delete_notification(notification_id: str, user: dict = Depends(admin_only)):
        """Remove a notification and its queued events: how a post-deploy check removes the test notifications
        it sent."""
        try:
            uuid.UUID(notification_id)
        except ValueError:
            raise HTTPException(404, "Notification not found")
        with pool.transaction(user["id"], user["role"]) as conn:
            conn.execute("SELECT set_config('app.user_role', 'service', true)")
            conn.execute("DELETE FROM outbox_events WHERE aggregate_id = %s", (notification_id,))
            row = conn.execute("DELETE FROM notifications WHERE id = %s RETURNING id", (notification_id,)).fetchone()
        if not row:
            raise HTTPException(404, "Notification not found")
        return Response(status_code=204)

    @routes.get("/api/v1/notifications/config", tags=["notifications"])
    def get_config(user: dict = Depends(admin_only)):
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(f"SELECT {CONFIG_COLS} FROM notification_configs WHERE id = 1").fetchone()
            conn.commit()
        return row

    @routes.patch("/api/v1/notifications/config", tags=["notifications"])
    def patch_config(body: ConfigIn, user: dict = Depends(admin_only)):
        fields = body.model_dump(exclude_unset=True)
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            if fields:
                sets = ", ".join(f"{k} = %s" for k in fields)
                cur.execute(f"UPDATE notification_configs SET {sets}, updated_by = %s, updated_at = now() "
                            "WHERE id = 1", [*fields.values(), user["id"]])
            row = cur.execute(f"SELECT {CONFIG_COLS} FROM notification_configs WHERE id = 1").fetchone()
            conn.commit()
        return row

    return routes
