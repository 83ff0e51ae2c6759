"""Waiting for an email, and what an email must be: on time, once, from the right sender, fully rendered, with
links that work and point where they should, and no secret in it. Each check fails with one line a QA engineer
understands, and attaches the email that matters."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from .. import evidence
from ..errors import CheckFailed
from ..redact import MASK, redact
from .boxes import Box
from .message import Mail

#: an unrendered placeholder of the common template languages (string.Template, Jinja/Handlebars/Mustache,
#: ERB/EJS, Python %-format, Thymeleaf/Razor-ish), and what a template renders for a missing value in JavaScript
PLACEHOLDERS = {
    "${name}": re.compile(r"\$\{\s*[A-Za-z_][\w.]*\s*\}"),
    "{{ name }}": re.compile(r"\{\{[^{}\n]{1,60}\}\}"),
    "{% tag %}": re.compile(r"\{%[^%\n]{1,80}%\}"),
    "<%= name %>": re.compile(r"<%=?[^%\n]{1,80}%>"),
    "%(name)s": re.compile(r"%\([A-Za-z_]\w*\)[sdif]"),
    "$name": re.compile(r"(?<![\w$])\$[a-z_][a-z0-9_]*\b(?!\s*[\d.,])"),
    "undefined / [object Object] / NaN": re.compile(r"\bundefined\b|\[object Object\]|\bNaN\b"),
}
#: a JSON Web Token or a long bearer-like secret outside a link
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
MAX_LINKS = 20


def fail(message: str, mail: Mail | None = None) -> None:
    __tracebackhide__ = True
    if mail is not None:
        evidence.text(f"email: {mail.subject}", mail.as_text())
    raise CheckFailed(redact(message))


def wait_for(box: Box, to: str, *, since: dt.datetime, timeout_s: float, subject: str | None = None,
             poll_s: float = 0.1, clock: Callable[[], float] = time.monotonic,
             diagnose: Callable[[], str] | None = None) -> tuple[Mail, float]:
    """The first email to ``to`` (with ``subject`` in its subject) that landed since ``since``, as soon as it is
    there, and how long the wait took; none within ``timeout_s`` fails, naming the other emails to that address
    and what ``diagnose()`` says (the platform's own view of the delivery, when the environment names one)."""
    __tracebackhide__ = True
    started = clock()
    interval = poll_s
    while True:
        found = box.messages(to, since)
        matching = [m for m in found if subject is None or subject.casefold() in m.subject.casefold()]
        if matching:
            evidence.text(f"email: {matching[0].subject}", matching[0].as_text())
            return matching[0], clock() - started
        if clock() - started >= timeout_s:
            what = f"with '{subject}' in its subject " if subject else ""
            others = (f"; the mailbox holds {len(found)} other email(s) to it: "
                      + ", ".join(f"'{m.subject}'" for m in found[:5])) if found else ""
            why = f"; {diagnose()}" if diagnose is not None else ""
            fail(f"no email to {to} {what}arrived within {timeout_s:g} s (mailbox {box.where}){others}{why}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)  # found within 200 ms of landing, at most 5 asks a second


def all_within(box: Box, to: str, *, since: dt.datetime, window_s: float, subject: str | None = None) -> list[Mail]:
    """Every email to ``to`` (with ``subject``) that lands within ``window_s`` from now, for counting."""
    time.sleep(window_s)
    return [m for m in box.messages(to, since) if subject is None or subject.casefold() in m.subject.casefold()]


def placeholders(mail: Mail) -> list[str]:
    """The unrendered placeholders in the email's subject, text and HTML (each once, with its kind)."""
    found = []
    html_text = re.sub(r"<(script|style)\b.*?</\1>", " ", mail.html, flags=re.S | re.I)
    for where, text in (("subject", mail.subject), ("text", mail.text), ("HTML", html_text)):
        for kind, pattern in PLACEHOLDERS.items():
            for match in pattern.finditer(text):
                item = f"{match.group(0)!r} in the {where} ({kind})"
                if item not in found:
                    found.append(item)
    return found


def check_rendered(mail: Mail) -> None:
    __tracebackhide__ = True
    found = placeholders(mail)
    if found:
        fail(f"expected the email '{mail.subject}' fully rendered, found {len(found)} unrendered placeholder(s): "
             + "; ".join(found[:5]), mail)


def check_parts(mail: Mail) -> None:
    __tracebackhide__ = True
    missing = [part for part, body in (("plain-text", mail.text), ("HTML", mail.html)) if not body.strip()]
    if missing:
        fail(f"expected the email '{mail.subject}' to have a plain-text and an HTML part, the {' and the '.join(missing)} "
             "part is missing or empty", mail)


def check_sender(mail: Mail, expected: str) -> None:
    """``expected``: an address, or ``Name <address>`` to compare the display name too."""
    __tracebackhide__ = True
    match = re.fullmatch(r"\s*(.*?)\s*<([^>]+)>\s*", expected)
    name, address = (match.group(1), match.group(2)) if match else ("", expected.strip())
    if mail.sender.casefold() != address.casefold() or (name and mail.sender_name != name):
        seen = f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender
        fail(f"expected the email '{mail.subject}' from {expected}, got it from {seen}", mail)


def check_contains(mail: Mail, text: str) -> None:
    __tracebackhide__ = True
    if text not in mail.visible_text() and text not in mail.subject:
        fail(f"expected the email '{mail.subject}' to say {text!r}, it does not", mail)


def check_links_point_at(mail: Mail, bases: Sequence[str]) -> None:
    """Every http(s) link points at one of ``bases`` (scheme, host and port; ``mailto:`` and fragments aside)."""
    __tracebackhide__ = True
    allowed = {_origin(b) for b in bases}
    links = [link for link in mail.links() if link.startswith(("http://", "https://"))]
    if not links:
        fail(f"expected links in the email '{mail.subject}' to {', '.join(sorted(allowed))}, it has none", mail)
    wrong = [link for link in links if _origin(link) not in allowed]
    evidence.table("links of the email", [{"link": link, "points at": _origin(link), "ok": link not in wrong}
                                          for link in links])
    if wrong:
        fail(f"expected every link of the email '{mail.subject}' to point at {', '.join(sorted(allowed))}, "
             f"{len(wrong)} of {len(links)} do not, first: {wrong[0]}", mail)


def check_links_answer(mail: Mail, fetch: Callable[[str], int]) -> None:
    """Every http(s) link (at most :data:`MAX_LINKS`) answers 2xx, redirects followed (``fetch(url) -> status``,
    a read-only GET)."""
    __tracebackhide__ = True
    links = [link for link in mail.links() if link.startswith(("http://", "https://"))][:MAX_LINKS]
    rows, broken = [], []
    for link in links:
        try:
            status = fetch(link)
        except CheckFailed as exc:
            status = str(exc).splitlines()[0]
        rows.append({"link": link, "answer": status})
        if not (isinstance(status, int) and 200 <= status < 300):
            broken.append(f"{link} answered {status}")
    evidence.table("links of the email, asked", rows)
    if broken:
        fail(f"expected every link of the email '{mail.subject}' to work, {len(broken)} of {len(links)} do not, "
             f"first: {broken[0]}", mail)


def check_no_secrets(mail: Mail, secrets: Iterable[str]) -> None:
    """No secret of the environment (an account's password, a token, an entry of ``secrets:``) in the subject,
    text or HTML, and no JSON Web Token outside a link (a single-use link's token is the link's business)."""
    __tracebackhide__ = True
    body = f"{mail.subject}\n{mail.text}\n{mail.html}"
    found = [f"a secret of the environment ({MASK})" for s in secrets if len(s) >= 6 and s in body][:1]
    outside_links = body
    for link in mail.links():
        outside_links = outside_links.replace(link, " ")
    if _JWT.search(outside_links):
        found.append(f"a JSON Web Token outside a link ({MASK})")
    if found:
        fail(f"expected no secret in the email '{mail.subject}', found {' and '.join(found)}", mail)


def check_count(mails: list[Mail], to: str, subject: str | None, expected: int, window_s: float) -> None:
    __tracebackhide__ = True
    what = f" with '{subject}' in the subject" if subject else ""
    if len(mails) != expected:
        listing = ", ".join(m.summary() for m in mails[:5])
        fail(f"expected exactly {expected} email(s) to {to}{what} within {window_s:g} s, got {len(mails)}"
             + (f": {listing}" if listing else ""), mails[-1] if mails else None)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"
