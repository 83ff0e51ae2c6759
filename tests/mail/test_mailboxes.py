"""The mailboxes against real servers: IMAP against Dovecot over TLS (certificates from trustme), Mailpit's API
against a server that speaks it, and what an email must be on real messages. MailDev is proven through the
sandbox by tests/features/test_email_matrix.py."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from postdeploy.errors import CheckFailed, EnvironmentProblem
from postdeploy.mail import ImapBox, Mail, MailpitBox, checks, from_rfc822

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "qa@example.com", "imap-pass-123"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(to: str, subject: str, text: str, html: str = "") -> bytes:
    mail = EmailMessage()
    mail["From"] = "Notification Platform <notifications@example.com>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Tue, 24 Nov 2026 02:08:00 +0000"
    mail.set_content(text)
    if html:
        mail.add_alternative(html, subtype="html")
    return bytes(mail)


@pytest.fixture(scope="module")
def dovecot():
    """A real Dovecot on a free loopback port, IMAPS only, its certificate from a CA of the test's own; messages
    are delivered by writing them into the user's Maildir, as a local delivery agent does."""
    if not os.path.exists(DOVECOT):
        pytest.fail("Dovecot is not installed: scripts/setup.sh installs dovecot-imapd")
    home = Path(tempfile.mkdtemp(prefix="pd-dovecot-"))  # pytest's own tmp dirs are 0700: Dovecot's users could
    home.chmod(0o755)                                     # not read the passwd-file or the Maildir
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(home / "server.pem"))
    ca.cert_pem.write_to_path(str(home / "ca.pem"))
    trustme.CA().cert_pem.write_to_path(str(home / "other-ca.pem"))
    port = free_port()
    (home / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    maildir = home / "mail" / USER / "Maildir"
    for part in ("new", "cur", "tmp"):
        (maildir / part).mkdir(parents=True)
    (home / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {home}/run
state_dir = {home}/run/state
log_path = {home}/dovecot.log
ssl = required
ssl_cert = <{home}/server.pem
ssl_key = <{home}/server.pem
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
disable_plaintext_auth = yes
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {home}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={home}/mail/%u
}}
mail_location = maildir:{home}/mail/%u/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
""")
    subprocess.run(["chown", "-R", "dovecot:dovecot", str(home / "mail")], check=True)
    subprocess.run([DOVECOT, "-c", str(home / "dovecot.conf")], check=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    counter = iter(range(1, 10_000))

    def deliver(raw: bytes) -> None:
        name = f"{time.time():.6f}.{next(counter)}.test"
        (maildir / "tmp" / name).write_bytes(raw)
        shutil.chown(maildir / "tmp" / name, "dovecot", "dovecot")
        (maildir / "tmp" / name).rename(maildir / "new" / name)

    yield {"port": port, "ca": str(home / "ca.pem"), "other_ca": str(home / "other-ca.pem"), "deliver": deliver}
    subprocess.run([DOVECOT, "-c", str(home / "dovecot.conf"), "stop"], check=False)
    shutil.rmtree(home, ignore_errors=True)


def imap(dovecot, **overrides) -> ImapBox:
    options = {"ca_file": dovecot["ca"], **overrides}
    password = options.pop("password", PASSWORD)
    return ImapBox("127.0.0.1", dovecot["port"], USER, password, **options)


def test_imap_finds_the_emails_to_one_address_over_verified_tls(dovecot):
    dovecot["deliver"](message("qa+run1-1@example.com", "Your receipt for order 1", "Thanks! https://shop.test/o/1"))
    dovecot["deliver"](message("someone-else@example.com", "Your receipt for order 2", "not ours"))
    box = imap(dovecot)
    try:
        found = box.messages("qa+run1-1@example.com", EPOCH)
        assert [(m.subject, m.sender, m.to) for m in found] == [
            ("Your receipt for order 1", "notifications@example.com", ("qa+run1-1@example.com",))]
        assert found[0].links() == ["https://shop.test/o/1"] and found[0].received > EPOCH
        assert box.messages("qa+run1-1@example.com", dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)) == []
    finally:
        box.close()


def test_imap_waits_until_the_email_lands_and_returns_at_once(dovecot):
    box = imap(dovecot)
    raw = message("qa+run1-2@example.com", "Welcome", "Hello")
    timer = threading.Timer(0.6, dovecot["deliver"], args=(raw,))
    try:
        started = time.monotonic()
        timer.start()
        found, waited = checks.wait_for(box, "qa+run1-2@example.com", since=EPOCH, timeout_s=10, subject="welcome")
        assert found.subject == "Welcome" and 0.5 < waited < 3 and time.monotonic() - started < 3
        with pytest.raises(CheckFailed, match=r"no email to qa\+run1-2@example.com with 'Reset' in its subject "
                                              r"arrived within 0.3 s .*; the mailbox holds 1 other email\(s\) to it: "
                                              r"'Welcome'"):
            checks.wait_for(box, "qa+run1-2@example.com", since=EPOCH, timeout_s=0.3, subject="Reset")
    finally:
        timer.cancel()
        box.close()


def test_imap_with_an_untrusted_certificate_or_a_wrong_password_is_an_environment_error(dovecot):
    with pytest.raises(EnvironmentProblem, match="did not pass the TLS check .*mailbox.ca_file"):
        imap(dovecot, ca_file=dovecot["other_ca"]).messages("x@example.com", EPOCH)
    with pytest.raises(EnvironmentProblem, match="refused the sign-in of mailbox.username") as raised:
        imap(dovecot, password="wrong-password-1").messages("x@example.com", EPOCH)
    assert "wrong-password-1" not in str(raised.value)


class Mailpit(BaseHTTPRequestHandler):
    """Mailpit's search and message API (https://mailpit.axllent.org/docs/api-v1/), behind basic authentication."""

    messages: list[dict] = []

    def do_GET(self):  # noqa: N802
        expected = "Basic " + base64.b64encode(b"qa:mailpit-pw-1").decode()
        if self.headers.get("Authorization") != expected:
            self._send(401, {"error": "unauthorised"})
        elif self.path.startswith("/api/v1/search"):
            wanted = self.path.split("query=to%3A%22", 1)[1].split("%22", 1)[0].replace("%2B", "+").replace("%40", "@")
            hits = [{k: m[k] for k in ("ID", "From", "To", "Subject", "Created")} for m in self.messages
                    if any(a["Address"] == wanted for a in m["To"])]
            self._send(200, {"messages": hits, "total": len(hits)})
        elif self.path.startswith("/api/v1/message/"):
            ident = self.path.rsplit("/", 1)[1]
            self._send(200, next(m for m in self.messages if m["ID"] == ident))
        else:
            self._send(404, {})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_mailpit_finds_reads_and_refuses_wrong_credentials():
    Mailpit.messages = [
        {"ID": "a1", "From": {"Address": "notifications@example.com", "Name": "Platform"},
         "To": [{"Address": "qa+r-1@example.com", "Name": ""}], "Subject": "Your receipt",
         "Created": "2026-11-24T02:00:00.5Z", "Text": "Thanks", "HTML": "<p>Thanks <a href='https://x.test/'>x</a></p>"},
        {"ID": "b2", "From": {"Address": "n@example.com", "Name": ""}, "To": [{"Address": "other@example.com"}],
         "Subject": "Other", "Created": "2026-11-24T02:00:01Z", "Text": "", "HTML": ""}]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Mailpit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        box = MailpitBox(url, auth=("qa", "mailpit-pw-1"))
        [found] = box.messages("qa+r-1@example.com", EPOCH)
        assert (found.subject, found.sender_name, found.text, found.links()) == \
            ("Your receipt", "Platform", "Thanks", ["https://x.test/"])
        with pytest.raises(EnvironmentProblem, match="refused the credentials of mailbox.auth"):
            MailpitBox(url, auth=("qa", "nope")).messages("qa+r-1@example.com", EPOCH)
    finally:
        server.shutdown()


