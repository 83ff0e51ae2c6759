"""Browser steps: a real Chromium through Playwright, one browser per worker, a fresh context per scenario.

The fixtures they use (``page``, ``page_watch``, ``browser_instance``) and the guard that turns a request the
environment forbids into the scenario's verdict are in :mod:`postdeploy.browser_fixtures`, registered with
this module; the sign-in procedure is :func:`postdeploy.browser.sign_in`, the checks
:mod:`postdeploy.checks.pages`.
"""

from __future__ import annotations

from typing import Any

from pytest_bdd import given, parsers, then, when

from postdeploy import browser as browser_lib
from postdeploy import checks, evidence
from postdeploy.auth import Sessions
from postdeploy.environment import Environment

pytest_plugins = ["postdeploy.browser_fixtures"]


# ---- signing in --------------------------------------------------------------------------

@given(parsers.parse('I am signed in to the browser as "{account}"'))
@when(parsers.parse('I sign in through the browser as "{account}"'))
def _(env: Environment, page: Any, page_watch: browser_lib.PageWatch, sessions: Sessions, account: str) -> None:
    """Reach a signed-in page the way ``browser.login`` says: through the login form by its labels, or by placing the session in local storage or a cookie.

    Example: When I sign in through the browser as "admin"
    """
    browser_lib.sign_in(page, page_watch, env, account, lambda name: sessions.credentials(name).token)


# ---- navigation and interaction ----------------------------------------------------------

@when(parsers.parse('I open the page "{path}"'))
def _(page: Any, path: str) -> None:
    """Open a page of the frontend and wait until the network is idle.

    Example: When I open the page "/settings/notifications"
    """
    checks.page_loaded(page.goto(path, wait_until="networkidle"), path)


@when(parsers.parse('I fill in "{label}" with "{value}"'))
def _(page: Any, label: str, value: str) -> None:
    """Type into the field with this label.

    Example: When I fill in "Email" with "{{accounts.admin.username}}"
    """
    page.get_by_label(label).fill(value)


@when(parsers.parse('I click the "{name}" button'))
def _(page: Any, name: str) -> None:
    """Click the button with this accessible name.

    Example: When I click the "Save" button
    """
    page.get_by_role("button", name=name).click()


# ---- assertions --------------------------------------------------------------------------

@then(parsers.parse('the page path is "{path}"'))
def _(page: Any, path: str) -> None:
    """The browser is at this path.

    Example: Then the page path is "/dashboard"
    """
    checks.at_path(page, path)


@then(parsers.parse('the page shows the heading "{text}"'))
def _(page: Any, text: str) -> None:
    """A heading with this text is visible.

    Example: Then the page shows the heading "Notification settings"
    """
    checks.shows_heading(page, text)


@then(parsers.parse('the page shows the text "{text}"'))
def _(page: Any, text: str) -> None:
    """This text is visible somewhere on the page.

    Example: Then the page shows the text "Staff notifications"
    """
    checks.shows_text(page, text)


@then(parsers.parse('the page shows at least {count:d} elements matching "{selector}"'))
def _(page: Any, count: int, selector: str) -> None:
    """At least this many elements match a CSS selector (waits for the first one).

    Example: Then the page shows at least 1 elements matching ".badge-sent"
    """
    checks.shows_at_least(page, count, selector)


@then("the page has no console errors")
def _(page: Any, page_watch: browser_lib.PageWatch) -> None:
    """Nothing was logged to the browser console as an error, and no script threw.

    Example: Then the page has no console errors
    """
    checks.none_seen(page, "console errors", page_watch.console_errors)


@then("the page made no failed requests")
def _(page: Any, page_watch: browser_lib.PageWatch) -> None:
    """No request of the page failed or answered 4xx/5xx.

    Example: Then the page made no failed requests
    """
    checks.none_seen(page, "failed requests", page_watch.failed_requests)


@then(parsers.parse('I attach a screenshot named "{name}"'))
def _(page: Any, name: str) -> None:
    """Attach a full-page screenshot to the report.

    Example: Then I attach a screenshot named "notification history"
    """
    evidence.image(name, page.screenshot(full_page=True))
