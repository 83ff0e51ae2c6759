"""One email as every mailbox gives it: who sent it to whom, when it landed, its subject, text and HTML parts."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

_URL_IN_TEXT = re.compile(r"""https?://[^\s<>"')\]]+""")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.found.append(href.strip())


@dataclass(frozen=True)
class Mail:
    """An email as the mailbox holds it. ``received``: when the mailbox got it (UTC)."""

    id: str
    subject: str
    sender: str
    to: tuple[str, ...]
    received: dt.datetime
    text: str = ""
    html: str = ""
    sender_name: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    def links(self) -> list[str]:
        """Every link, in order, once: the ``href`` of each ``<a>`` of the HTML part, then the URLs of the text part."""
        parser = _Links()
        if self.html:
            parser.feed(self.html)
        found = [*parser.found, *(u.rstrip(".,;:") for u in _URL_IN_TEXT.findall(self.text))]
        return list(dict.fromkeys(found))

    def visible_text(self) -> str:
        """The text part and the HTML part's text, for searching what a reader sees."""
        stripped = re.sub(r"<(script|style)\b.*?</\1>", " ", self.html, flags=re.S | re.I)
        stripped = html_lib.unescape(re.sub(r"<[^>]+>", " ", stripped))
        return f"{self.text}\n{stripped}"

    def summary(self) -> str:
        return f"'{self.subject}' from {self.sender} to {', '.join(self.to)} at {self.received:%H:%M:%S}"

    def as_text(self) -> str:
        """The email as evidence: its headers that matter and both parts (redacted by the evidence module)."""
        head = [f"From: {self.sender_name} <{self.sender}>" if self.sender_name else f"From: {self.sender}",
                f"To: {', '.join(self.to)}", f"Subject: {self.subject}", f"Received: {self.received.isoformat()}"]
        return "\n".join([*head, "", "--- text ---", self.text, "", "--- html ---", self.html])


def from_rfc822(raw: bytes, *, id: str, received: dt.datetime | None = None) -> Mail:
    """An email from its source (IMAP ``RFC822``, a ``.eml`` file)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    sender_name, sender = email.utils.parseaddr(str(message.get("From", "")))
    to = tuple(addr for _, addr in email.utils.getaddresses([str(v) for v in message.get_all("To", [])]))
    if received is None:
        date = message.get("Date")
        received = email.utils.parsedate_to_datetime(str(date)) if date else dt.datetime.now(dt.timezone.utc)
    return Mail(
        id=id, subject=str(message.get("Subject", "")), sender=sender, sender_name=sender_name, to=to,
        received=received.astimezone(dt.timezone.utc),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else "",
        headers={k.lower(): str(v) for k, v in message.items()},
    )
