"""Browser steps: a real Chromium through Playwright, one browser per worker, a fresh context per scenario.

Playwright is imported only when a scenario asks for the ``page`` fixture. Every scenario
attaches a screenshot of where it ended; a failed one also attaches a redacted Playwright trace.

Every context is guarded (``postdeploy.browser.RouteGuard``): a request the environment forbids (a save in a
read-only environment) is blocked before it leaves the browser, and the scenario ends as a *suite error* that
says so, at the step after which the block was seen (or, if the page sent it later, at the end of the scenario),
with the list of blocked requests attached. What the page did because of the block (a failed request, a
console error, a message that never shows) does not pass for a defect of the target.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from pytest_bdd import given, parsers, then, when

from postdeploy import browser as browser_lib
from postdeploy import checks, evidence
from postdeploy.environment import Environment
from postdeploy.errors import UnsafeOperation
from postdeploy.plugin import failed
from postdeploy.safety import guard_for

_GUARDED = pytest.StashKey[tuple[Any, browser_lib.RouteGuard]]()  # the scenario's page and its route guard


@pytest.fixture(scope="session")
def browser_instance() -> Iterator[Any]:
    """The worker's browser, launched on first use (override to use another browser)."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = browser_lib.launch(playwright)
    except Exception:
        playwright.stop()
        raise
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture
def page_watch() -> browser_lib.PageWatch:
    """Console errors and failed requests of the scenario's page."""
    return browser_lib.PageWatch()


@pytest.fixture
def page(request: pytest.FixtureRequest, env: Environment, service_client, browser_instance: Any,
         page_watch: browser_lib.PageWatch) -> Iterator[Any]:
    """A page in a fresh browser context on the environment's frontend, traced, and closed after the scenario."""
    if env.browser is None:
        pytest.skip(f"inconclusive: environment '{env.name}' has no 'browser:' section, so this browser check cannot run")
    client = service_client(env.browser.service)
    # The page the browser opens first must answer over HTTP: a frontend that stopped answering is one target
    # defect, and every later browser scenario is not verified at once, instead of each waiting its timeout.
    client.request("GET", env.browser.login.path, attach=False, follow_redirects=True)
    context, route_guard = browser_lib.open_context(
        browser_instance, guard_for(env), base_url=client.base_url, viewport=env.browser.viewport,
        timeout_s=env.browser.timeout_s)
    page_watch.route_guard = route_guard
    context.tracing.start(screenshots=True, snapshots=True, sources=False)
    page = context.new_page()
    page_watch.attach_to(page)
    request.node.stash[_GUARDED] = (page, route_guard)
    late: Exception | None = None
    try:
        yield page
    finally:
        try:
            evidence.image("final page" if not failed(request.node) else "page at failure", page.screenshot(full_page=True))
        except Exception as exc:  # a crashed page must not hide the scenario's own outcome
            evidence.text("screenshot unavailable", str(exc))
        # a request the page sent after the last step (the screenshot let its route run) still decides the verdict
        late = route_guard.error() if not failed(request.node) else None
        if route_guard.blocked:  # the scenario's list, whichever step or teardown reported it
            evidence.text("requests blocked by the environment's safety", "\n".join(route_guard.lines()))
        if failed(request.node) or late is not None:
            raw = browser_lib.temp_trace_path()
            context.tracing.stop(path=str(raw))
            clean = raw.with_name(raw.stem + "-redacted.zip")
            browser_lib.redact_trace(raw, clean)
            evidence.file("playwright trace (open with `playwright show-trace`)", clean, extension="zip")
            raw.unlink(missing_ok=True)
            clean.unlink(missing_ok=True)
        else:
            context.tracing.stop()
        context.unroute_all(behavior="ignoreErrors")
        context.close()
    if late is not None:
        raise late


def _settle(page: Any) -> None:
    """One round trip to the browser, so that the routes of the requests the step made the page send have
    run (the step's own Playwright calls usually did it already)."""
    try:
        page.wait_for_timeout(0)
    except Exception:  # a closed or crashed page: its own steps say so
        pass


@pytest.hookimpl(tryfirst=True)  # before allure closes the step as passed: the step is reported as the failing one
def pytest_bdd_after_step(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: dict[str, Any]) -> None:
    """A browser step after which the page sent a request the environment forbids fails with what was blocked."""
    __tracebackhide__ = True
    guarded = request.node.stash.get(_GUARDED, None)
    if guarded is None:
        return
    page, route_guard = guarded
    if "page" in step_func_args:
        _settle(page)
    error = route_guard.error()
    if error is None:
        return
    request.config.hook.pytest_bdd_step_error(request=request, feature=feature, scenario=scenario, step=step,
                                              step_func=step_func, step_func_args=step_func_args, exception=error)
    raise error


