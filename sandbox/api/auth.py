"""Authentication: JWTs issued at login (POST /api/v1/auth/login, /api/v2/auth/login, the OAuth2 form at
/api/v1/auth/token) and the dependencies the other routers protect their routes with (the auth_bypass and
jwt_secret_mismatch faults act here)."""

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import NamedTuple

import jwt
from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from psycopg.rows import dict_row
from pydantic import BaseModel

from .. import db
from .common import Settings, log


class Auth(NamedTuple):
    """The caller's identity, as FastAPI dependencies and helpers bound to one app's settings and pool."""
    issue_token: Callable[[dict], dict]
    authenticate: Callable[[str, str], dict]
    current_user: Callable[..., dict]  # any signed-in user: {"id", "email", "role"}
    seeded_user: Callable[[str], dict]  # one of db.ACCOUNTS, read from the database
    require: Callable[..., Callable[..., dict]]  # require("admin", "staff"): a dependency checking the role
    admin_only: Callable[..., dict]
    staff_or_admin: Callable[..., dict]
    faults: frozenset[str] = frozenset()


def make_auth(s: Settings, pool: db.Pool) -> Auth:
    def issue_token(user: dict) -> dict:
        now = int(time.time())
        claims = {"sub": str(user["id"]), "email": user["email"], "role": user["role"], "iat": now,
                  "exp": now + s.jwt_expires, "iss": "notification-platform"}
        secret = s.jwt_secret + ("-rotated" if "jwt_secret_mismatch" in s.faults else "")
        token = jwt.encode(claims, secret, algorithm=s.jwt_algorithm)
        return {"access_token": token, "token_type": "bearer", "expires_in": s.jwt_expires,
                "user": {"id": str(user["id"]), "email": user["email"], "role": user["role"]}}

    def authenticate(email: str, password: str) -> dict:
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT id, email, role, password_hash, is_active FROM users "
                              "WHERE lower(email) = lower(%s)", (email,)).fetchone()
            conn.commit()
        if not row or not row["is_active"] or not db.verify_password(password, row["password_hash"]):
            raise HTTPException(401, "Invalid email or password", headers={"WWW-Authenticate": "Bearer"})
        return row

    def current_user(authorization: str | None = Header(default=None)) -> dict:
        if not authorization or not authorization.lower().startswith("bearer "):
            if "auth_bypass" in s.faults:
                return _bypass_user()
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = jwt.decode(authorization[7:].strip(), s.jwt_secret, algorithms=[s.jwt_algorithm])
        except jwt.PyJWTError as e:
            if "auth_bypass" in s.faults:
                return _bypass_user()
            log.warning("invalid_jwt_token: %s", e)
            raise HTTPException(401, "Invalid or expired token",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return {"id": claims["sub"], "email": claims.get("email"), "role": claims.get("role", "customer")}

    def _bypass_user() -> dict:
        return _seeded_user("customer")

    def _seeded_user(account: str) -> dict:
        with pool.connection() as conn:
            row = conn.execute("SELECT id, email, role FROM users WHERE email = %s",
                               (db.ACCOUNTS[account]["email"],)).fetchone()
            conn.commit()
        return {"id": str(row[0]), "email": row[1], "role": row[2]}

    def require(*roles: str):
        def dep(user: dict = Depends(current_user)) -> dict:
            if user["role"] not in roles:
                raise HTTPException(403, f"Insufficient role: requires one of {', '.join(roles)}")
            return user
        return dep

    return Auth(issue_token=issue_token, authenticate=authenticate, current_user=current_user,
                seeded_user=_seeded_user, require=require, admin_only=require("admin"),
                staff_or_admin=require("admin", "staff"), faults=frozenset(s.faults))


class LoginIn(BaseModel):
    email: str
    password: str


def router(auth: Auth) -> APIRouter:
    routes = APIRouter()

    @routes.post("/api/v1/auth/login", tags=["auth"])
    @routes.post("/api/v2/auth/login", tags=["auth"])
    def login(body: LoginIn, response: Response):
        issued = auth.issue_token(auth.authenticate(body.email, body.password))
        # the session cookie (an opaque id, for the refresh route of a browser session); insecure_cookies drops
        # HttpOnly and SameSite (Secure is the HTTPS deployment's: the sandbox speaks plain HTTP)
        careless = "insecure_cookies" in auth.faults
        response.set_cookie("session_id", secrets.token_urlsafe(24), path="/api/v1/auth", httponly=not careless,
                            samesite=None if careless else "strict", max_age=issued["expires_in"])
        return issued

    @routes.post("/api/v1/auth/token", tags=["auth"])
    async def token(request: Request):
        form = await request.form()
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            raise HTTPException(422, "username and password are required (OAuth2 password form)")
        user = await asyncio.to_thread(auth.authenticate, str(username), str(password))
        return auth.issue_token(user)

    return routes
