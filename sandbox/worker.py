"""The notification service: consumes the outbox (stands in for the "order-events" topic, consumer group
"notification-service"), creates staff notifications and customer receipts, sends them over SMTP with retries and
duplicate prevention by transaction id. Its own HTTP server answers /health and /metrics.

Run: python -m sandbox.worker   (port from SANDBOX_PORT)

Log markers (always logged, whatever LOG_LEVEL says, through the "notification-service.events" logger at INFO or
WARNING): [EMAIL_SEND_SUCCESS], [EMAIL_SEND_RETRY], [EMAIL_SEND_FAILED] error_type=..., [DUPLICATE_NOTIFICATION],
[METRIC] notification.email.sent|failed|duration_ms ..., [METRIC] notification.duplicate.prevented ...
"""
from __future__ import annotations

import json
import logging
import signal
import smtplib
import socket
import string
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from prometheus_client import CONTENT_TYPE_LATEST, disable_created_metrics, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from . import config

log = logging.getLogger("notification-service")
events = logging.getLogger("notification-service.events")
disable_created_metrics()

TEMPLATES = {"staff": "staff_order_notification", "customer": "customer_receipt", "test": "test_notification"}


class Settings:
    def __init__(self) -> None:
        self.faults = config.faults()
        self.database_url = config.env_str("SANDBOX_DATABASE_URL") or config.env_str("DATABASE_URL")
        self.smtp_host = config.env_str("SMTP_HOST", "127.0.0.1")
        self.smtp_port = config.env_int("SMTP_PORT", 1025)
        self.smtp_username = config.env_str("SMTP_USERNAME", "")
        self.smtp_password = config.env_str("SMTP_PASSWORD", "")
        self.smtp_from = config.env_str("SMTP_FROM", "Notification Platform <notifications@example.com>")
        self.smtp_timeout = float(config.env_str("SMTP_TIMEOUT_SECONDS", "5"))
        self.retry_attempts = max(1, config.env_int("SMTP_RETRY_ATTEMPTS", 3))
        self.retry_backoff = config.env_int("SMTP_RETRY_BACKOFF_MS", 200) / 1000.0
        self.poll_interval = config.env_int("POLL_INTERVAL_MS", 200) / 1000.0
        self.template_dir = Path(config.env_str("TEMPLATE_DIR", str(config.SANDBOX_DIR / "templates")))
        frontend = config.env_str("SANDBOX_FRONTEND_URL", "http://127.0.0.1:3000")
        self.frontend_domain = config.env_str("FRONTEND_DOMAIN", frontend).rstrip("/")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sent = Counter("notification_email_sent", "Emails sent", ["type"], registry=r)
        self.failed = Counter("notification_email_failed", "Emails that failed after all retries",
                              ["error_type"], registry=r)
        for et in ("auth", "connection", "timeout", "other"):
            self.failed.labels(et)
        for t in ("staff", "customer"):
            self.sent.labels(t)
        self.duration = Histogram("notification_email_duration_ms", "Email delivery duration in milliseconds",
                                  buckets=(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 15000),
                                  registry=r)
        self.duplicates = Counter("notification_duplicate_prevented", "Duplicate notifications prevented",
                                  registry=r)
        self.lag = Gauge("notification_queue_lag", "Pending events in the outbox (consumer lag)", ["group"],
                         registry=r)
        self.lag.labels("notification-service").set(0)
        self.processed = Counter("notification_events_processed", "Outbox events processed", ["event_type"],
                                 registry=r)


class SendError(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def classify(exc: BaseException) -> str:
    """auth | connection | timeout | other (smtplib's exceptions are OSErrors: order matters)."""
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)):
        return "auth"
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code in (530, 534, 535, 538):
        return "auth"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)):
        return "connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        return "connection" if exc.smtp_code == 421 else "other"
    if isinstance(exc, smtplib.SMTPException):
        return "other"
    if isinstance(exc, OSError):
        return "connection"
    return "other"