@pytest.hookimpl(wrapper=True, trylast=True)  # inside the plugin's wrapper, which gives the replacement its verdict
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A step that failed after the guard blocked a request failed because of the block (the save that never
    happened, the failed request it left): the scenario's verdict is the block's, not a defect of the target."""
    try:
        return (yield)
    except Exception as exc:
        guarded = item.stash.get(_GUARDED, None)
        if guarded is None or isinstance(exc, UnsafeOperation):
            raise
        error = guarded[1].error(all_of_them=True)
        if error is None:
            raise
        raise error from exc


def _path_of(url: str) -> str:
    return urlparse(url).path or "/"


# ---- signing in --------------------------------------------------------------------------

@given(parsers.parse('I am signed in to the browser as "{account}"'))
@when(parsers.parse('I sign in through the browser as "{account}"'))
def _(env: Environment, page: Any, page_watch: browser_lib.PageWatch, sessions, account: str) -> None:
    """Reach a signed-in page the way ``browser.login`` says: through the login form by its labels, or by placing the session in local storage or a cookie.

    Example: When I sign in through the browser as "admin"
    """
    login = env.browser.login
    acct = env.account(account)
    if login.kind == "form":
        page.goto(login.path)
        page.get_by_label(login.username_label).fill(acct.username or "")
        page.get_by_label(login.password_label).fill(acct.password or "")
        visited: list[str] = []  # every main-frame navigation: a landing page that redirects on is still seen
        page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
        page.get_by_role("button", name=login.submit).click()
        _wait_for_sign_in(page, page_watch, login, account, env.browser.timeout_s, visited)
        # let the landing page finish loading, so its requests are judged and not cut off by the next step
        page.wait_for_load_state("networkidle")
        return
    token = sessions.credentials(account).token
    if login.kind == "local_storage":
        page.goto("/")
        page.evaluate("([k, v]) => window.localStorage.setItem(k, v)", [login.storage_key, token])
    else:
        page.context.add_cookies([{"name": login.storage_key, "value": token, "url": page.url or "/"}])


def _wait_for_sign_in(page: Any, watch: browser_lib.PageWatch, login: Any, account: str, timeout_s: float,
                      visited: list[str]) -> None:
    """Wait until the form lets the account in; an error shown on the page fails at once, with what the page did.

    Success is judged on every navigation since the click (``visited``), not on polling the current URL: a
    landing page that sends the browser back to the login page must still count as reached, so that the
    next step (the page path) names what went wrong.
    """
    __tracebackhide__ = True
    import time

    target = login.success_path
    deadline = time.monotonic() + timeout_s
    alert = page.get_by_role("alert")
    shown = ""

    def arrived(url: str) -> bool:
        path = _path_of(url)
        return (path == target) if target else (path != login.path)

    while time.monotonic() < deadline:
        if any(arrived(url) for url in [*visited, page.url]):
            return
        if alert.count() and alert.first.is_visible():
            shown = alert.first.inner_text().strip()
            if shown:
                break
        page.wait_for_timeout(100)
    seen = f"the page shows {shown!r}" if shown else f"no error shown after {timeout_s:g} s"
    context = [f"failed requests: {'; '.join(watch.failed_requests)}"] if watch.failed_requests else []
    context += [f"console errors: {'; '.join(watch.console_errors)}"] if watch.console_errors else []
    checks.fail(f"expected sign-in as '{account}' to leave {login.path}{' for ' + target if target else ''}, "
                f"still at {_path_of(page.url)}: {seen}" + (f" ({'; '.join(context)})" if context else ""))


# ---- navigation and interaction ----------------------------------------------------------

@when(parsers.parse('I open the page "{path}"'))
def _(page: Any, path: str) -> None:
    """Open a page of the frontend and wait until the network is idle.

    Example: When I open the page "/settings/notifications"
    """
    response = page.goto(path, wait_until="networkidle")
    if response is not None and response.status >= 400:
        checks.fail(f"expected the page {path} to load, got HTTP {response.status} from {response.url}")


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
    if _path_of(page.url) != path:
        checks.fail(f"expected the browser at {path}, it is at {page.url}")


@then(parsers.parse('the page shows the heading "{text}"'))
def _(page: Any, text: str) -> None:
    """A heading with this text is visible.

    Example: Then the page shows the heading "Notification settings"
    """
    heading = page.get_by_role("heading", name=text)
    try:
        heading.first.wait_for(state="visible", timeout=5000)
    except Exception:
        seen = [h.strip() for h in page.locator("h1, h2, h3").all_inner_texts()]
        checks.fail(f"expected a heading {text!r} on {page.url}, the headings are {seen}")


@then(parsers.parse('the page shows the text "{text}"'))
def _(page: Any, text: str) -> None:
    """This text is visible somewhere on the page.

    Example: Then the page shows the text "Staff notifications"
    """
    try:
        page.get_by_text(text).first.wait_for(state="visible", timeout=5000)
    except Exception:
        checks.fail(f"expected the text {text!r} on {page.url}; it is not visible")


@then(parsers.parse('the page shows at least {count:d} elements matching "{selector}"'))
def _(page: Any, count: int, selector: str) -> None:
    """At least this many elements match a CSS selector (waits for the first one).

    Example: Then the page shows at least 1 elements matching ".badge-sent"
    """
    locator = page.locator(selector)
    try:
        if count:
            locator.first.wait_for(state="visible", timeout=5000)
    except Exception:
        pass
    seen = locator.count()
    if seen < count:
        checks.fail(f"expected at least {count} elements matching {selector!r} on {page.url}, found {seen}")


def _expect_none(page: Any, what: str, seen: list[str]) -> None:
    __tracebackhide__ = True
    if seen:
        evidence.text(what, "\n".join(seen))
        checks.fail(f"expected no {what} on {page.url}, got {len(seen)}: " + " | ".join(seen[:5]))


@then("the page has no console errors")
def _(page: Any, page_watch: browser_lib.PageWatch) -> None:
    """Nothing was logged to the browser console as an error, and no script threw.

    Example: Then the page has no console errors
    """
    _expect_none(page, "console errors", page_watch.console_errors)


@then("the page made no failed requests")
def _(page: Any, page_watch: browser_lib.PageWatch) -> None:
    """No request of the page failed or answered 4xx/5xx.

    Example: Then the page made no failed requests
    """
    _expect_none(page, "failed requests", page_watch.failed_requests)


@then(parsers.parse('I attach a screenshot named "{name}"'))
def _(page: Any, name: str) -> None:
    """Attach a full-page screenshot to the report.

    Example: Then I attach a screenshot named "notification history"
    """
    evidence.image(name, page.screenshot(full_page=True))
