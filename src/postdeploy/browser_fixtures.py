"""The pytest side of the browser: one browser per worker, a fresh guarded and traced context per scenario.

A pytest plugin (the browser steps, ``postdeploy.steps.browser``, register it). Playwright is imported only
when a scenario asks for the ``page`` fixture. Every scenario attaches a screenshot of where it ended; a
failed one also attaches a redacted Playwright trace.

Every context is guarded (:class:`postdeploy.browser.RouteGuard`): a request the environment forbids (a save
in a read-only environment) is blocked before it leaves the browser, and the scenario ends as a *suite
error* that says so, at the step after which the block was seen (or, if the page sent it later, at the end
of the scenario), with the list of blocked requests attached. What the page did because of the block (a
failed request, a console error, a message that never shows) does not pass for a defect of the target.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from . import browser as browser_lib
from . import evidence
from .environment import Environment
from .errors import UnsafeOperation
from .plugin import failed
from .safety import guard_for

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
        except Exception as exc:  # noqa: BLE001 (a crashed page must not hide the scenario's own outcome)
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
    with contextlib.suppress(Exception):  # a closed or crashed page: its own steps say so
        page.wait_for_timeout(0)


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
