"""Worker retries, failure classification and dependency outages (private sandboxes)."""
import os
import signal
import socket
import threading
import time



class FlakySMTP:
    """A real (tiny) SMTP server that answers 421 to the first `fail` MAIL commands, then accepts mail."""

    def __init__(self, fail: int = 0):
        self.fail = fail
        self.delivered = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        send = lambda s: conn.sendall(s.encode() + b"\r\n")  # noqa: E731
        try:
            send("220 flaky ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").strip().upper()
                if cmd.startswith(("EHLO", "HELO")):
                    send("250 flaky")
                elif cmd.startswith("MAIL"):
                    if self.fail > 0:
                        self.fail -= 1
                        send("421 4.3.2 service not available, try later")
                        return
                    send("250 OK")
                elif cmd.startswith("RCPT") or cmd.startswith("NOOP") or cmd.startswith("RSET"):
                    send("250 OK")
                elif cmd.startswith("DATA"):
                    send("354 go ahead")
                    while f.readline() not in (b".\r\n", b".\n", b""):
                        pass
                    self.delivered += 1
                    send("250 queued")
                elif cmd.startswith("QUIT"):
                    send("221 bye")
                    return
                else:
                    send("502 not implemented")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


def _send_test(sb, rcpt):
    r = sb.request("POST", "/api/v1/notifications/test", "admin",
                   json={"recipient_email": rcpt, "notification_type": "customer"})
    assert r.status_code == 202, r.text
    return r.json()["notification_id"]


def _final(sb, nid):
    return sb.wait_for("SELECT status, attempts, error_type FROM notifications WHERE id = %s", (nid,),
                       lambda r: r is not None and r[0] != "pending", timeout=15)


def test_retries_then_success_then_failure(start_sandbox):
    smtp = FlakySMTP(fail=2)
    try:
        with start_sandbox(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_RETRY_ATTEMPTS="3",
                           SMTP_RETRY_BACKOFF_MS="50") as sb:
            nid = _send_test(sb, "retry@example.com")
            assert _final(sb, nid) == ("sent", 3, None)
            assert smtp.delivered == 1
            log = sb.log("worker")
            assert "[EMAIL_SEND_RETRY]" in log and "attempt=2/3" in log and "[EMAIL_SEND_SUCCESS]" in log
            smtp.fail = 3
            nid = _send_test(sb, "fail@example.com")
            assert _final(sb, nid) == ("failed", 3, "connection")
            assert f"[EMAIL_SEND_FAILED] error_type=connection notification_id={nid}" in sb.log("worker")
            metrics = sb.http.get(sb.worker + "/metrics").text
            assert 'notification_email_failed_total{error_type="connection"} 1.0' in metrics
    finally:
        smtp.close()


def test_dependencies_down(start_sandbox):
    with start_sandbox(SMTP_RETRY_ATTEMPTS="2", SMTP_RETRY_BACKOFF_MS="50") as sb:
        os.killpg(sb.state["services"]["maildev"]["pid"], signal.SIGKILL)
        time.sleep(0.2)
        r = sb.http.get(sb.worker + "/health")
        assert r.status_code == 503
        assert r.json() == {"status": "error", "service": "notification-service",
                            "checks": {"database": "ok", "smtp": "error"}}
        nid = _send_test(sb, "down@example.com")
        assert _final(sb, nid) == ("failed", 2, "connection")
        os.killpg(sb.state["database"]["pid"], signal.SIGKILL)
        time.sleep(0.3)
        r = sb.http.get(sb.api + "/health")
        assert r.status_code == 503
        assert r.json() == {"status": "error", "checks": {"api": "ok", "database": "error"}}
        assert sb.http.get(sb.api + "/api/v1/health").status_code == 503
        r = sb.http.get(sb.worker + "/health")
        assert r.status_code == 503 and r.json()["checks"] == {"database": "error", "smtp": "error"}
        r = sb.http.get(sb.frontend + "/health")
        assert r.status_code == 503 and r.json()["checks"] == {"api": "error"}
