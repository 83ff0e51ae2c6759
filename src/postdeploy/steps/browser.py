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
    """Reach a signed-in page the way ``browser.login`` says: through the login form (its fields and button found by exact label and name, or the locators ``browser.login`` gives), or by placing the session the API sign-in produced (its token, or its cookie) in local storage or a cookie.

    Example: When I sign in through the browser as "admin"
    """
    browser_lib.sign_in(page, page_watch, env, account, sessions.credentials)


# ---- navigation and interaction ----------------------------------------------------------

@when(parsers.parse('I open the page "{path}"'))
def _(page: Any, path: str) -> None:
    """Open a page of the frontend and wait until the network is idle.

    Example: When I open the page "/settings/notifications"
    """
    checks.page_loaded(page.goto(path, wait_until="networkidle"), path)


@when(parsers.parse('I fill in "{field}" with "{value}"'))
def _(env: Environment, page: Any, field: str, value: str) -> None:
    """Type into the one field with this exact label (a "Show password" toggle is not the "Password" field), or the field a locator names: ``label=``, ``placeholder=``, ``testid=``, ``role=textbox[name="..."]``, ``css=``.

    Example: When I fill in "placeholder=you@example.com" with "{{accounts.admin.username}}"
    """
    browser_lib.one(page, field, timeout_s=env.browser.timeout_s).fill(value)


@when(parsers.parse('I click the "{name}" button'))
def _(env: Environment, page: Any, name: str) -> None:
    """Click the one button with this exact accessible name (a ``<button>`` without ``type`` included).

    Example: When I click the "Save" button
    """
    browser_lib.one(page, name, bare="button", timeout_s=env.browser.timeout_s).click()


@when(parsers.parse('I click "{target}"'))
def _(env: Environment, page: Any, target: str) -> None:
    """Click the one button or link with this exact name, or what a locator names (``testid=``, ``role=``, ``text=`` ...).

    Example: When I click "Forgot password?"
    """
    browser_lib.one(page, target, bare="clickable", timeout_s=env.browser.timeout_s).click()


@when(parsers.parse('I check "{field}"'))
def _(env: Environment, page: Any, field: str) -> None:
    """Tick the one checkbox with this exact label (or locator), e.g. "Remember me".

    Example: When I check "Remember me"
    """
    browser_lib.one(page, field, timeout_s=env.browser.timeout_s).check()


@when(parsers.parse('I remember the text of "{target}" as "{name}"'))
def _(request, env: Environment, page: Any, target: str, name: str) -> None:
    """Keep the text of the one element a locator names (a bare text: its exact label) as ``{{name}}``.

    Example: When I remember the text of "testid=order-number" as "order_number"
    """
    from postdeploy import scenario

    text = browser_lib.one(page, target, timeout_s=env.browser.timeout_s).inner_text().strip()
    scenario.remember(request.node, name, text, taken=(*env.values, *env.secrets))
    evidence.text(f"remembered {name}", text)


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


@then(parsers.re(r'the page shows at least (?P<count>\d+) elements? matching "(?P<selector>[^"]*)"'),
      converters={"count": int})
def _(page: Any, count: int, selector: str) -> None:
    """At least this many elements match a CSS selector (waits for the first one).

    Example: Then the page shows at least 1 element matching ".badge-sent"
    """
    checks.shows_at_least(page, count, selector)


@then(parsers.parse('the page shows "{target}"'))
def _(env: Environment, page: Any, target: str) -> None:
    """The one element a locator names is visible (waiting for the page's own state, never a fixed delay); a bare text is a button or link with that exact name.

    Example: Then the page shows "role=button[name=\"Log Out\"]"
    """
    browser_lib.one(page, target, bare="clickable", timeout_s=env.browser.timeout_s)


@then("the page address carries no credentials")
def _(page: Any, page_watch: browser_lib.PageWatch) -> None:
    """No address the page reached in this scenario (each navigation, ``history.pushState`` included) holds a token: a secret of the run (a password, the session) or a JSON Web Token. Addresses end up in browser history, proxies' logs and Referer headers.

    Example: Then the page address carries no credentials
    """
    checks.address_without_credentials([*page_watch.addresses, page.url])


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
