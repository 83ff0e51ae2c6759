"""The helpdesk API: FastAPI, routes and answers shaped like the FastAPI "full-stack template".

Run: python -m targets.helpdesk.api   (port from HELPDESK_PORT; see docs/targets.md for every variable)
"""

import datetime as dt
import html
import logging
import os
import smtplib
import sqlite3
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from . import config, db

log = logging.getLogger("helpdesk.api")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SESSION_COOKIE = "helpdesk_session"
ALGORITHM = "HS256"


class Settings:
    def __init__(self) -> None:
        env = os.environ
        self.faults = config.parse_faults(env.get("HELPDESK_FAULTS"))
        self.db_path = Path(env.get("HELPDESK_DB") or "helpdesk.db")
        if "database_down" in self.faults:  # the release was deployed with a database it cannot open
            self.db_path = self.db_path.parent / "missing-volume" / self.db_path.name
        self.secret_key = env.get("SECRET_KEY") or "changethis"
        self.frontend_host = (env.get("FRONTEND_HOST") or "http://localhost:5173").rstrip("/")
        self.smtp_host = env.get("SMTP_HOST") or ""
        self.smtp_port = int(env.get("SMTP_PORT") or "25")
        self.emails_from = env.get("EMAILS_FROM_EMAIL") or "helpdesk@example.com"
        self.project_name = env.get("PROJECT_NAME") or "Helpdesk"
        self.token_minutes = int(env.get("ACCESS_TOKEN_EXPIRE_MINUTES") or "60")
        self.reset_token_hours = int(env.get("EMAIL_RESET_TOKEN_EXPIRE_HOURS") or "48")


# ----------------------------------------------------------------------------------------------- models


class UserPublic(BaseModel):
    id: str
    email: str
    full_name: str | None = None
    is_active: bool
    is_superuser: bool


class UserRegister(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=255)
    password: str = Field(min_length=8, max_length=40)
    full_name: str | None = Field(default=None, max_length=255)


class ItemCreate(BaseModel):
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=255)


class ItemPublic(BaseModel):
    id: str
    title: str
    description: str | None = None
    owner_id: str


class ItemsPublic(BaseModel):
    data: list[ItemPublic]
    count: int


class NewPassword(BaseModel):
    token: str
    new_password: str = Field(min_length=8, max_length=40)


class Message(BaseModel):
    message: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


# ----------------------------------------------------------------------------------------------- helpers


def _user_public(row: sqlite3.Row) -> UserPublic:
    return UserPublic(id=row["id"], email=row["email"], full_name=row["full_name"],
                      is_active=bool(row["is_active"]), is_superuser=bool(row["is_superuser"]))


def _item_public(row: sqlite3.Row) -> ItemPublic:
    return ItemPublic(id=row["id"], title=row["title"], description=row["description"], owner_id=row["owner_id"])


