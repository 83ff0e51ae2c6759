"""Static assets and caching: assets served and cacheable for long, names carrying a content hash, pages
revalidated so that a release reaches its users (:mod:`postdeploy.checks.assets`)."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from postdeploy import checks
from postdeploy.http import Exchange


@when(parsers.parse('I fetch the static assets referenced by "{path}" on the "{service}" service'), target_fixture="assets")
def _(service_client, path: str, service: str) -> list[Exchange]:
    """Load a page and every script, style sheet, font and image it references from the same service.

    Example: When I fetch the static assets referenced by "/login" on the "frontend" service
    """
    return checks.static_assets(service_client(service), path)


@then(parsers.parse("every asset answers 200 with a Cache-Control max-age of at least {seconds:d} seconds"))
def _(assets: list[Exchange], seconds: int) -> None:
    """Each fetched asset is served and cacheable for at least this long (and not ``no-store``/``no-cache``).

    Example: Then every asset answers 200 with a Cache-Control max-age of at least 86400 seconds
    """
    checks.assets_cached(assets, seconds)


@then("every script and style sheet name carries a content hash")
def _(assets: list[Exchange]) -> None:
    """Cache busting: every .js and .css name has a hash part of 8 or more hex/base64 characters (``app.3f2a9c1b.js``).

    Example: Then every script and style sheet name carries a content hash
    """
    checks.assets_hashed(assets)


@then(parsers.parse("no response is cached as immutable nor for more than {seconds:d} seconds"))
def _(answers: list[checks.Answer], seconds: int) -> None:
    """HTML must be revalidated so that a release reaches users: the Cache-Control of no answer to ``When I send these requests`` (the pages) says ``immutable`` nor a ``max-age``/``s-maxage`` beyond this.

    Example: Then no response is cached as immutable nor for more than 300 seconds
    """
    checks.pages_revalidated(answers, seconds)