def mail(text: str = "", html: str = "", subject: str = "Your receipt") -> Mail:
    return Mail(id="1", subject=subject, sender="n@example.com", to=("qa@example.com",),
                received=EPOCH, text=text, html=html)


def test_unrendered_placeholders_are_found_and_prices_are_not():
    assert checks.placeholders(mail("Total: $12.50, 5 items at $3 each")) == []
    found = checks.placeholders(mail("Total: ${order_total}\nHi {{ name }}, %(code)s", "<p>Order $order_id</p>",
                                     subject="Receipt undefined"))
    assert found == ["'undefined' in the subject (undefined / [object Object] / NaN)",
                     "'${order_total}' in the text (${name})", "'{{ name }}' in the text ({{ name }})",
                     "'%(code)s' in the text (%(name)s)", "'$order_id' in the HTML ($name)"]
    with pytest.raises(CheckFailed, match=r"found 5 unrendered placeholder\(s\): 'undefined' in the subject"):
        checks.check_rendered(mail("Total: ${order_total}\nHi {{ name }}, %(code)s", "<p>Order $order_id</p>",
                                   subject="Receipt undefined"))


def test_a_token_in_a_link_is_the_links_business_and_one_outside_it_is_a_leak():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXh4eHg"
    checks.check_no_secrets(mail(f"Reset: https://app.test/reset?token={jwt}"), [])
    with pytest.raises(CheckFailed, match="found a JSON Web Token outside a link"):
        checks.check_no_secrets(mail(f"Debug: {jwt}"), [])
    with pytest.raises(CheckFailed, match=r"found a secret of the environment") as raised:
        checks.check_no_secrets(mail("Your password is customer-pass-123"), ["customer-pass-123"])
    assert "customer-pass-123" not in str(raised.value)


def test_links_point_at_the_frontend_or_are_named():
    good = mail("See https://app.test/orders/1", '<a href="https://app.test:443/settings">s</a> mailto:x@y')
    checks.check_links_point_at(good, ["https://app.test"])
    with pytest.raises(CheckFailed, match=r"1 of 2 do not, first: http://localhost:3000/orders/1"):
        checks.check_links_point_at(mail("https://app.test/a http://localhost:3000/orders/1"), ["https://app.test"])


def test_an_email_is_read_from_its_source_with_both_parts():
    parsed = from_rfc822(message("qa@example.com", "Hi", "text part", "<p>html <a href='https://a.test/x'>x</a></p>"),
                         id="9")
    assert (parsed.text.strip(), "html" in parsed.html, parsed.links()) == ("text part", True, ["https://a.test/x"])
    checks.check_parts(parsed)
    with pytest.raises(CheckFailed, match="the HTML part is missing or empty"):
        checks.check_parts(from_rfc822(message("qa@example.com", "Hi", "only text"), id="10"))
