"""Cookies set by the sign-in and the pages, held to the rules browsers and the HTTP Observatory apply:
``Secure`` on HTTPS, ``HttpOnly`` on session cookies, ``SameSite`` on session cookies (``None`` only with
``Secure``), and the prefixes: ``__Secure-`` needs ``Secure``; ``__Host-`` needs ``Secure``, ``Path=/`` and no
``Domain`` (RFC 6265bis)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import evidence
from ..checks._base import every, path_of
from ..http import Exchange

SESSION_NAMES = re.compile(r"sess|sid|token|auth|jwt|refresh|remember|login", re.IGNORECASE)


@dataclass(frozen=True)
class Cookie:
    name: str
    attributes: dict[str, str]  # lower-case attribute name -> value ('' for a flag)
    source: str                 # the request that set it
    https: bool

    @classmethod
    def parse(cls, header: str, source: str, https: bool) -> Cookie:
        pair, *rest = header.split(";")
        attributes = {}
        for part in rest:
            key, _, value = part.strip().partition("=")
            if key:
                attributes[key.lower()] = value.strip()
        return cls(pair.split("=", 1)[0].strip(), attributes, source, https)


def cookies_of(exchanges: Sequence[Exchange]) -> list[Cookie]:
    return [Cookie.parse(header, f"{x.method} {path_of(x.url)} ({x.service})", x.url.startswith("https://"))
            for x in exchanges for header in x.headers.get_list("set-cookie")]


def problems_of(cookie: Cookie, session_names: Sequence[str] = ()) -> list[str]:
    a = cookie.attributes
    session = cookie.name in session_names or bool(SESSION_NAMES.search(cookie.name))
    problems = []
    if cookie.https and "secure" not in a:
        problems.append("no Secure on an HTTPS answer")
    if session and "httponly" not in a:
        problems.append("a session cookie without HttpOnly")
    samesite = a.get("samesite", "").lower()
    if session and samesite not in ("strict", "lax", "none"):
        problems.append("a session cookie without SameSite" if "samesite" not in a else f"SameSite={a['samesite']}")
    if samesite == "none" and "secure" not in a:
        problems.append("SameSite=None without Secure")
    if cookie.name.startswith("__Secure-") and "secure" not in a:
        problems.append("__Secure- prefix without Secure")
    if cookie.name.startswith("__Host-") and ("secure" not in a or a.get("path") != "/" or "domain" in a):
        problems.append("__Host- prefix without Secure, Path=/ and no Domain")
    return problems


def check_cookies(cookies: Sequence[Cookie], session_names: Sequence[str] = ()) -> None:
    """Every cookie carries the attributes its kind requires; a table of every cookie seen."""
    __tracebackhide__ = True
    if not cookies:
        evidence.text("cookies", "no answer set a cookie")
        return
    rows, problems = [], []
    for cookie in cookies:
        found = problems_of(cookie, session_names)
        shown = "; ".join(k if not v else f"{k}={v}" for k, v in cookie.attributes.items()
                          if k not in ("expires", "max-age"))
        rows.append({"cookie": cookie.name, "set by": cookie.source, "attributes": shown,
                     "verdict": "ok" if not found else "; ".join(found)})
        if found:
            problems.append(f"cookie {cookie.name} set by {cookie.source}: {', '.join(found)}")
    every("cookies", rows, problems, "every cookie with the attributes its kind requires")
