"""Activity notifications (in-app), all through the activity.sp_* stored procedures under the caller's identity:
listing, unread count, settings, read / read-all, delete, and creation by another service (X-Service-Token)."""

import math
import uuid
from typing import Literal

import psycopg
from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import Response
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from .. import db
from .auth import Auth
from .common import Settings, check_uuid

ACT = "/api/v1/activity/notifications"


class SettingsIn(BaseModel):
    email_enabled: bool | None = None
    push_enabled: bool | None = None
    in_app_enabled: bool | None = None
    digest_frequency: Literal["never", "daily", "weekly"] | None = None
    muted_types: list[str] | None = None


class BulkIn(BaseModel):
    notification_ids: list[uuid.UUID] | None = None


class CreateIn(BaseModel):
    user_id: uuid.UUID
    type: str = Field(min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=200)
    message: str = ""
    data: dict = Field(default_factory=dict)
    priority: Literal["low", "normal", "high"] = "normal"


def router(s: Settings, pool: db.Pool, auth: Auth) -> APIRouter:
    routes = APIRouter()
    current_user = auth.current_user

    def sp(user_id: str, sql: str, args: tuple, many: bool = False):
        with pool.transaction(user_id, "user") as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, args)
            if many:
                return cur.fetchall()
            return cur.fetchone()

    def on_notification(user: dict, procedure: str, notification_id: str) -> dict:
        """Call an activity procedure on one of the user's notifications; 404 when it is not theirs or absent.
        (A procedure returning a boolean yields the column `ok`: false also means not found.)"""
        r = sp(user["id"], f"SELECT * FROM activity.{procedure}(%s, %s) AS ok", (check_uuid(notification_id), user["id"]))
        if not r or r.get("ok") is False:
            raise HTTPException(404, "Notification not found")
        return r

    @routes.get(ACT, tags=["activity"])
    def act_list(page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=100), unread_only: bool = False,
                 type: str | None = None, user: dict = Depends(current_user)):
        rows = sp(user["id"], "SELECT * FROM activity.sp_get_user_notifications(%s, %s, %s, %s, %s)",
                  (user["id"], page_size, (page - 1) * page_size, unread_only, type), many=True)
        total = rows[0]["total_count"] if rows else 0
        if not rows and page > 1:
            total = sp(user["id"], "SELECT count(*) AS n FROM activity.sp_get_user_notifications(%s, 100000, 0, %s, %s)",
                       (user["id"], unread_only, type))["n"]
        items = [{k: v for k, v in r.items() if k != "total_count"} for r in rows]
        return {"items": items, "total": total, "page": page, "page_size": page_size,
                "pages": max(1, math.ceil(total / page_size))}

    @routes.get(ACT + "/unread-count", tags=["activity"])
    def act_unread(user: dict = Depends(current_user)):
        r = sp(user["id"], "SELECT * FROM activity.sp_get_unread_count(%s, false)", (user["id"],))
        return {"unread_count": r["total_unread"], "by_type": r["by_type"]}

    @routes.get(ACT + "/settings", tags=["activity"])
    def act_settings(user: dict = Depends(current_user)):
        return sp(user["id"], "SELECT * FROM activity.sp_get_notification_settings(%s)", (user["id"],))

    @routes.put(ACT + "/settings", tags=["activity"])
    @routes.patch(ACT + "/settings", tags=["activity"])
    def act_update_settings(body: SettingsIn, user: dict = Depends(current_user)):
        return sp(user["id"], "SELECT * FROM activity.sp_update_notification_settings(%s, %s, %s, %s, %s, %s)",
                  (user["id"], body.email_enabled, body.push_enabled, body.in_app_enabled, body.digest_frequency,
                   body.muted_types))

    @routes.post(ACT + "/read-all", tags=["activity"])
    @routes.post(ACT + "/mark-read", tags=["activity"])
    def act_bulk_read(body: BulkIn | None = None, user: dict = Depends(current_user)):
        ids = [str(i) for i in body.notification_ids] if body and body.notification_ids is not None else None
        r = sp(user["id"], "SELECT activity.sp_mark_notifications_as_read_bulk(%s, %s::uuid[]) AS n",
               (user["id"], ids))
        return {"updated": r["n"]}

    @routes.post(ACT, status_code=201, tags=["activity"])
    def act_create(body: CreateIn, x_service_token: str | None = Header(default=None)):
        if not x_service_token or x_service_token != s.service_token:
            raise HTTPException(401, "A valid X-Service-Token is required")
        try:
            return sp(str(body.user_id), "SELECT * FROM activity.sp_create_notification(%s, %s, %s, %s, %s, %s)",
                      (str(body.user_id), body.type, body.title, body.message, Jsonb(body.data), body.priority))
        except psycopg.errors.ForeignKeyViolation:
            raise HTTPException(404, "User not found")

    @routes.get(ACT + "/{notification_id}", tags=["activity"])
    def act_get(notification_id: str, user: dict = Depends(current_user)):
        return on_notification(user, "sp_get_notification_by_id", notification_id)

    @routes.post(ACT + "/{notification_id}/read", tags=["activity"])
    @routes.patch(ACT + "/{notification_id}/read", tags=["activity"])
    def act_read(notification_id: str, user: dict = Depends(current_user)):
        return on_notification(user, "sp_mark_notification_as_read", notification_id)

    @routes.delete(ACT + "/{notification_id}", status_code=204, tags=["activity"])
    def act_delete(notification_id: str, user: dict = Depends(current_user)):
        on_notification(user, "sp_delete_notification", notification_id)
        return Response(status_code=204)

    return routes