def create_app(settings: Settings | None = None) -> FastAPI:
    s = settings or Settings()
    app = FastAPI(title=s.project_name, openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    if "cors_reflect_any" in s.faults:  # "temporarily" opened up to debug a preview deployment
        app.add_middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"])
    else:
        app.add_middleware(CORSMiddleware, allow_origins=[s.frontend_host], allow_credentials=True,
                           allow_methods=["*"], allow_headers=["*"])

    @app.exception_handler(sqlite3.Error)
    async def database_error(request: Request, exc: sqlite3.Error) -> JSONResponse:
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)

    def get_db():
        conn = db.connect(s.db_path)
        try:  # writing routes commit before they answer: code after this yield runs after the response
            yield conn
        finally:
            conn.close()

    Db = Annotated[sqlite3.Connection, Depends(get_db)]

    def create_token(subject: str, kind: str, minutes: int, **extra: Any) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {"sub": subject, "type": kind, "iat": now, "exp": now + dt.timedelta(minutes=minutes), **extra}
        return jwt.encode(claims, s.secret_key, algorithm=ALGORITHM)

    def decode_token(token: str, kind: str) -> dict | None:
        try:
            claims = jwt.decode(token, s.secret_key, algorithms=[ALGORITHM])
        except jwt.InvalidTokenError:
            return None
        return claims if claims.get("type") == kind else None

    def current_user(request: Request, conn: Db) -> sqlite3.Row:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        kind = "access"
        if not (scheme.lower() == "bearer" and token):
            token, kind = request.cookies.get(SESSION_COOKIE, ""), "session"
        if not token:
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
        claims = decode_token(token, kind)
        if claims is None:
            raise HTTPException(403, "Could not validate credentials")
        row = conn.execute("SELECT * FROM users WHERE id = ?", (claims.get("sub"),)).fetchone()
        if row is None:
            raise HTTPException(404, "User not found")
        if not row["is_active"]:
            raise HTTPException(400, "Inactive user")
        return row

    CurrentUser = Annotated[sqlite3.Row, Depends(current_user)]

    def authenticate(conn: sqlite3.Connection, email: str, password: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
        if row is None or not db.verify_password(password, row["hashed_password"]):
            raise HTTPException(400, "Incorrect email or password")
        if not row["is_active"]:
            raise HTTPException(400, "Inactive user")
        return row

    def send_email(to: str, subject: str, text: str, html_body: str) -> None:
        if not s.smtp_host:
            log.warning("SMTP_HOST is not set: email %r to %s not sent", subject, to)
            return
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = f"{s.project_name} <{s.emails_from}>"
        msg["To"] = to
        msg.set_content(text)
        msg.add_alternative(html_body, subtype="html")
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)

    # ------------------------------------------------------------------------------------------- routes

    router = APIRouter(prefix="/api/v1")

    @router.post("/login/access-token", tags=["login"])
    def login_access_token(conn: Db, username: Annotated[str, Form()], password: Annotated[str, Form()]) -> Token:
        user = authenticate(conn, username, password)
        return Token(access_token=create_token(user["id"], "access", s.token_minutes))

    @router.post("/login/session", tags=["login"])
    def login_session(conn: Db, response: Response, username: Annotated[str, Form()],
                      password: Annotated[str, Form()]) -> UserPublic:
        user = authenticate(conn, username, password)
        response.set_cookie(SESSION_COOKIE, create_token(user["id"], "session", s.token_minutes),
                            max_age=s.token_minutes * 60, httponly=True, samesite="lax", path="/")
        return _user_public(user)

    @router.post("/logout", tags=["login"])
    def logout(response: Response) -> Message:
        response.delete_cookie(SESSION_COOKIE, path="/")
        return Message(message="Logged out")

    @router.post("/password-recovery/{email}", tags=["login"])
    def recover_password(email: str, conn: Db) -> Message:
        user = conn.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
        if user is None:
            raise HTTPException(404, "The user with this email does not exist in the system.")
        token = create_token(email, "reset", s.reset_token_hours * 60, jti=uuid.uuid4().hex)
        link = f"{s.frontend_host}/reset-password?token={token}"
        hours = s.reset_token_hours
        send_email(
            email, f"{s.project_name} - Password recovery for user {email}",
            f"Hello {email},\n\nWe received a request to recover your password. Reset it here:\n{link}\n\n"
            f"The link expires in {hours} hours. If you did not ask for this, ignore this email.\n",
            f"<p>Hello {html.escape(email)},</p><p>We received a request to recover your password.</p>"
            f'<p><a href="{html.escape(link)}">Reset password</a></p>'
            f"<p>The link expires in {hours} hours. If you did not ask for this, ignore this email.</p>")
        return Message(message="Password recovery email sent")

    @router.post("/reset-password/", tags=["login"])
    def reset_password(body: NewPassword, conn: Db) -> Message:
        claims = decode_token(body.token, "reset")
        if claims is None:
            raise HTTPException(400, "Invalid token")
        user = conn.execute("SELECT * FROM users WHERE email = ?", (claims.get("sub"),)).fetchone()
        if user is None:
            raise HTTPException(404, "The user with this email does not exist in the system.")
        if "reset_token_reusable" not in s.faults:
            try:
                conn.execute("INSERT INTO used_reset_tokens (jti) VALUES (?)", (str(claims.get("jti")),))
            except sqlite3.IntegrityError:
                raise HTTPException(400, "Invalid token") from None
        conn.execute("UPDATE users SET hashed_password = ? WHERE id = ?",
                     (db.hash_password(body.new_password), user["id"]))
        conn.commit()
        return Message(message="Password updated successfully")

    @router.get("/users/me", tags=["users"])
    def read_user_me(user: CurrentUser) -> UserPublic:
        return _user_public(user)

    @router.post("/users/signup", tags=["users"])
    def register_user(body: UserRegister, conn: Db) -> UserPublic:
        if conn.execute("SELECT 1 FROM users WHERE email = ?", (body.email,)).fetchone():
            raise HTTPException(400, "The user with this email already exists in the system")
        user_id = str(uuid.uuid4())
        conn.execute("INSERT INTO users (id, email, hashed_password, full_name) VALUES (?, ?, ?, ?)",
                     (user_id, body.email, db.hash_password(body.password), body.full_name))
        conn.commit()
        if "signup_email_missing" not in s.faults:
            login = f"{s.frontend_host}/login"
            send_email(
                body.email, f"{s.project_name} - New account for user {body.email}",
                f"Welcome to {s.project_name}!\n\nAn account was created for {body.email}.\n"
                f"Log in here: {login}\n",
                f"<p>Welcome to {html.escape(s.project_name)}!</p>"
                f"<p>An account was created for {html.escape(body.email)}.</p>"
                f'<p><a href="{html.escape(login)}">Go to the dashboard</a></p>')
        return _user_public(conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())

    @router.delete("/users/{user_id}", tags=["users"])
    def delete_user(user_id: str, user: CurrentUser, conn: Db) -> Message:
        if not user["is_superuser"]:
            raise HTTPException(403, "The user doesn't have enough privileges")
        if user_id == user["id"]:
            raise HTTPException(403, "Super users are not allowed to delete themselves")
        if conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 0:
            raise HTTPException(404, "User not found")
        conn.commit()
        return Message(message="User deleted successfully")

    @router.get("/items/", tags=["items"])
    def read_items(user: CurrentUser, conn: Db, skip: int = 0, limit: int = 100) -> ItemsPublic:
        count = conn.execute("SELECT count(*) FROM items WHERE owner_id = ?", (user["id"],)).fetchone()[0]
        rows = conn.execute("SELECT * FROM items WHERE owner_id = ? ORDER BY rowid LIMIT ? OFFSET ?",
                            (user["id"], limit, skip)).fetchall()
        return ItemsPublic(data=[_item_public(r) for r in rows], count=count)

    @router.post("/items/", tags=["items"])
    def create_item(body: ItemCreate, user: CurrentUser, conn: Db) -> ItemPublic:
        item_id = str(uuid.uuid4())
        conn.execute("INSERT INTO items (id, title, description, owner_id) VALUES (?, ?, ?, ?)",
                     (item_id, body.title, body.description, user["id"]))
        conn.commit()
        return ItemPublic(id=item_id, title=body.title, description=body.description, owner_id=user["id"])

    def owned_item(conn: sqlite3.Connection, user: sqlite3.Row, item_id: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise HTTPException(404, "Item not found")
        if row["owner_id"] != user["id"] and not user["is_superuser"]:
            raise HTTPException(400, "Not enough permissions")
        return row

    @router.get("/items/{item_id}", tags=["items"])
    def read_item(item_id: str, user: CurrentUser, conn: Db) -> ItemPublic:
        return _item_public(owned_item(conn, user, item_id))

    @router.delete("/items/{item_id}", tags=["items"])
    def delete_item(item_id: str, user: CurrentUser, conn: Db) -> Message:
        owned_item(conn, user, item_id)
        conn.execute("DELETE FROM items WHERE id = ?", (item_id,))
        conn.commit()
        return Message(message="Item deleted successfully")

    @router.get("/utils/health-check/", tags=["utils"])
    def health_check() -> bool:
        return True  # as in the template: says nothing about the database

    app.include_router(router)
    return app


def main() -> None:
    import uvicorn
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except config.ConfigError as e:
        print(f"helpdesk api: refusing to start: {e}", file=sys.stderr)
        sys.exit(2)
    port = int(os.environ.get("HELPDESK_PORT") or "8000")
    uvicorn.run(app, host=os.environ.get("HELPDESK_HOST") or "127.0.0.1", port=port, log_config=None,
                access_log=False, timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()

