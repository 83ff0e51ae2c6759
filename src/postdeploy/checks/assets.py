"""Static assets and caching: assets served and cacheable for long, names carrying a content hash, and
pages (HTML) revalidated so that a release reaches its users."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..http import Exchange
from ._base import asked, every, fail, problems_first
from .responses import status

_ASSET = re.compile(r"""(?:src|href)=["']([^"']+\.(?:js|css|woff2?|png|svg|ico))["']""", re.IGNORECASE)
_MAX_AGE = re.compile(r"\b(?:max-age|s-maxage)\s*=\s*\"?(\d+)", re.IGNORECASE)


def static_assets(client: Any, path: str) -> list[Exchange]:
    """Load a page (it must answer 200) and every script, style sheet, font and image it references from
    the same service; fails if it references none."""
    __tracebackhide__ = True
    page = client.request("GET", path, follow_redirects=True)
    status(page, 200)
    urls = sorted({u for u in _ASSET.findall(page.text) if not u.startswith(("http://", "https://", "//"))})
    if not urls:
        fail(f"expected {page.where} to reference static assets, found none")
    return [client.request("GET", u, attach=False) for u in urls]


def assets_cached(assets: Iterable[Exchange], seconds: int) -> None:
    """Each asset answers 200 and may be cached at least ``seconds`` (and not ``no-store``/``no-cache``)."""
    __tracebackhide__ = True
    rows, problems = [], []
    for asset in assets:
        cache = asset.headers.get("cache-control", "")
        match = re.search(r"max-age=(\d+)", cache)
        ok = asset.status == 200 and match is not None and int(match.group(1)) >= seconds and "no-store" not in cache and "no-cache" not in cache
        rows.append({"asset": asset.url, "status": asset.status, "cache-control": cache or "(absent)", "ok": ok})
        if not ok:
            problems.append(f"{asset.url}: {asset.status}, Cache-Control {cache or '(absent)'!r}")
    every("static assets", rows, problems, f"long-lived caching (max-age >= {seconds}) for every asset")


def assets_hashed(assets: Iterable[Exchange]) -> None:
    """Cache busting: every .js and .css name has a hash part of 8 or more hex/base64 characters."""
    __tracebackhide__ = True
    unhashed = [a.url for a in assets if re.search(r"\.(js|css)(\?|$)", a.url)
                and not re.search(r"[.-][A-Za-z0-9_]{8,}\.(js|css)(\?|$)", a.url)]
    if unhashed:
        fail(f"expected content-hashed asset names, these are not: {', '.join(unhashed)}")


def page_cache_problem(exchange: Exchange, max_age_s: int) -> str | None:
    """A page (HTML) must be revalidated: no ``immutable``, no ``max-age``/``s-maxage`` beyond ``max_age_s``."""
    if not 200 <= exchange.status < 300:
        return f"expected a page (2xx) at {asked(exchange)} to judge its caching, got {exchange.summary(80)}"
    cache = exchange.headers.get("cache-control", "")
    ages = [int(m) for m in _MAX_AGE.findall(cache)]
    if "immutable" in cache.lower() or any(age > max_age_s for age in ages):
        return (f"expected a page cached at most {max_age_s} s and never immutable at {asked(exchange)}, "
                f"got Cache-Control {cache!r}")
    return None


def pages_revalidated(answers: Iterable[tuple[Any, Exchange]], max_age_s: int) -> None:
    """No page may be cached as immutable nor for more than ``max_age_s`` (:func:`page_cache_problem`)."""
    __tracebackhide__ = True
    rows, problems = [], []
    for spec, exchange in answers:
        problem = page_cache_problem(exchange, max_age_s)
        rows.append({"page": spec.path, "status": exchange.status,
                     "cache-control": exchange.headers.get("cache-control", "(absent)"), "ok": problem is None})
        problems += [problem] if problem else []
    problems_first("page caching", rows, problems, "pages")
