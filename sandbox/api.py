"""The platform API (FastAPI): auth, users and preferences, order-email notifications, activity notifications
(through the activity.sp_* stored procedures), orders with an outbox, API v1 and v2, rate limits, metrics.

Run: python -m sandbox.api   (port from SANDBOX_PORT, database from SANDBOX_DATABASE_URL or DATABASE_URL)
"""

import asyncio
import base64
import binascii
import datetime as dt
import logging
import math
import time
import traceback
import uuid
from typing import Any, Literal

import jwt
import psycopg
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from prometheus_client import CONTENT_TYPE_LATEST, disable_created_metrics, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from typing import Annotated

from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import config, db

log = logging.getLogger("api")
disable_created_metrics()
VERSION = config.RELEASE_VERSION
POWERED_BY = "Express"  # what the x_powered_by fault announces (Express's default, as when Helmet is left out)
EmailStr = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class Settings:
    def __init__(self) -> None:
        self.faults = config.faults()
        self.database_url = config.env_str("SANDBOX_DATABASE_URL") or config.env_str("DATABASE_URL")
        self.jwt_secret = config.env_str("JWT_SECRET", "sandbox-dev-secret-change-me-please-0123456789")
        self.jwt_algorithm = config.env_str("JWT_ALGORITHM", "HS256")
        self.jwt_expires = config.env_int("JWT_EXPIRES_SECONDS", 3600)
        self.service_token = config.env_str("SERVICE_TOKEN", "sandbox-service-token")
        frontend = config.env_str("SANDBOX_FRONTEND_URL", "http://127.0.0.1:3000")
        origins = config.env_str("CORS_ORIGINS", frontend)
        self.cors_origins = [o.strip().rstrip("/") for o in origins.split(",") if o.strip()]
        self.enable_docs = config.env_bool("ENABLE_DOCS", False)
        self.debug = config.env_bool("DEBUG", False)
        self.environment = config.env_str("ENVIRONMENT", "production")
        self.maintenance = config.env_bool("MAINTENANCE_MODE", False)
        self.rate_limit = config.env_int("RATE_LIMIT_PER_MINUTE", 100)
        self.test_email_limit = config.env_int("TEST_EMAIL_RATE_LIMIT_PER_MINUTE", 5)


