"""Users and their order-email preferences: /api/v1/users/me, /api/v2/users/me, the admin's user listing and
/api/v1/users/.../notification-preferences (the wrong_identity and customer_gets_admin_data faults act here)."""

import uuid

from fastapi import APIRouter, Depends, HTTPException
from psycopg.rows import dict_row
from pydantic import BaseModel

from .. import db
from .auth import Auth
from .common import Settings


class PrefsIn(BaseModel):
    staff_notifications_enabled: bool | None = None
    email_enabled: bool | None = None


def user_v1(row: dict) -> dict:
    return {"id": str(row["id"]), "email": row["email"], "full_name": row["full_name"], "role": row["role"],
            "created_at": row["created_at"]}


def prefs_body(row: dict) -> dict:
    return {"user_id": str(row["id"]), "staff_notifications_enabled": row["staff_notifications_enabled"],
            "email_enabled": row["email_notifications_enabled"]}


def router(s: Settings, pool: db.Pool, auth: Auth) -> APIRouter:
    routes = APIRouter()
    current_user = auth.current_user
    # customer_gets_admin_data: the user listing checks that the caller is signed in, not that it is an admin
    users_access = current_user if "customer_gets_admin_data" in s.faults else auth.admin_only

    def load_user(user_id: str) -> dict:
        try:
            uuid.UUID(str(user_id))
        except ValueError:
            raise HTTPException(404, "User not found")
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT id, email, full_name, role, staff_notifications_enabled, "
                              "email_notifications_enabled, created_at FROM users WHERE id = %s",
                              (user_id,)).fetchone()
            conn.commit()
        if not row:
            raise HTTPException(404, "User not found")
        return row

    @routes.get("/api/v1/users/me", tags=["users"])
    def me(user: dict = Depends(current_user)):
        if "wrong_identity" in s.faults and user["role"] == "staff":  # a cache keyed by the wrong field
            return user_v1(load_user(auth.seeded_user("admin")["id"]))
        return user_v1(load_user(user["id"]))

    @routes.get("/api/v2/users/me", tags=["v2"])
    def me_v2(user: dict = Depends(current_user)):
        row = load_user(user["id"])
        return {"data": {"id": str(row["id"]), "email": row["email"], "name": row["full_name"],
                         "role": row["role"], "created_at": row["created_at"],
                         "preferences": prefs_body(row)}}

    @routes.get("/api/v1/users", tags=["users"])
    def list_users(user: dict = Depends(users_access)):
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT id, email, full_name, role, staff_notifications_enabled, "
                               "email_notifications_enabled, created_at FROM users ORDER BY created_at").fetchall()
            conn.commit()
        return {"items": [user_v1(r) for r in rows], "total": len(rows)}

    @routes.get("/api/v1/users/notification-preferences", tags=["users"])
    def get_prefs(user: dict = Depends(current_user)):
        return prefs_body(load_user(user["id"]))

    @routes.patch("/api/v1/users/{user_id}/notification-preferences", tags=["users"])
    def patch_prefs(user_id: str, body: PrefsIn, user: dict = Depends(current_user)):
        if user["role"] != "admin" and str(user["id"]) != str(user_id):
            raise HTTPException(403, "You can only change your own notification preferences")
        target = load_user(user_id)
        if body.staff_notifications_enabled and target["role"] == "customer":
            raise HTTPException(422, "staff notifications are only available to staff and admin users")
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute("UPDATE users SET staff_notifications_enabled = coalesce(%s, staff_notifications_enabled),"
                        " email_notifications_enabled = coalesce(%s, email_notifications_enabled), "
                        "updated_at = now() WHERE id = %s",
                        (body.staff_notifications_enabled, body.email_enabled, user_id))
            conn.commit()
        return prefs_body(load_user(user_id))

    return routes
