"""Database helpers: golang-migrate style migration runner, seed data, a tiny connection pool, password hashing."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import queue
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg

from . import config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d+)_(.+)\.(up|down)\.sql$")

# ----------------------------------------------------------------------------------------------- passwords


def hash_password(password: str, iterations: int = 2000) -> str:
    salt = os.urandom(12)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(dk).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        algo, iters, salt, digest = encoded.split("$")
        if algo != "pbkdf2_sha256":
            return False
        dk = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iters))
        return hmac.compare_digest(dk, base64.b64decode(digest))
    except Exception:
        return False


# ----------------------------------------------------------------------------------------------- migrations


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: Path
    down: Path


def list_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, dict] = {}
    for p in directory.iterdir():
        m = _NAME.match(p.name)
        if not m:
            continue
        v = int(m.group(1))
        found.setdefault(v, {"name": m.group(2)})[m.group(3)] = p
    out = []
    for v in sorted(found):
        d = found[v]
        if "up" not in d or "down" not in d:
            raise RuntimeError(f"migration {v} lacks an up or a down file")
        out.append(Migration(v, d["name"], d["up"], d["down"]))
    return out


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
    )


def current_version(conn: psycopg.Connection) -> tuple[int | None, bool]:
    _ensure_table(conn)
    row = conn.execute("SELECT version, dirty FROM schema_migrations LIMIT 1").fetchone()
    return (None, False) if row is None else (int(row[0]), bool(row[1]))


def _set_version(conn: psycopg.Connection, version: int | None, dirty: bool) -> None:
    conn.execute("DELETE FROM schema_migrations")
    if version is not None:
        conn.execute("INSERT INTO schema_migrations (version, dirty) VALUES (%s, %s)", (version, dirty))


def migrate_up(conn: psycopg.Connection, steps: int | None = None) -> int | None:
    """Apply pending migrations in order (like `migrate up [N]`). conn must be autocommit. Returns the version."""
    version, dirty = current_version(conn)
    if dirty:
        raise RuntimeError(f"database is dirty at version {version}; fix it and force the version")
    applied = 0
    for m in list_migrations():
        if version is not None and m.version <= version:
            continue
        if steps is not None and applied >= steps:
            break
        with conn.transaction():
            _set_version(conn, m.version, True)
        try:
            with conn.transaction():
                conn.execute(m.up.read_text())
                _set_version(conn, m.version, False)
        except Exception:
            raise
        version = m.version
        applied += 1
    return version


def migrate_down(conn: psycopg.Connection, steps: int | None = None) -> int | None:
    """Revert applied migrations (like `migrate down [N]`; all when steps is None). Returns the new version."""
    version, dirty = current_version(conn)
    if dirty:
        raise RuntimeError(f"database is dirty at version {version}; fix it and force the version")
    migs = [m for m in list_migrations() if version is not None and m.version <= version]
    done = 0
    for i in range(len(migs) - 1, -1, -1):
        if steps is not None and done >= steps:
            break
        m = migs[i]
        prev = migs[i - 1].version if i > 0 else None
        with conn.transaction():
            _set_version(conn, m.version, True)
        with conn.transaction():
            conn.execute(m.down.read_text())
            _set_version(conn, prev, False)
        version = prev
        done += 1
    return version


# ----------------------------------------------------------------------------------------------- seed data

ACCOUNTS = {
    "admin": {"email": "admin@example.com", "password": "admin-pass-123", "role": "admin", "name": "Ada Admin"},
    "staff": {"email": "staff@example.com", "password": "staff-pass-123", "role": "staff", "name": "Sam Staff"},
    "customer": {"email": "customer@example.com", "password": "customer-pass-123", "role": "customer",
                 "name": "Cleo Customer"},
    "legacy": {"email": "legacy@example.com", "password": "legacy-pass-123", "role": "customer",
               "name": "Lee Legacy"},
}


def seed(conn: psycopg.Connection) -> None:
    """Test accounts and some history created "by the previous release v1.1.0". conn: superuser, autocommit."""
    with conn.transaction():
        ids = {}
        for key, a in ACCOUNTS.items():
            release = "v1.1.0" if key == "legacy" else "v2.0.0"
            created = "now() - interval '90 days'" if key == "legacy" else "now() - interval '30 days'"
            row = conn.execute(
                f"""INSERT INTO users (email, password_hash, full_name, role, created_by_release, created_at,
                                       staff_notifications_enabled)
                    VALUES (%s, %s, %s, %s, %s, {created}, %s) RETURNING id""",
                (a["email"], hash_password(a["password"]), a["name"], a["role"], release, key == "staff"),
            ).fetchone()
            ids[key] = row[0]
        # v1.1.0 history: two paid orders of the legacy customer, with their notifications
        history = [
            ("tx-v110-0001", 4599, "sent", None, 60),
            ("tx-v110-0002", 1250, "failed", "connection", 45),
        ]
        for tx, cents, status, err, days in history:
            oid = conn.execute(
                f"""INSERT INTO orders (user_id, customer_email, status, total_cents, created_by_release,
                                        created_at, paid_at)
                    VALUES (%s, %s, 'paid', %s, 'v1.1.0', now() - interval '{days} days',
                            now() - interval '{days} days') RETURNING id""",
                (ids["legacy"], ACCOUNTS["legacy"]["email"], cents),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO order_items (order_id, sku, name, quantity, unit_price_cents) VALUES (%s,%s,%s,1,%s)",
                (oid, "SKU-LEGACY", "Legacy widget", cents),
            )
            conn.execute(
                f"""INSERT INTO payments (order_id, transaction_id, amount_cents, created_at)
                    VALUES (%s, %s, %s, now() - interval '{days} days')""",
                (oid, tx, cents),
            )
            for ntype, email, uid in (("staff", ACCOUNTS["staff"]["email"], ids["staff"]),
                                      ("customer", ACCOUNTS["legacy"]["email"], ids["legacy"])):
                st = "sent" if ntype == "staff" else status
                conn.execute(
                    f"""INSERT INTO notifications (order_id, user_id, type, recipient_email, subject, status,
                                                   attempts, error_type, metadata, created_at, sent_at)
                        VALUES (%s, %s, %s, %s, %s, %s, %s, %s,
                                jsonb_build_object('transaction_id', %s::text, 'release', 'v1.1.0'),
                                now() - interval '{days} days',
                                CASE WHEN %s = 'sent' THEN now() - interval '{days} days' END)""",
                    (oid, uid, ntype, email,
                     f"New order {str(oid)[:8]}" if ntype == "staff" else f"Your receipt for order {str(oid)[:8]}",
                     st, 1 if st == "sent" else 3, None if st == "sent" else err, tx, st),
                )
            conn.execute(
                "INSERT INTO outbox_events (event_type, aggregate_id, payload, status, created_at, processed_at) "
                f"VALUES ('order.paid', %s, jsonb_build_object('order_id', %s::text, 'transaction_id', %s::text), "
                f"'processed', now() - interval '{days} days', now() - interval '{days} days')",
                (str(oid), str(oid), tx),
            )
        for key in ("legacy", "customer", "staff", "admin"):
            for i, (typ, title, read) in enumerate((("order", "Your order shipped", True),
                                                    ("system", "Welcome to the platform", False),
                                                    ("promotion", "Spring sale", False))):
                conn.execute(
                    """INSERT INTO activity.notifications (user_id, type, title, message, is_read, read_at,
                                                            created_at, data)
                       VALUES (%s, %s, %s, %s, %s, CASE WHEN %s THEN now() - interval '9 days' END,
                               now() - (%s * interval '10 days'), '{"release": "v1.1.0"}'::jsonb)""",
                    (ids[key], typ, title, f"{title} (seeded)", read, read, i + 1),
                )
            conn.execute("INSERT INTO activity.notification_settings (user_id) VALUES (%s)", (ids[key],))


def apply_faults(conn: psycopg.Connection, faults: list[str]) -> list[str]:
    """Run the SQL of the database faults among ``faults`` (``config.FAULTS[name].sql``), in their order.
    conn: superuser, autocommit, after migrations and seeding. Returns the names of the database faults applied."""
    applied = []
    for name in faults:
        fault = config.FAULTS.get(name)
        if fault is None or not fault.sql:
            continue
        for stmt in fault.sql:
            conn.execute(stmt)
        applied.append(name)
    return applied


# ----------------------------------------------------------------------------------------------- pool


class Pool:
    """A minimal thread-safe connection pool (psycopg_pool is not a dependency)."""

    def __init__(self, dsn: str, size: int = 8, connect_timeout: float = 3.0):
        self.dsn = dsn
        self.size = size
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._lock = threading.Lock()

    def _new(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, connect_timeout=max(1, int(self.connect_timeout)),
                               options="-c statement_timeout=5000")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._new()
        ok = False
        try:
            yield conn
            ok = True
        finally:
            if ok and not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE \
                    and self._idle.qsize() < self.size:
                self._idle.put(conn)
            else:
                try:
                    conn.rollback()
                except Exception:
                    pass
                if self._idle.qsize() < self.size and not conn.closed and not conn.broken:
                    self._idle.put(conn)
                else:
                    conn.close()

    @contextmanager
    def transaction(self, user_id: str | None = None, role: str | None = None) -> Iterator[psycopg.Connection]:
        """A transaction with the RLS context (app.user_id, app.user_role) set for its duration."""
        with self.connection() as conn:
            with conn.transaction():
                if user_id is not None or role is not None:
                    conn.execute("SELECT set_config('app.user_id', %s, true), set_config('app.user_role', %s, true)",
                                 (str(user_id or ""), role or ""))
                yield conn

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