def create_app(settings: Settings | None = None) -> FastAPI:
    s = settings or Settings()
    pool = db.Pool(s.database_url, size=10)
    app = FastAPI(
        title="Notification Platform API", version=VERSION,
        docs_url="/docs" if s.enable_docs else None,
        redoc_url="/redoc" if s.enable_docs else None,
        openapi_url="/openapi.json" if s.enable_docs else None,
    )
    app.state.settings = s
    app.state.pool = pool
    storage = MemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    general_limit = parse_limit(f"{max(s.rate_limit, 1)}/minute")
    test_limit = parse_limit(f"{max(s.test_email_limit, 1)}/minute")

    registry = CollectorRegistry()
    http_requests = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
    http_duration = Histogram("http_request_duration_seconds", "HTTP request duration", ["method", "route"],
                              registry=registry)
    registry.register(_NotificationCollector(pool))

    # ------------------------------------------------------------------------------------------- errors

    def error_body(status: int, detail: Any, exc: BaseException | None = None) -> dict:
        body: dict[str, Any] = {"detail": detail}
        if s.debug:
            if exc is not None and exc.__traceback__ is not None:
                body["trace"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            else:
                try:
                    raise RuntimeError(f"HTTP {status}: {detail}")
                except RuntimeError as e:
                    body["trace"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        return body

    def error_response(status: int, detail: Any, headers: dict | None = None, exc=None) -> JSONResponse:
        return JSONResponse(error_body(status, detail, exc), status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_exc(request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, exc.detail, getattr(exc, "headers", None), exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_exc(request: Request, exc: RequestValidationError):
        from fastapi.encoders import jsonable_encoder
        return error_response(422, jsonable_encoder(exc.errors()), None, exc)

    # ------------------------------------------------------------------------------------------- middleware

    security_headers = {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    docs_csp = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
                "frame-ancestors 'none'")

    def cors_headers(origin: str | None) -> dict[str, str]:
        if not origin:
            return {}
        if "cors_reflect_any" in s.faults:
            return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                    "Vary": "Origin"}
        if "*" in s.cors_origins:  # the classic misconfiguration: wildcard together with credentials
            return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}
        if origin.rstrip("/") in s.cors_origins:
            return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                    "Vary": "Origin"}
        if "cors_wildcard_credentials" in s.faults:  # unlisted origins fall back to the wildcard, credentials still on
            return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}
        return {"Vary": "Origin"}

    def rate_key(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            try:
                claims = jwt.decode(auth[7:].strip(), s.jwt_secret, algorithms=[s.jwt_algorithm])
                return f"user:{claims.get('sub')}"
            except jwt.PyJWTError:
                pass
        return f"ip:{request.client.host if request.client else 'unknown'}"

    def finish(response: Response, request: Request, extra: dict | None = None) -> Response:
        if "no_security_headers" not in s.faults:
            for k, v in security_headers.items():
                response.headers.setdefault(k, v)
            if request.url.path in ("/docs", "/redoc"):
                response.headers["Content-Security-Policy"] = docs_csp
        for k, v in cors_headers(request.headers.get("origin")).items():
            if k == "Vary" and "vary" in response.headers and "Origin" not in response.headers["vary"]:
                response.headers["Vary"] = response.headers["vary"] + ", Origin"
            else:
                response.headers[k] = v
        for k, v in (extra or {}).items():
            if k.lower() not in response.headers:
                response.headers[k] = v
        if "x_powered_by" in s.faults:  # the framework's default banner, left on
            response.headers["X-Powered-By"] = POWERED_BY
        return response

    @app.middleware("http")
    async def platform_middleware(request: Request, call_next):
        start = time.perf_counter()
        path = request.url.path
        if s.maintenance:
            return finish(JSONResponse({"status": "maintenance", "detail": "Scheduled maintenance"},
                                       status_code=503, headers={"Retry-After": "300"}), request)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            origin = request.headers.get("origin")
            h = cors_headers(origin)
            if "Access-Control-Allow-Origin" in h:
                h.update({"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                          "Access-Control-Allow-Headers": request.headers.get(
                              "access-control-request-headers", "Authorization, Content-Type"),
                          "Access-Control-Max-Age": "600"})
            return finish(Response(status_code=204), request, h)
        extra: dict[str, str] = {}
        if path.startswith("/api/") and not path.endswith("/health") and "rate_limit_disabled" not in s.faults:
            key = rate_key(request)
            allowed = limiter.hit(general_limit, "general", key)
            reset, remaining = limiter.get_window_stats(general_limit, "general", key)
            extra = {"X-RateLimit-Limit": str(general_limit.amount),
                     "X-RateLimit-Remaining": str(max(remaining, 0)),
                     "X-RateLimit-Reset": str(int(math.ceil(reset)))}
            if not allowed:
                retry = max(1, int(math.ceil(reset - time.time())))
                extra["Retry-After"] = str(retry)
                resp = error_response(429, f"Rate limit exceeded: {general_limit.amount} requests per minute")
                _observe(request, resp, start, "rate_limited")
                return finish(resp, request, extra)
        if path.startswith("/api/v1/") and "v1_removed" in s.faults and \
                path.startswith(("/api/v1/orders", "/api/v1/users")):
            return finish(error_response(410, "API v1 has been removed; use /api/v2"), request, extra)
        if path.startswith("/api/") and "slow_api" in s.faults:
            await asyncio.sleep(1.5)
        if "slow_api_routes" in s.faults and request.method == "GET" and path in ("/api/v1/orders", "/api/v2/orders"):
            await asyncio.sleep(1.5)  # a listing that got slow in this release (N+1 queries); health stays fast
        try:
            response = await call_next(request)
        except Exception as e:  # unhandled: 500 with the same headers as every other answer
            log.exception("unhandled error on %s %s", request.method, path)
            if isinstance(e, psycopg.Error):
                log.error("database_exception: %s", e)
            response = error_response(500, "Internal Server Error", exc=e)
        if "json_as_text_plain" in s.faults and path.startswith("/api/") and 200 <= response.status_code < 300 \
                and response.headers.get("content-type", "").startswith("application/json"):
            response.headers["content-type"] = "text/plain; charset=utf-8"
        route = request.scope.get("route")
        _observe(request, response, start, getattr(route, "path", "unmatched"))
        return finish(response, request, extra)

    def _observe(request: Request, response: Response, start: float, route: str) -> None:
        if request.url.path == "/metrics":
            return
        http_requests.labels(request.method, route, str(response.status_code)).inc()
        http_duration.labels(request.method, route).observe(time.perf_counter() - start)

    # ------------------------------------------------------------------------------------------- auth

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

    admin_only = require("admin")
    staff_or_admin = require("admin", "staff")
    # new_route_unprotected: the release's new v2 history route was registered without its auth dependency
    v2_history_access = (lambda: _seeded_user("admin")) if "new_route_unprotected" in s.faults else staff_or_admin
    # customer_gets_admin_data: the user listing checks that the caller is signed in, not that it is an admin
    users_access = current_user if "customer_gets_admin_data" in s.faults else admin_only

    # ------------------------------------------------------------------------------------------- health, metrics

    def health_body() -> tuple[int, dict]:
        try:
            with pool.connection() as conn:
                conn.execute("SELECT 1").fetchone()
                conn.commit()
            # health_degraded_200: the health reports trouble ("degraded") but keeps answering 200
            status = "degraded" if "health_degraded_200" in s.faults else "ok"
            return 200, {"status": status, "checks": {"api": "ok", "database": "ok"}}
        except Exception as e:
            log.error("database_exception: health check failed: %s", e)
            return 503, {"status": "error", "checks": {"api": "ok", "database": "error"}}

    @app.get("/health", tags=["health"])
    @app.get("/api/v1/health", tags=["health"])
    @app.get("/api/v2/health", tags=["health"])
    def health():
        code, body = health_body()
        return JSONResponse(body, status_code=code)

    @app.get("/version", tags=["health"])
    @app.get("/api/version", tags=["health"])
    def version():
        return {"version": VERSION, "api_versions": ["v1", "v2"], "environment": s.environment}

    @app.get("/metrics", include_in_schema=False)
    def metrics():
        if "metrics_disabled" in s.faults:
            raise HTTPException(404, "Not Found")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    # ------------------------------------------------------------------------------------------- auth routes

    class LoginIn(BaseModel):
        email: str
        password: str

    @app.post("/api/v1/auth/login", tags=["auth"])
    @app.post("/api/v2/auth/login", tags=["auth"])
    def login(body: LoginIn):
        return issue_token(authenticate(body.email, body.password))

    @app.post("/api/v1/auth/token", tags=["auth"])
    async def token(request: Request):
        form = await request.form()
        username, password = form.get("username"), form.get("password")
        if not username or not password:
            raise HTTPException(422, "username and password are required (OAuth2 password form)")
        user = await asyncio.to_thread(authenticate, str(username), str(password))
        return issue_token(user)

    # ------------------------------------------------------------------------------------------- users

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

    def user_v1(row: dict) -> dict:
        return {"id": str(row["id"]), "email": row["email"], "full_name": row["full_name"], "role": row["role"],
                "created_at": row["created_at"]}

    @app.get("/api/v1/users/me", tags=["users"])
    def me(user: dict = Depends(current_user)):
        if "wrong_identity" in s.faults and user["role"] == "staff":  # a cache keyed by the wrong field
            return user_v1(load_user(_seeded_user("admin")["id"]))
        return user_v1(load_user(user["id"]))

    @app.get("/api/v2/users/me", tags=["v2"])
    def me_v2(user: dict = Depends(current_user)):
        row = load_user(user["id"])
        return {"data": {"id": str(row["id"]), "email": row["email"], "name": row["full_name"],
                         "role": row["role"], "created_at": row["created_at"],
                         "preferences": prefs_body(row)}}

    @app.get("/api/v1/users", tags=["users"])
    def list_users(user: dict = Depends(users_access)):
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute("SELECT id, email, full_name, role, staff_notifications_enabled, "
                               "email_notifications_enabled, created_at FROM users ORDER BY created_at").fetchall()
            conn.commit()
        return {"items": [user_v1(r) for r in rows], "total": len(rows)}

    def prefs_body(row: dict) -> dict:
        return {"user_id": str(row["id"]), "staff_notifications_enabled": row["staff_notifications_enabled"],
                "email_enabled": row["email_notifications_enabled"]}

    @app.get("/api/v1/users/notification-preferences", tags=["users"])
    def get_prefs(user: dict = Depends(current_user)):
        return prefs_body(load_user(user["id"]))

    class PrefsIn(BaseModel):
        staff_notifications_enabled: bool | None = None
        email_enabled: bool | None = None

    @app.patch("/api/v1/users/{user_id}/notification-preferences", tags=["users"])
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

    # ------------------------------------------------------------------------------------------- order-email notifications

    def notif_out(r: dict) -> dict:
        return {"id": str(r["id"]), "order_id": str(r["order_id"]) if r["order_id"] else None,
                "user_id": str(r["user_id"]) if r["user_id"] else None, "type": r["type"],
                "recipient_email": r["recipient_email"], "subject": r["subject"], "status": r["status"],
                "attempts": r["attempts"], "error_type": r["error_type"], "metadata": r["metadata"],
                "transaction_id": (r["metadata"] or {}).get("transaction_id"),
                "created_at": r["created_at"], "sent_at": r["sent_at"]}

    NOTIF_COLS = ("id, order_id, user_id, type, recipient_email, subject, status, attempts, error_type, metadata, "
                  "created_at, sent_at")

    @app.get("/api/v1/notifications/history", tags=["notifications"])
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

    @app.get("/api/v2/notifications/history", tags=["v2"])
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

    @app.post("/api/v1/notifications/{notification_id}/resend", status_code=202, tags=["notifications"])
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

    class TestIn(BaseModel):
        recipient_email: EmailStr
        notification_type: Literal["staff", "customer"] = "staff"

    @app.post("/api/v1/notifications/test", status_code=202, tags=["notifications"])
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

    CONFIG_COLS = ("staff_notifications_enabled, customer_receipts_enabled, sender_name, reply_to, retry_attempts, "
                   "updated_at")

    @app.get("/api/v1/notifications/config", tags=["notifications"])
    def get_config(user: dict = Depends(admin_only)):
        with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(f"SELECT {CONFIG_COLS} FROM notification_configs WHERE id = 1").fetchone()
            conn.commit()
        return row

    class ConfigIn(BaseModel):
        staff_notifications_enabled: bool | None = None
        customer_receipts_enabled: bool | None = None
        sender_name: str | None = Field(default=None, min_length=1, max_length=100)
        reply_to: EmailStr | None = None
        retry_attempts: int | None = Field(default=None, ge=1, le=10)

    @app.patch("/api/v1/notifications/config", tags=["notifications"])
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

    # ------------------------------------------------------------------------------------------- activity notifications

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

    def check_uuid(v: str, what: str = "Notification") -> str:
        try:
            return str(uuid.UUID(v))
        except ValueError:
            raise HTTPException(404, f"{what} not found")

    ACT = "/api/v1/activity/notifications"

    @app.get(ACT, tags=["activity"])
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

    @app.get(ACT + "/unread-count", tags=["activity"])
    def act_unread(user: dict = Depends(current_user)):
        r = sp(user["id"], "SELECT * FROM activity.sp_get_unread_count(%s, false)", (user["id"],))
        return {"unread_count": r["total_unread"], "by_type": r["by_type"]}

    @app.get(ACT + "/settings", tags=["activity"])
    def act_settings(user: dict = Depends(current_user)):
        return sp(user["id"], "SELECT * FROM activity.sp_get_notification_settings(%s)", (user["id"],))

    class SettingsIn(BaseModel):
        email_enabled: bool | None = None
        push_enabled: bool | None = None
        in_app_enabled: bool | None = None
        digest_frequency: Literal["never", "daily", "weekly"] | None = None
        muted_types: list[str] | None = None

    @app.put(ACT + "/settings", tags=["activity"])
    @app.patch(ACT + "/settings", tags=["activity"])
    def act_update_settings(body: SettingsIn, user: dict = Depends(current_user)):
        return sp(user["id"], "SELECT * FROM activity.sp_update_notification_settings(%s, %s, %s, %s, %s, %s)",
                  (user["id"], body.email_enabled, body.push_enabled, body.in_app_enabled, body.digest_frequency,
                   body.muted_types))

    class BulkIn(BaseModel):
        notification_ids: list[uuid.UUID] | None = None

    @app.post(ACT + "/read-all", tags=["activity"])
    @app.post(ACT + "/mark-read", tags=["activity"])
    def act_bulk_read(body: BulkIn | None = None, user: dict = Depends(current_user)):
        ids = [str(i) for i in body.notification_ids] if body and body.notification_ids is not None else None
        r = sp(user["id"], "SELECT activity.sp_mark_notifications_as_read_bulk(%s, %s::uuid[]) AS n",
               (user["id"], ids))
        return {"updated": r["n"]}

    class CreateIn(BaseModel):
        user_id: uuid.UUID
        type: str = Field(min_length=1, max_length=50)
        title: str = Field(min_length=1, max_length=200)
        message: str = ""
        data: dict = Field(default_factory=dict)
        priority: Literal["low", "normal", "high"] = "normal"

    @app.post(ACT, status_code=201, tags=["activity"])
    def act_create(body: CreateIn, x_service_token: str | None = Header(default=None)):
        if not x_service_token or x_service_token != s.service_token:
            raise HTTPException(401, "A valid X-Service-Token is required")
        try:
            return sp(str(body.user_id), "SELECT * FROM activity.sp_create_notification(%s, %s, %s, %s, %s, %s)",
                      (str(body.user_id), body.type, body.title, body.message, Jsonb(body.data), body.priority))
        except psycopg.errors.ForeignKeyViolation:
            raise HTTPException(404, "User not found")

    @app.get(ACT + "/{notification_id}", tags=["activity"])
    def act_get(notification_id: str, user: dict = Depends(current_user)):
        return on_notification(user, "sp_get_notification_by_id", notification_id)

    @app.post(ACT + "/{notification_id}/read", tags=["activity"])
    @app.patch(ACT + "/{notification_id}/read", tags=["activity"])
    def act_read(notification_id: str, user: dict = Depends(current_user)):
        return on_notification(user, "sp_mark_notification_as_read", notification_id)

    @app.delete(ACT + "/{notification_id}", status_code=204, tags=["activity"])
    def act_delete(notification_id: str, user: dict = Depends(current_user)):
        on_notification(user, "sp_delete_notification", notification_id)
        return Response(status_code=204)

    # ------------------------------------------------------------------------------------------- orders

    class ItemIn(BaseModel):
        sku: str = Field(min_length=1, max_length=64)
        name: str = Field(default="Item", max_length=200)
        quantity: int = Field(ge=1, le=1000)
        unit_price: float | None = Field(default=None, ge=0)
        unit_price_cents: int | None = Field(default=None, ge=0)

    class OrderIn(BaseModel):
        items: list[ItemIn] = Field(min_length=1)
        customer_email: EmailStr | None = None

    def load_order(conn, order_id: str, user: dict, lock: bool = False) -> dict:
        check_uuid(order_id, "Order")
        with conn.cursor(row_factory=dict_row) as cur:
            o = cur.execute("SELECT * FROM orders WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                            (order_id,)).fetchone()
            if not o or (user["role"] == "customer" and str(o["user_id"]) != str(user["id"])):
                raise HTTPException(404, "Order not found")
            o["items"] = cur.execute("SELECT sku, name, quantity, unit_price_cents FROM order_items "
                                     "WHERE order_id = %s ORDER BY id", (order_id,)).fetchall()
            o["payment"] = cur.execute("SELECT transaction_id, amount_cents, payment_method, created_at "
                                       "FROM payments WHERE order_id = %s ORDER BY created_at LIMIT 1",
                                       (order_id,)).fetchone()
        return o

    def order_v1(o: dict) -> dict:
        return {"id": str(o["id"]), "user_id": str(o["user_id"]), "customer_email": o["customer_email"],
                "status": o["status"], "total": round(o["total_cents"] / 100, 2), "currency": o["currency"],
                "items": [{"sku": i["sku"], "name": i["name"], "quantity": i["quantity"],
                           "unit_price": round(i["unit_price_cents"] / 100, 2)} for i in o["items"]],
                "transaction_id": o["payment"]["transaction_id"] if o.get("payment") else None,
                "created_at": o["created_at"], "paid_at": o["paid_at"]}

    def order_v2(o: dict) -> dict:
        return {"id": str(o["id"]), "customer": {"id": str(o["user_id"]), "email": o["customer_email"]},
                "status": o["status"], "total_cents": o["total_cents"], "currency": o["currency"],
                "items": [dict(i) for i in o["items"]],
                "payment": o.get("payment"), "created_at": o["created_at"], "paid_at": o["paid_at"]}

    def create_order(body: OrderIn, user: dict) -> dict:
        total = 0
        items = []
        for it in body.items:
            cents = it.unit_price_cents if it.unit_price_cents is not None else \
                int(round((it.unit_price or 0) * 100))
            total += cents * it.quantity
            items.append((it.sku, it.name, it.quantity, cents))
        with pool.transaction(user["id"], user["role"]) as conn:
            oid = conn.execute("INSERT INTO orders (user_id, customer_email, total_cents) VALUES (%s, %s, %s) "
                               "RETURNING id", (user["id"], body.customer_email or user["email"], total)).fetchone()[0]
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO order_items (order_id, sku, name, quantity, unit_price_cents) "
                                "VALUES (%s, %s, %s, %s, %s)", [(oid, *i) for i in items])
            return load_order(conn, str(oid), user)

    @app.post("/api/v1/orders", status_code=201, tags=["orders"])
    def post_order(body: OrderIn, user: dict = Depends(current_user)):
        return order_v1(create_order(body, user))

    @app.post("/api/v2/orders", status_code=201, tags=["v2"])
    def post_order_v2(body: OrderIn, user: dict = Depends(current_user)):
        return {"data": order_v2(create_order(body, user))}

    def list_orders(user: dict, limit: int, offset: int) -> tuple[list[dict], int]:
        with pool.transaction(user["id"], user["role"]) as conn:
            cond, args = ("user_id = %s", [user["id"]]) if user["role"] == "customer" else ("true", [])
            total = conn.execute(f"SELECT count(*) FROM orders WHERE {cond}", args).fetchone()[0]
            ids = conn.execute(f"SELECT id FROM orders WHERE {cond} ORDER BY created_at DESC LIMIT %s OFFSET %s",
                               [*args, limit, offset]).fetchall()
            return [load_order(conn, str(i[0]), user) for i in ids], total

    @app.get("/api/v1/orders", tags=["orders"])
    def get_orders(page: int = Query(1, ge=1), page_size: int = Query(20, ge=1, le=100),
                   user: dict = Depends(current_user)):
        rows, total = list_orders(user, page_size, (page - 1) * page_size)
        return {"items": [order_v1(o) for o in rows], "total": total, "page": page, "page_size": page_size}

    @app.get("/api/v2/orders", tags=["v2"])
    def get_orders_v2(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
                      user: dict = Depends(current_user)):
        rows, total = list_orders(user, limit, offset)
        return {"data": [order_v2(o) for o in rows], "meta": {"total": total, "limit": limit, "offset": offset}}

    @app.get("/api/v1/orders/{order_id}", tags=["orders"])
    def get_order(order_id: str, user: dict = Depends(current_user)):
        with pool.transaction(user["id"], user["role"]) as conn:
            return order_v1(load_order(conn, order_id, user))

    @app.get("/api/v2/orders/{order_id}", tags=["v2"])
    def get_order_v2(order_id: str, user: dict = Depends(current_user)):
        with pool.transaction(user["id"], user["role"]) as conn:
            return {"data": order_v2(load_order(conn, order_id, user))}

    class PayIn(BaseModel):
        transaction_id: str | None = Field(default=None, min_length=1, max_length=100)
        payment_method: str = "card"
        amount: float | None = None

    def emit_paid(conn, o: dict, tx: str, replay: bool = False) -> None:
        payload = {"order_id": str(o["id"]), "transaction_id": tx, "user_id": str(o["user_id"]),
                   "customer_email": o["customer_email"], "total_cents": o["total_cents"],
                   "currency": o["currency"], "replay": replay,
                   "items": [{"sku": i["sku"], "name": i["name"], "quantity": i["quantity"],
                              "unit_price_cents": i["unit_price_cents"]} for i in o["items"]]}
        conn.execute("INSERT INTO outbox_events (event_type, aggregate_id, payload) VALUES ('order.paid', %s, %s)",
                     (str(o["id"]), Jsonb(payload)))

    @app.post("/api/v1/orders/{order_id}/pay", tags=["orders"])
    def pay(order_id: str, body: PayIn | None = None, user: dict = Depends(current_user)):
        body = body or PayIn()
        tx = body.transaction_id or f"tx-{uuid.uuid4().hex[:16]}"
        with pool.transaction(user["id"], user["role"]) as conn:
            o = load_order(conn, order_id, user, lock=True)
            if o["status"] == "paid":
                if o["payment"] and o["payment"]["transaction_id"] == tx:
                    # the payment provider's at-least-once callback: the event is emitted again (a replay)
                    emit_paid(conn, o, tx, replay=True)
                    return {**order_v1(o), "replayed": True}
                raise HTTPException(409, "Order is already paid")
            if o["status"] != "pending":
                raise HTTPException(409, f"Order is {o['status']}")
            if body.amount is not None and int(round(body.amount * 100)) != o["total_cents"]:
                raise HTTPException(422, "Payment amount does not match the order total")
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO payments (order_id, transaction_id, amount_cents, payment_method) "
                                 "VALUES (%s, %s, %s, %s)", (order_id, tx, o["total_cents"], body.payment_method))
            except psycopg.errors.UniqueViolation:
                raise HTTPException(409, "transaction_id was already used for another order")
            conn.execute("UPDATE orders SET status = 'paid', paid_at = now() WHERE id = %s", (order_id,))
            o = load_order(conn, order_id, user)
            emit_paid(conn, o, tx)
            return {**order_v1(o), "replayed": False}

    class ReplayIn(BaseModel):
        transaction_id: str

    @app.post("/api/v1/admin/events/replay", status_code=202, tags=["admin"])
    def replay(body: ReplayIn, user: dict = Depends(admin_only)):
        with pool.transaction(user["id"], user["role"]) as conn:
            row = conn.execute("SELECT order_id FROM payments WHERE transaction_id = %s",
                               (body.transaction_id,)).fetchone()
            if not row:
                raise HTTPException(404, "No payment with that transaction_id")
            o = load_order(conn, str(row[0]), user)
            emit_paid(conn, o, body.transaction_id, replay=True)
        return {"message": "order.paid event replayed", "transaction_id": body.transaction_id,
                "order_id": str(row[0])}

    @app.get("/api/v1/queues/stats", tags=["admin"])
    def queue_stats(user: dict = Depends(staff_or_admin)):
        with pool.connection() as conn:
            rows = conn.execute("SELECT topic, status, count(*) FROM outbox_events GROUP BY topic, status").fetchall()
            oldest = conn.execute("SELECT extract(epoch FROM now() - min(created_at)) FROM outbox_events "
                                  "WHERE status = 'pending'").fetchone()[0]
            conn.commit()
        queues: dict[str, dict] = {}
        for topic, st, n in rows:
            queues.setdefault(topic, {"pending": 0, "processed": 0, "failed": 0})[st] = n
        return {"queues": queues, "consumer_group": "notification-service",
                "lag": sum(q["pending"] for q in queues.values()),
                "oldest_pending_seconds": float(oldest) if oldest is not None else 0.0}

    return app