class Worker:
    def __init__(self, s: Settings, m: Metrics):
        self.s = s
        self.m = m
        self.stop = threading.Event()
        self.conn: psycopg.Connection | None = None
        self.started = time.monotonic()

    # --------------------------------------------------------------------------------------- db

    def db(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = psycopg.connect(self.s.database_url, connect_timeout=3, row_factory=dict_row)
        return self.conn

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                busy = self.tick()
            except psycopg.Error as e:
                if time.monotonic() - self.started < 20:  # the database may still be starting or migrating
                    log.debug("database not ready yet: %s", e)
                else:
                    log.error("database_exception: %s", e)
                try:
                    if self.conn is not None:
                        self.conn.close()
                except Exception:
                    pass
                self.conn = None
                busy = False
            except Exception:
                log.exception("worker loop error")
                busy = False
            if not busy:
                self.stop.wait(self.s.poll_interval)

    def tick(self) -> bool:
        conn = self.db()
        to_send: list[str] = []
        with conn.transaction():
            conn.execute("SELECT set_config('app.user_role', 'service', true)")
            ev = conn.execute("SELECT id, event_type, payload FROM outbox_events WHERE status = 'pending' "
                              "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").fetchone()
            if ev is not None:
                if ev["event_type"] == "order.paid":
                    to_send = self.on_order_paid(conn, ev["payload"])
                elif ev["event_type"] == "notification.send":
                    to_send = [ev["payload"]["notification_id"]]
                else:
                    log.warning("unknown event type %s (event %s) skipped", ev["event_type"], ev["id"])
                conn.execute("UPDATE outbox_events SET status = 'processed', processed_at = now(), "
                             "attempts = attempts + 1 WHERE id = %s", (ev["id"],))
                self.m.processed.labels(ev["event_type"]).inc()
            lag = conn.execute("SELECT count(*) AS n FROM outbox_events WHERE status = 'pending'").fetchone()["n"]
            self.m.lag.labels("notification-service").set(lag)
        for nid in to_send:
            self.send_notification(nid)
        return ev is not None

    def on_order_paid(self, conn: psycopg.Connection, p: dict) -> list[str]:
        tx = p["transaction_id"]
        cfg = conn.execute("SELECT * FROM notification_configs WHERE id = 1").fetchone() or {}
        short = str(p["order_id"])[:8]
        created: list[str] = []
        plans = []
        if cfg.get("staff_notifications_enabled", True):
            staff = conn.execute("SELECT id, email FROM users WHERE role IN ('staff', 'admin') AND is_active "
                                 "AND staff_notifications_enabled ORDER BY email").fetchall()
            if staff:
                plans.append(("staff", staff[0]["id"], ", ".join(r["email"] for r in staff),
                              f"New order {short} paid"))
            else:
                log.info("order %s: no staff member has staff notifications enabled", p["order_id"])
        if cfg.get("customer_receipts_enabled", True):
            cust = conn.execute("SELECT email_notifications_enabled FROM users WHERE id = %s",
                                (p["user_id"],)).fetchone()
            if cust is None or cust["email_notifications_enabled"]:
                plans.append(("customer", p["user_id"], p["customer_email"], f"Your receipt for order {short}"))
        dedupe = "no_duplicate_prevention" not in self.s.faults
        for ntype, uid, recipient, subject in plans:
            if dedupe:
                exists = conn.execute("SELECT id FROM notifications WHERE metadata ->> 'transaction_id' = %s "
                                      "AND type = %s", (tx, ntype)).fetchone()
                if exists:
                    self.duplicate(conn, tx, ntype, p["order_id"])
                    continue
            row = conn.execute(
                "INSERT INTO notifications (order_id, user_id, type, recipient_email, subject, metadata) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
                (p["order_id"], uid, ntype, recipient, subject,
                 Jsonb({"transaction_id": tx, "replay": bool(p.get("replay"))})),
            ).fetchone()
            if row is None:
                self.duplicate(conn, tx, ntype, p["order_id"])
                continue
            created.append(str(row["id"]))
        return created

    def duplicate(self, conn, tx: str, ntype: str, order_id: str) -> None:
        conn.execute("INSERT INTO notification_duplicates (transaction_id, type) VALUES (%s, %s)", (tx, ntype))
        self.m.duplicates.inc()
        events.warning("[DUPLICATE_NOTIFICATION] transaction_id=%s type=%s order_id=%s: already notified, "
                       "nothing sent", tx, ntype, order_id)
        events.info("[METRIC] notification.duplicate.prevented value=1 type=%s", ntype)

    # --------------------------------------------------------------------------------------- email

    def load_context(self, n: dict) -> dict:
        conn = self.db()
        ctx = {"notification_id": str(n["id"]), "subject": n["subject"], "recipient_email": n["recipient_email"],
               "frontend_domain": self.s.frontend_domain,
               "history_url": f"{self.s.frontend_domain}/settings/notifications/history",
               "settings_url": f"{self.s.frontend_domain}/settings/notifications",
               "transaction_id": (n["metadata"] or {}).get("transaction_id") or "",
               "order_id": "", "order_short": "", "order_url": f"{self.s.frontend_domain}/dashboard",
               "total": "", "customer_email": "", "items_text": "", "items_html": "",
               "notification_type": n["type"]}
        if n["order_id"]:
            with conn.transaction():
                o = conn.execute("SELECT * FROM orders WHERE id = %s", (n["order_id"],)).fetchone()
                items = conn.execute("SELECT * FROM order_items WHERE order_id = %s ORDER BY id",
                                     (n["order_id"],)).fetchall()
            if o:
                page = "order" if "email_link_broken" in self.s.faults else "orders"
                ctx.update(order_id=str(o["id"]), order_short=str(o["id"])[:8],
                           order_url=f"{self.s.frontend_domain}/{page}/{o['id']}",
                           total=f"{o['total_cents'] / 100:.2f} {o['currency']}", customer_email=o["customer_email"],
                           unit_total=f"{items[0]['unit_price_cents'] / 100:.2f} {o['currency']}" if items else "")
                ctx["items_text"] = "\n".join(f"  - {i['quantity']} x {i['name']} ({i['sku']}) "
                                              f"@ {i['unit_price_cents'] / 100:.2f}" for i in items)
                ctx["items_html"] = "".join(
                    f"<tr><td>{_esc(i['name'])}</td><td>{i['quantity']}</td>"
                    f"<td>{i['unit_price_cents'] / 100:.2f}</td></tr>" for i in items)
        return ctx

    def render(self, n: dict, ctx: dict) -> tuple[str, str]:
        name = TEMPLATES["test"] if (n["metadata"] or {}).get("test") else TEMPLATES[n["type"]]
        if name == TEMPLATES["customer"] and "email_template_missing" in self.s.faults:
            raise SendError("other", f"template {name}.html not found in {self.s.template_dir}")
        out = []
        for ext in ("txt", "html"):
            path = self.s.template_dir / f"{name}.{ext}"
            try:
                source = path.read_text()
            except OSError:
                raise SendError("other", f"template {name}.{ext} not found in {self.s.template_dir}")
            if name == TEMPLATES["customer"] and "email_template_typo" in self.s.faults:
                source = source.replace("${items_text}", "${item_lines}").replace("${items_html}", "${item_rows}")
            if name == TEMPLATES["customer"] and ext == "html" and "email_html_blank" in self.s.faults:
                source = '<!doctype html><html><body><img src="https://cdn.example/receipt.png" alt=""></body></html>'
            if name == TEMPLATES["customer"] and "email_wrong_total" in self.s.faults:
                source = source.replace("${total}", "${unit_total}")
            if name == TEMPLATES["customer"] and ext == "txt" and "token_in_email" in self.s.faults:
                source += ("\nDebug: session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXN0b21lciIsInJvbGUiOiJjdXN0b21lciJ9."
                           "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg\n")
            tpl = string.Template(source)
            c = ctx if ext == "txt" else {k: (_esc(v) if k != "items_html" else v) for k, v in ctx.items()}
            out.append(tpl.safe_substitute(c))
        return out[0], out[1]

    def smtp_send(self, msg: EmailMessage, recipients: list[str]) -> None:
        with smtplib.SMTP(self.s.smtp_host, self.s.smtp_port, timeout=self.s.smtp_timeout) as smtp:
            smtp.ehlo()
            if self.s.smtp_username:
                smtp.login(self.s.smtp_username, self.s.smtp_password)
            smtp.send_message(msg, to_addrs=recipients)

    def send_notification(self, nid: str) -> None:
        conn = self.db()
        with conn.transaction():
            conn.execute("SELECT set_config('app.user_role', 'service', true)")
            n = conn.execute("SELECT * FROM notifications WHERE id = %s", (nid,)).fetchone()
        if n is None:
            log.warning("notification %s vanished before sending", nid)
            return
        if n["type"] == "customer" and n["order_id"] and "slow_email" in self.s.faults \
                and not (n["metadata"] or {}).get("replay"):
            time.sleep(6)  # a replayed payment's receipt (no_duplicate_prevention) is not held
        started = time.perf_counter()
        attempts = 0
        error: SendError | None = None
        try:
            ctx = self.load_context(n)
            text, html = self.render(n, ctx)
            msg = EmailMessage()
            msg["From"] = self.s.smtp_from
            msg["To"] = n["recipient_email"]
            msg["Subject"] = n["subject"]
            msg["Date"] = formatdate(localtime=False)
            msg["Message-ID"] = make_msgid(domain="notifications.example.com")
            msg["X-Notification-Id"] = str(n["id"])
            msg["X-Notification-Type"] = n["type"]
            if ctx["transaction_id"]:
                msg["X-Transaction-Id"] = ctx["transaction_id"]
            if n["type"] == "customer" and "email_html_only" in self.s.faults:
                msg.set_content(html, subtype="html")
            else:
                msg.set_content(text)
                msg.add_alternative(html, subtype="html")
            recipients = [r.strip() for r in n["recipient_email"].split(",") if r.strip()]
            for attempt in range(1, self.s.retry_attempts + 1):
                attempts = attempt
                try:
                    self.smtp_send(msg, recipients)
                    error = None
                    break
                except Exception as e:  # noqa: BLE001 - classified below
                    error = SendError(classify(e), f"{type(e).__name__}: {e}")
                    if attempt < self.s.retry_attempts:
                        events.warning("[EMAIL_SEND_RETRY] notification_id=%s attempt=%d/%d error_type=%s error=%s",
                                       nid, attempt, self.s.retry_attempts, error.error_type, error)
                        time.sleep(self.s.retry_backoff * (2 ** (attempt - 1)))
        except SendError as e:
            error = e
        duration_ms = (time.perf_counter() - started) * 1000
        with conn.transaction():
            conn.execute("SELECT set_config('app.user_role', 'service', true)")
            if error is None:
                conn.execute("UPDATE notifications SET status = 'sent', attempts = attempts + %s, sent_at = now(), "
                             "error_type = NULL, error_message = NULL WHERE id = %s", (attempts, nid))
            else:
                conn.execute("UPDATE notifications SET status = 'failed', attempts = attempts + %s, error_type = %s, "
                             "error_message = %s WHERE id = %s", (attempts, error.error_type, str(error)[:500], nid))
        if error is None:
            self.m.sent.labels(n["type"]).inc()
            self.m.duration.observe(duration_ms)
            events.info("[EMAIL_SEND_SUCCESS] notification_id=%s type=%s recipient=%s transaction_id=%s attempts=%d "
                        "duration_ms=%.0f", nid, n["type"], n["recipient_email"],
                        (n["metadata"] or {}).get("transaction_id") or "-", attempts, duration_ms)
            events.info("[METRIC] notification.email.sent value=1 type=%s", n["type"])
            events.info("[METRIC] notification.email.duration_ms value=%.0f type=%s", duration_ms, n["type"])
        else:
            self.m.failed.labels(error.error_type).inc()
            events.warning("[EMAIL_SEND_FAILED] error_type=%s notification_id=%s type=%s recipient=%s attempts=%d "
                           "error=%s", error.error_type, nid, n["type"], n["recipient_email"], attempts, error)
            events.info("[METRIC] notification.email.failed value=1 error_type=%s", error.error_type)


def _esc(v) -> str:
    return (str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


def health(s: Settings) -> tuple[int, dict]:
    checks = {}
    try:
        with psycopg.connect(s.database_url, connect_timeout=2) as c:
            c.execute("SELECT 1").fetchone()
        checks["database"] = "ok"
    except Exception as e:
        log.error("health: database check failed: %s", e)
        checks["database"] = "error"
    try:
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=2) as smtp:
            code, _ = smtp.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, b"NOOP failed")
        checks["smtp"] = "ok"
    except Exception as e:
        log.error("health: smtp check failed (%s:%s): %s", s.smtp_host, s.smtp_port, e)
        checks["smtp"] = "error"
    ok = all(v == "ok" for v in checks.values())
    return (200 if ok else 503), {"status": "ok" if ok else "error", "service": "notification-service",
                                  "checks": checks}


