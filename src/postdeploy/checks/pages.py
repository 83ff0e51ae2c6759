"""Checks of a page in a real browser (a Playwright page): where it is, what it shows, what went wrong in it."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from .. import evidence
from ._base import fail, path_of


def page_loaded(response: Any, path: str) -> None:
    """The navigation to ``path`` (Playwright's response to ``page.goto``, None for a same-page one) did not answer an error."""
    __tracebackhide__ = True
    if response is not None and response.status >= 400:
        fail(f"expected the page {path} to load, got HTTP {response.status} from {response.url}")


def at_path(page: Any, path: str) -> None:
    __tracebackhide__ = True
    if path_of(page.url) != path:
        fail(f"expected the browser at {path}, it is at {page.url}")


def shows_heading(page: Any, text: str, timeout_ms: float = 5000) -> None:
    __tracebackhide__ = True
    heading = page.get_by_role("heading", name=text)
    try:
        heading.first.wait_for(state="visible", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 (Playwright's timeout, or a page gone: the headings say what is there)
        seen = [h.strip() for h in page.locator("h1, h2, h3").all_inner_texts()]
        fail(f"expected a heading {text!r} on {page.url}, the headings are {seen}")


def shows_text(page: Any, text: str, timeout_ms: float = 5000) -> None:
    __tracebackhide__ = True
    try:
        page.get_by_text(text).first.wait_for(state="visible", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 (Playwright's timeout, or a page gone)
        fail(f"expected the text {text!r} on {page.url}; it is not visible")


def shows_at_least(page: Any, count: int, selector: str, timeout_ms: float = 5000) -> None:
    """At least ``count`` elements match a CSS selector (waits for the first one)."""
    __tracebackhide__ = True
    locator = page.locator(selector)
    if count:
        with contextlib.suppress(Exception):  # not there in time: the count below says how many are
            locator.first.wait_for(state="visible", timeout=timeout_ms)
    seen = locator.count()
    if seen < count:
        fail(f"expected at least {count} element{'s' if count != 1 else ''} matching {selector!r} on {page.url}, "
             f"found {seen}")


def none_seen(page: Any, what: str, seen: list[str]) -> None:
    """Nothing of ``what`` (console errors, failed requests: a :class:`~postdeploy.browser.PageWatch` list)
    happened on the page; else attach them all and fail with the first few."""
    __tracebackhide__ = True
    if seen:
        evidence.text(what, "\n".join(seen))
        fail(f"expected no {what} on {page.url}, got {len(seen)}: " + " | ".join(seen[:5]))


_TOKEN_IN_ADDRESS = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def address_without_credentials(addresses: list[str]) -> None:
    """No address holds a JSON Web Token or a secret the run knows (redacted when named)."""
    __tracebackhide__ = True
    from urllib.parse import unquote

    from ..redact import registered

    secrets = [v.decode("utf-8", "replace") for v in registered() if len(v) >= 8]
    for address in dict.fromkeys(addresses):
        plain = unquote(address)
        if _TOKEN_IN_ADDRESS.search(plain) or any(secret in plain for secret in secrets):
            fail(f"expected no credentials in the page's address, found one in {address} (addresses end up in "
                 "history, logs and Referer headers)")
