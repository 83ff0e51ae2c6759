"""Mailboxes behind one interface: MailDev's and Mailpit's web APIs, and a real inbox over IMAP.

Each answers one question, :meth:`Box.messages`: the emails to an address that landed since a moment, newest
last. Finding by recipient (each run writes to addresses of its own) and time, never by counting what the box
holds, keeps parallel runs and other traffic out of the answer. Every fetch counts against the run's request
budget for the service ``mailbox`` (``safety.max_requests``); a box that cannot be reached is an environment
error that says what was tried.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import re
import ssl
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from ..errors import EnvironmentProblem
from ..redact import redact
from .message import Mail, from_rfc822

SERVICE = "mailbox"


class Box(Protocol):
    where: str

    def messages(self, to: str, since: dt.datetime) -> list[Mail]: ...

    def close(self) -> None: ...


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def _addressed_to(addresses: list[Any], to: str) -> bool:
    wanted = to.casefold()
    return any(str(a.get("address") or a.get("Address") or "").casefold() == wanted for a in addresses or [])


class _Http:
    def __init__(self, url: str, *, auth: tuple[str, str] | None, timeout_s: float,
                 spend: Callable[[str], None] | None) -> None:
        self.where = url.rstrip("/")
        self._client = httpx.Client(base_url=self.where, auth=auth, timeout=timeout_s)
        self._spend = spend

    def get(self, path: str, **params: Any) -> httpx.Response:
        if self._spend is not None:
            self._spend(f"GET {path}")
        try:
            response = self._client.get(path, params=params or None)
        except httpx.TransportError as exc:
            raise EnvironmentProblem(redact(f"the mailbox at {self.where} did not answer ({type(exc).__name__}: "
                                            f"{exc}); check mailbox.url in the environment file")) from None
        if response.status_code in (401, 403):
            raise EnvironmentProblem(f"the mailbox at {self.where} refused the credentials of mailbox.auth "
                                     f"({response.status_code})")
        return response

    def close(self) -> None:
        self._client.close()


class MailDevBox:
    """MailDev's web API: ``GET /api/email`` (MailDev 3; ``/email`` before it) lists every email with its parts."""

    def __init__(self, url: str, *, timeout_s: float = 10, spend: Callable[[str], None] | None = None) -> None:
        self._http = _Http(url, auth=None, timeout_s=timeout_s, spend=spend)
        self.where = self._http.where
        self._path: str | None = None
        self._read: dict[str, Mail] = {}

    def _list(self) -> list[dict[str, Any]]:
        for path in ([self._path] if self._path else ["/api/email", "/email"]):
            response = self._http.get(path)
            if response.status_code == 200 and isinstance(response.json(), list):
                self._path = path
                return response.json()
        raise EnvironmentProblem(f"{self.where} does not answer as MailDev does (GET /api/email or /email): is "
                                 "mailbox.url MailDev's web address, and mailbox.kind right?")

    def messages(self, to: str, since: dt.datetime) -> list[Mail]:
        found = []
        for item in self._list():
            received = _when(item.get("time") or item.get("date"))
            if received < since or not _addressed_to(item.get("to"), to):
                continue
            ident = str(item.get("id"))
            if ident not in self._read:
                self._read[ident] = self._source(ident, received) or self._from_json(item, received)
            found.append(self._read[ident])
        return sorted(found, key=lambda m: m.received)

    def _source(self, ident: str, received: dt.datetime) -> Mail | None:
        """The message as sent (``GET /api/email/ID/source``): its own parts, not MailDev's reading of them (MailDev
        fills a missing text part from the HTML)."""
        if self._path != "/api/email":
            return None
        response = self._http.get(f"/api/email/{ident}/source")
        return from_rfc822(response.content, id=ident, received=received) if response.status_code == 200 else None

    @staticmethod
    def _from_json(item: dict[str, Any], received: dt.datetime) -> Mail:
        sender = (item.get("from") or [{}])[0]
        return Mail(
            id=str(item.get("id")), subject=item.get("subject") or "", sender=sender.get("address", ""),
            sender_name=sender.get("name", ""), to=tuple(a.get("address", "") for a in item.get("to") or []),
            received=received, text=item.get("text") or "", html=item.get("html") or "",
            headers={k.lower(): str(v) for k, v in (item.get("headers") or {}).items()})

    def close(self) -> None:
        self._http.close()


class MailpitBox:
    """Mailpit's API: ``GET /api/v1/search?query=to:"ADDRESS"`` finds the emails, ``GET /api/v1/message/ID`` reads one."""

    def __init__(self, url: str, *, auth: tuple[str, str] | None = None, timeout_s: float = 10,
                 spend: Callable[[str], None] | None = None) -> None:
        self._http = _Http(url, auth=auth, timeout_s=timeout_s, spend=spend)
        self.where = self._http.where
        self._read: dict[str, Mail] = {}

    def messages(self, to: str, since: dt.datetime) -> list[Mail]:
        response = self._http.get("/api/v1/search", query=f'to:"{to}"', limit=50)
        if response.status_code != 200:
            raise EnvironmentProblem(f"{self.where} does not answer as Mailpit does (GET /api/v1/search: "
                                     f"{response.status_code}); is mailbox.url Mailpit's address?")
        found = []
        for summary in response.json().get("messages") or []:
            received = _when(summary.get("Created") or summary.get("Date"))
            if received < since or not _addressed_to(summary.get("To"), to):
                continue
            ident = str(summary["ID"])
            if ident not in self._read:
                full = self._http.get(f"/api/v1/message/{ident}").json()
                sender = full.get("From") or {}
                self._read[ident] = Mail(
                    id=ident, subject=full.get("Subject") or "", sender=sender.get("Address", ""),
                    sender_name=sender.get("Name", ""), to=tuple(a.get("Address", "") for a in full.get("To") or []),
                    received=received, text=full.get("Text") or "", html=full.get("HTML") or "")
            found.append(self._read[ident])
        return sorted(found, key=lambda m: m.received)

    def close(self) -> None:
        self._http.close()