def make_server(s: Settings, m: Metrics, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "notification-service"
        sys_version = ""

        def log_message(self, fmt, *args):  # quiet access log
            log.debug("http: " + fmt, *args)

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/health", "/healthz"):
                code, body = health(s)
                self._send(code, json.dumps(body).encode(), "application/json")
            elif path == "/version":
                version = config.PREVIOUS_VERSION if "stale_instance" in s.faults else config.RELEASE_VERSION
                self._send(200, json.dumps({"version": version, "service": "notification-service"}).encode(),
                           "application/json")
            elif path == "/metrics":
                if "worker_metrics_missing" in s.faults:  # deployed without its delivery instrumentation
                    self._send(200, b"# TYPE worker_up gauge\nworker_up 1\n", CONTENT_TYPE_LATEST)
                else:
                    self._send(200, generate_latest(m.registry), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b'{"detail": "Not Found"}', "application/json")

        do_HEAD = do_GET

    srv = ThreadingHTTPServer((config.env_str("SANDBOX_HOST", "127.0.0.1"), port), Handler)
    srv.daemon_threads = True
    return srv


def main() -> None:
    config.startup_check_or_exit("worker")
    config.setup_logging("worker", "INFO")
    events.setLevel(logging.INFO)
    s = Settings()
    m = Metrics()
    w = Worker(s, m)
    port = config.env_int("SANDBOX_PORT", config.env_int("PORT", 8084))
    srv = make_server(s, m, port)
    threading.Thread(target=srv.serve_forever, name="http", daemon=True).start()

    def _stop(*_):
        w.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("notification-service started: port=%s smtp=%s:%s retry_attempts=%s faults=%s", port, s.smtp_host,
             s.smtp_port, s.retry_attempts, sorted(s.faults))
    w.run()
    srv.shutdown()


if __name__ == "__main__":
    main()