class _NotificationCollector:
    """The seeds' notification metrics on the api, derived from the database (the worker exports live ones)."""

    def __init__(self, pool: db.Pool):
        self.pool = pool

    def collect(self):
        try:
            with self.pool.connection() as conn:
                sent = conn.execute("SELECT count(*) FROM notifications WHERE status = 'sent'").fetchone()[0]
                failed = dict(conn.execute("SELECT coalesce(error_type, 'other'), count(*) FROM notifications "
                                           "WHERE status = 'failed' GROUP BY 1").fetchall())
                dups = conn.execute("SELECT count(*) FROM notification_duplicates").fetchone()[0]
                lag = conn.execute("SELECT count(*) FROM outbox_events WHERE status = 'pending'").fetchone()[0]
                conn.commit()
        except Exception:
            return
        c = CounterMetricFamily("notification_email_sent", "Emails sent (all time, from the database)")
        c.add_metric([], sent)
        yield c
        f = CounterMetricFamily("notification_email_failed", "Emails failed by error type", labels=["error_type"])
        for et in ("auth", "connection", "timeout", "other"):
            f.add_metric([et], failed.get(et, 0))
        yield f
        d = CounterMetricFamily("notification_duplicate_prevented", "Duplicate notifications prevented")
        d.add_metric([], dups)
        yield d
        g = GaugeMetricFamily("notification_queue_lag", "Pending outbox events", labels=["group"])
        g.add_metric(["notification-service"], lag)
        yield g


def main() -> None:
    import uvicorn
    config.startup_check_or_exit("api")
    config.setup_logging("api", "WARNING")
    port = config.env_int("SANDBOX_PORT", config.env_int("PORT", 8000))
    app = create_app()
    uvicorn.run(app, host=config.env_str("SANDBOX_HOST", "127.0.0.1"), port=port, log_config=None,
                access_log=False, timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