class ImapBox:
    """A real inbox over IMAP (TLS verified against the system's or ``ca_file``'s authorities): ``SEARCH TO`` the
    address ``SINCE`` the day, then ``FETCH`` each new message once (read-only: ``EXAMINE``, nothing is flagged)."""

    def __init__(self, host: str, port: int, username: str, password: str, *, tls: str = "implicit",
                 folder: str = "INBOX", ca_file: str | None = None, timeout_s: float = 10,
                 spend: Callable[[str], None] | None = None) -> None:
        self.where = f"imap://{host}:{port}/{folder}"
        self._args = (host, port, username, password, tls, folder, ca_file, timeout_s)
        self._conn: imaplib.IMAP4 | None = None
        self._spend = spend
        self._read: dict[bytes, Mail] = {}

    def _connect(self) -> imaplib.IMAP4:
        if self._conn is not None:
            return self._conn
        host, port, username, password, tls, folder, ca_file, timeout_s = self._args
        context = ssl.create_default_context(cafile=ca_file)
        try:
            if tls == "implicit":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout_s)
            else:
                conn = imaplib.IMAP4(host, port, timeout=timeout_s)
                if tls == "starttls":
                    conn.starttls(ssl_context=context)
            conn.login(username, password)
            status, _ = conn.select(f'"{folder}"', readonly=True)
            if status != "OK":
                raise EnvironmentProblem(f"the IMAP folder {folder!r} cannot be opened at {self.where}")
        except ssl.SSLError as exc:
            raise EnvironmentProblem(f"the IMAP server {self.where} did not pass the TLS check ({exc.reason or exc}); "
                                     "set mailbox.ca_file to its authority when it is a private one") from None
        except imaplib.IMAP4.error as exc:
            raise EnvironmentProblem(redact(f"the IMAP server {self.where} refused the sign-in of "
                                            f"mailbox.username ({exc})")) from None
        except OSError as exc:
            raise EnvironmentProblem(f"the IMAP server {self.where} did not answer ({exc}); check mailbox.host, "
                                     "mailbox.port and mailbox.tls") from None
        self._conn = conn
        return conn

    def messages(self, to: str, since: dt.datetime) -> list[Mail]:
        if self._spend is not None:
            self._spend("IMAP SEARCH")
        conn = self._connect()
        try:
            conn.noop()  # lets the server tell the session about new messages
            day = since.strftime("%d-%b-%Y")
            status, data = conn.search(None, "TO", f'"{to}"', "SINCE", day)
            found = []
            for number in (data[0] or b"").split() if status == "OK" else []:
                if number not in self._read:
                    status, parts = conn.fetch(number, "(INTERNALDATE RFC822)")
                    if status != "OK" or not parts or not isinstance(parts[0], tuple):
                        continue
                    self._read[number] = from_rfc822(parts[0][1], id=number.decode(),
                                                    received=_internal_date(parts[0][0]))
                mail = self._read[number]
                if mail.received >= since and any(a.casefold() == to.casefold() for a in mail.to):
                    found.append(mail)
        except (imaplib.IMAP4.abort, OSError) as exc:
            self._conn = None
            raise EnvironmentProblem(f"the IMAP connection to {self.where} broke ({exc})") from None
        return sorted(found, key=lambda m: m.received)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
            self._conn = None


def _internal_date(line: bytes) -> dt.datetime | None:
    """The time the IMAP server received a message: ``INTERNALDATE "24-Nov-2026 02:00:02 +0000"``."""
    match = re.search(rb'INTERNALDATE "([^"]+)"', line)
    if not match:
        return None
    return dt.datetime.strptime(match.group(1).decode(), "%d-%b-%Y %H:%M:%S %z").astimezone(dt.timezone.utc)


def open_box(spec: Any, *, spend: Callable[[str], None] | None = None) -> Box:
    """The mailbox an environment's ``mailbox:`` section describes."""
    kind = getattr(spec, "kind", "maildev")
    if kind == "maildev":
        return MailDevBox(str(spec.url), spend=spend)
    if kind == "mailpit":
        auth = (spec.auth.username, str(spec.auth.password)) if spec.auth else None
        return MailpitBox(str(spec.url), auth=auth, spend=spend)
    return ImapBox(spec.host, spec.port, spec.username, str(spec.password), tls=spec.tls, folder=spec.folder,
                   ca_file=getattr(spec, "ca_file", None), spend=spend)
