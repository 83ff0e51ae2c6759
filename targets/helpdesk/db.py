"""Storage: one SQLite file (standard library only), created and seeded by the launcher."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import uuid
from collections.abc import Mapping
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    hashed_password TEXT NOT NULL,
    full_name TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    is_superuser INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT,
    owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS used_reset_tokens (
    jti TEXT PRIMARY KEY,
    used_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""

_ITERATIONS = 20_000


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), _ITERATIONS).hex()
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations)).hex()
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, digest)


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection to an existing database file (never creates one: a wrong path is an error)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=rw", uri=True, timeout=5, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def init(path: str | Path, accounts: Mapping[str, Mapping[str, str]]) -> None:
    """Create the database file, its tables and the seeded accounts (each with one item)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(SCHEMA)
        for a in accounts.values():
            user_id = str(uuid.uuid4())
            conn.execute("INSERT INTO users (id, email, hashed_password, full_name, is_active, is_superuser) "
                         "VALUES (?, ?, ?, ?, 1, ?)",
                         (user_id, a["email"], hash_password(a["password"]), a["full_name"],
                          1 if a.get("role") == "superuser" else 0))
            conn.execute("INSERT INTO items (id, title, description, owner_id) VALUES (?, ?, ?, ?)",
                         (str(uuid.uuid4()), "Printer on floor 2 is jammed", "Paper tray B", user_id))
    conn.close()
