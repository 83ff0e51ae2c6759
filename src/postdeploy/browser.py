"""A real browser for the frontend checks, launched only when a browser scenario runs.

Playwright is imported inside these functions, never at module import, so an API-only run
does not pay for it. Its own browser download does not work everywhere (no internet on CI
machines): an installed Chromium is used when Playwright's is missing, and
``POSTDEPLOY_BROWSER`` chooses the binary explicitly.

Every context the suite opens (:func:`open_context`) is guarded by the environment's safety rules
(:class:`RouteGuard`, ``postdeploy.safety``): a request with a method the environment forbids is aborted
before it leaves the browser, and recorded, so that its scenario can say so.

:func:`sign_in` is the browser's sign-in procedure (the login form, or a session placed in local storage or
a cookie); the pytest fixtures that open the page are in :mod:`postdeploy.browser_fixtures`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checks import fail
from .checks._base import path_of
from .errors import EnvironmentFileError, EnvironmentProblem, SuiteError, UnsafeOperation
from .redact import redact, redact_bytes
from .safety import Guard, Refusal

if TYPE_CHECKING:
    from .environment import Environment

LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class BrowserUnavailable(EnvironmentProblem):
    """No browser could be found or launched."""


def find_executable() -> str | None:
    """The browser binary: $POSTDEPLOY_BROWSER, else Playwright's own if installed, else one on PATH."""
    chosen = os.environ.get("POSTDEPLOY_BROWSER")
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            raise BrowserUnavailable(f"POSTDEPLOY_BROWSER={chosen} is not an executable file.")
        return chosen
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    if sorted(cache.glob("chromium-*/chrome-linux*/chrome")):
        return None  # Playwright finds its own download
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserUnavailable(
        "no Chromium found: install one (apt-get install chromium, or `playwright install chromium` "
        "where downloads work) or point POSTDEPLOY_BROWSER at a Chromium/Chrome binary."
    )


def launch(playwright: Any, headless: bool = True) -> Any:
    executable = find_executable()
    try:
        return playwright.chromium.launch(executable_path=executable, headless=headless, args=list(LAUNCH_ARGS))
    except Exception as exc:  # noqa: BLE001 (Playwright raises its own Error type; say what failed and how to fix it)
        raise BrowserUnavailable(
            f"could not launch the browser {executable or '(Playwright bundled chromium)'}: {str(exc).splitlines()[0]}. "
            "Set POSTDEPLOY_BROWSER to a working Chromium binary."
        ) from None


BLOCKED_BY_CLIENT = "net::ERR_BLOCKED_BY_CLIENT"
ABORTED = "net::ERR_ABORTED"


class RouteGuard:
    """The guard of one browser context: every request of the context is asked about.

    Where the environment forbids a method (a read-only environment), the context is routed (``**/*``): a request
    the guard refuses is aborted as blocked by the client and recorded in :attr:`blocked`; the steps turn what was
    recorded into the scenario's verdict (:meth:`error`): a forbidden method is a *suite error* (the scenario
    writes, so it cannot be verified in this environment: tag it ``@mutating``), a request past the run's request
    budget makes it *inconclusive*.

    Where the environment allows every method there is nothing to block, and the context is not routed, because
    Playwright answers the CORS preflights of a routed context itself (the target is never asked ``OPTIONS``, so
    a browser would not see a target whose preflights fail): the guard only counts the browser's requests against
    the budget, and a request beyond it, which could not be held back, makes the scenario *inconclusive* too. In
    a read-only environment the HTTP CORS steps still ask the target's preflight answers directly.
    """

    def __init__(self, guard: Guard):
        self.guard = guard
        self.blocked: list[Refusal] = []
        self.routed = False
        self._reported = 0
        self._lock = threading.Lock()

    def install(self, context: Any) -> RouteGuard:
        if self.guard.forbids_a_method:
            context.route("**/*", self._route)
            self.routed = True
        else:
            context.on("request", self._observe)
        return self

    def _observe(self, request: Any) -> None:
        """An unrouted context: the request is on its way; count it, and record one beyond the budget."""
        refused = self.guard.refusal(request.method, request.url)
        if refused is None:
            return
        guard = self.guard
        with self._lock:
            self.blocked.append(Refusal(refused.kind, refused.method, refused.url, refused.service, (
                f"inconclusive: the browser sent {refused.method} {refused.url} (service '{refused.service}') beyond "
                f"the requests environment '{guard.environment}' allows to it in one run (safety.max_requests: "
                f"{guard.max_requests}); the browser is not routed where every method is allowed, so it could not be "
                "held back, and the checks left cannot reach a verdict. Raise safety.max_requests if the run "
                "really needs more.")))

    def _route(self, route: Any) -> None:
        request = route.request
        try:
            refused = self.guard.refusal(request.method, request.url)
        except Exception as exc:  # noqa: BLE001 (fail closed: a request the guard could not decide on does not leave)
            refused = Refusal("method", request.method, request.url, None,
                              f"refused {request.method} {request.url}: the safety guard failed: {exc}")
        if refused is None:
            route.fallback()
            return
        with self._lock:
            self.blocked.append(refused)
        route.abort("blockedbyclient")

    def was_blocked(self, method: str, url: str) -> bool:
        with self._lock:
            return any(r.method == method.upper() and r.url == url for r in self.blocked)

    def lines(self) -> list[str]:
        """The blocked requests, one a line, with why (for the report)."""
        with self._lock:
            blocked = list(self.blocked)
        allowed = ", ".join(self.guard.methods)
        budget = f"the run's request budget for this service (safety.max_requests: {self.guard.max_requests}) is spent"
        return [redact(f"{r.method} {r.url}" + (f" (service '{r.service}')" if r.service else "") + ": "
                       + (f"blocked: environment '{self.guard.environment}' allows only {allowed}" if r.kind == "method"
                          else f"{'blocked' if self.routed else 'sent, beyond the budget'}: {budget}"))
                for r in blocked]

    def error(self, *, all_of_them: bool = False) -> Exception | None:
        """What the requests blocked since the last call (all of them with ``all_of_them``) make of the
        scenario: :class:`UnsafeOperation` for a forbidden method, else the budget's inconclusive; None if none."""
        with self._lock:
            new = self.blocked if all_of_them else self.blocked[self._reported:]
            self._reported = len(self.blocked)
        if not new:
            return None
        methods = [r for r in new if r.kind == "method"]
        if not methods:
            return new[0].error()
        guard = self.guard
        what = f"read-only environment '{guard.environment}'" if guard.read_only else f"environment '{guard.environment}'"
        seen = list(dict.fromkeys(f"{r.method} {r.url}" for r in methods))
        tried = ", ".join(seen[:5]) + (f" and {len(seen) - 5} more" if len(seen) > 5 else "")
        return UnsafeOperation(redact(
            f"the browser tried {tried}, which {what} forbids (it allows only {', '.join(guard.methods)}: "
            "safety.read_only / safety.allowed_methods); blocked before it left the browser, nothing was sent, "
            "and the step that sent it cannot be verified here: tag the scenario @mutating (read-only "
            "environments skip it) or remove the step that writes."))


def guard_context(context: Any, guard: Guard) -> RouteGuard:
    """Route every request of a browser context through ``guard`` (see :class:`RouteGuard`)."""
    return RouteGuard(guard).install(context)


def open_context(browser: Any, guard: Guard, *, base_url: str, viewport: tuple[int, int],
                 timeout_s: float) -> tuple[Any, RouteGuard]:
    """A fresh browser context on ``base_url``, guarded: the only way the suite opens one."""
    width, height = viewport
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    context.set_default_timeout(timeout_s * 1000)
    try:
        return context, guard_context(context, guard)
    except Exception:
        context.close()
        raise


@dataclass
class PageWatch:
    """What the page did that a user would notice: console errors and failed requests.

    Requests the route guard blocked are not failed requests of the page (the guard reports them), nor is the
    browser's console line about them."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    route_guard: RouteGuard | None = None
    # navigations of the main frame so far, and the count when each pending request started: a request the
    # browser aborted because the page navigated away (net::ERR_ABORTED after a later navigation) is the page
    # moving on, not a failure of the target (it made "no failed requests" flaky after a storage sign-in)
    _navigations: int = 0
    _started: dict[int, int] = field(default_factory=dict)
    #: every address the main frame reached (history.pushState included), for checks of what the address bar showed
    addresses: list[str] = field(default_factory=list)

    def attach_to(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("request", self._on_request)
        page.on("framenavigated", lambda frame: self._on_navigated(page, frame))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_request(self, request: Any) -> None:
        self._started[id(request)] = self._navigations

    def _on_navigated(self, page: Any, frame: Any) -> None:
        if frame == page.main_frame:
            self._navigations += 1
            self.addresses.append(getattr(frame, "url", ""))

    def _blocked(self, method: str, url: str | None) -> bool:
        return bool(self.route_guard and url and self.route_guard.was_blocked(method, url))

    def _on_request_failed(self, request: Any) -> None:
        failure = request.failure or "failed"
        started = self._started.pop(id(request), self._navigations)
        if BLOCKED_BY_CLIENT in failure and self._blocked(request.method, request.url):
            return
        if ABORTED in failure and self._navigations > started:
            return  # the page navigated away while it was pending
        self.failed_requests.append(f"{request.method} {request.url}: {failure}")

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            if BLOCKED_BY_CLIENT in message.text and self.route_guard and any(
                    r.url == location.get("url") for r in list(self.route_guard.blocked)):
                return
            where = f" ({location.get('url')}:{location.get('lineNumber')})" if location.get("url") else ""
            self.console_errors.append(f"{message.text}{where}")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.request.method} {response.url}: HTTP {response.status}")


_JWT_IN_TEXT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def redact_trace(source: Path, target: Path) -> Path:
    """Copy a Playwright trace archive with every secret masked in every member."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if not info.filename.endswith((".png", ".jpeg", ".jpg", ".webp", ".woff", ".woff2")):
                data = redact_bytes(data)
            zout.writestr(info, data)
    return target


def temp_trace_path() -> Path:
    handle, name = tempfile.mkstemp(prefix="postdeploy-trace-", suffix=".zip")
    os.close(handle)
    return Path(name)


# ---- locating things the way people and Playwright do -----------------------------------------------------

LOCATOR_KINDS = ("label", "placeholder", "testid", "text", "role", "css")
_ROLE = re.compile(r"""^(?P<role>[a-z]+)(?:\[name=(?P<q>["']?)(?P<name>.*?)(?P=q)\])?$""")


def locate(page: Any, spec: str, *, bare: str = "label") -> Any:
    """A Playwright locator for ``spec``, always exact: ``label=Password`` (a field by its label, ``aria-label``
    included), ``placeholder=you@example.com``, ``testid=login-submit`` (``data-testid``), ``text=Welcome``,
    ``role=button[name="Log In"]`` (a role and its accessible name), ``css=form #email``. A bare text means
    ``bare``: ``label`` for a field, ``button`` for a button (its exact name), ``clickable`` for a button or a link.
    Exact matching is what keeps ``Password`` from also matching a "Show password" toggle."""
    kind, sep, value = spec.partition("=")
    if not sep or kind not in LOCATOR_KINDS:
        kind, value = bare, spec
    if kind == "label":
        return page.get_by_label(value, exact=True)
    if kind == "placeholder":
        return page.get_by_placeholder(value, exact=True)
    if kind == "testid":
        return page.get_by_test_id(value)
    if kind == "text":
        return page.get_by_text(value, exact=True)
    if kind == "css":
        return page.locator(value)
    if kind == "button":
        return page.get_by_role("button", name=value, exact=True)
    if kind == "clickable":
        return page.get_by_role("button", name=value, exact=True).or_(page.get_by_role("link", name=value, exact=True))
    match = _ROLE.match(value.strip())
    if not match:
        raise SuiteError(f"'{spec}' is not a role locator: write role=button or role=button[name=\"Log In\"]")
    if match.group("name") is None:
        return page.get_by_role(match.group("role"))
    return page.get_by_role(match.group("role"), name=match.group("name"), exact=True)


def one(page: Any, spec: str, *, bare: str = "label", timeout_s: float = 10, visible: bool = True) -> Any:
    """The one element ``spec`` names (:func:`locate`), waited for until the page shows it; none or several is a
    failure naming the locator, how many matched and how to be more exact."""
    __tracebackhide__ = True
    locator = locate(page, spec, bare=bare)
    deadline = time.monotonic() + timeout_s
    while True:
        count = locator.count()
        if count == 1 and (not visible or locator.is_visible()):
            return locator
        if count > 1:
            fail(f"expected one element for '{spec}' on {path_of(page.url)}, {count} match: write a more exact "
                 f"locator ({', '.join(k + '=' for k in LOCATOR_KINDS)})")
        if time.monotonic() >= deadline:
            state = "it is not visible" if count else "nothing matches"
            fail(f"expected the page {path_of(page.url)} to show '{spec}' within {timeout_s:g} s, {state}")
        page.wait_for_timeout(50)


def sign_in(page: Any, watch: PageWatch, env: Environment, account: str,
            credentials_for: Callable[[str], Any]) -> None:
    """Reach a signed-in page the way ``browser.login`` says: through the login form (its fields and button by
    :func:`locate`; an error the page shows fails at once, with what the page did), or by placing the session the
    API sign-in (``credentials_for(account)``) produced in local storage or a cookie."""
    __tracebackhide__ = True
    login = env.browser.login
    timeout_s = env.browser.timeout_s
    if login.kind == "form":
        acct = env.account(account)
        page.goto(login.path)
        one(page, login.username_label, timeout_s=timeout_s).fill(acct.username or "")
        one(page, login.password_label, timeout_s=timeout_s).fill(acct.password or "")
        visited: list[str] = []  # every main-frame navigation: a landing page that redirects on is still seen
        page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
        one(page, login.submit, bare="button", timeout_s=timeout_s).click()
        _wait_for_sign_in(page, watch, login, account, timeout_s, visited)
        # let the landing page finish loading, so its requests are judged and not cut off by the next step
        page.wait_for_load_state("networkidle")
        return
    session = session_value(credentials_for(account), login.storage_key, env.auth.kind)
    if login.kind == "local_storage":
        page.goto(login.success_path or "/")
        page.evaluate("([k, v]) => window.localStorage.setItem(k, v)", [login.storage_key, session])
    else:
        service = login.cookie_service or env.browser.service
        if service not in env.services:
            raise SuiteError(f"browser.login.cookie_service names '{service}', which is not a service of "
                             f"environment '{env.name}'")
        page.context.add_cookies([{"name": login.storage_key, "value": session,
                                   "url": str(env.services[service].base_url)}])
    page.goto(login.success_path or "/")
    page.wait_for_load_state("networkidle")
    if login.success:
        one(page, login.success, bare="clickable", timeout_s=timeout_s)


def session_value(credentials: Any, key: str, auth_kind: str) -> str:
    """What goes into the browser for a storage sign-in: the API sign-in's token, or, for a cookie session
    (``auth.kind: cookie_login``), the value of its cookie named ``key`` (the only one when there is one)."""
    if credentials.token:
        return credentials.token
    cookies = dict(pair.split("=", 1) for header, value in credentials.headers if header.lower() == "cookie"
                   for pair in value.split("; ") if "=" in pair)
    if key in cookies:
        return cookies[key]
    if len(cookies) == 1:
        return next(iter(cookies.values()))
    raise EnvironmentFileError(
        f"browser.login stores '{key}' in the browser, but the API sign-in (auth.kind: {auth_kind}) gave "
        + (f"the cookies {', '.join(sorted(cookies))}: name one of them in browser.login.storage_key" if cookies
           else "no token and no cookie: use browser.login.kind: form"))


def _wait_for_sign_in(page: Any, watch: PageWatch, login: Any, account: str, timeout_s: float,
                      visited: list[str]) -> None:
    """Wait until the form lets the account in; an error shown on the page fails at once, with what the page did.

    Success is judged on every navigation since the click (``visited``), not on polling the current URL: a
    landing page that sends the browser back to the login page must still count as reached, so that the
    next step (the page path) names what went wrong.
    """
    __tracebackhide__ = True
    target = login.success_path
    deadline = time.monotonic() + timeout_s
    alert = page.get_by_role("alert")
    shown = ""

    def arrived(url: str) -> bool:
        path = path_of(url)
        return (path == target) if target else (path != login.path)

    landmark = locate(page, login.success, bare="clickable") if login.success else None
    while time.monotonic() < deadline:
        if landmark is not None:
            if landmark.count() and landmark.first.is_visible():
                return
        elif any(arrived(url) for url in [*visited, page.url]):
            return
        if alert.count() and alert.first.is_visible():
            shown = alert.first.inner_text().strip()
            if shown:
                break
        page.wait_for_timeout(100)
    seen = f"the page shows {shown!r}" if shown else f"no error shown after {timeout_s:g} s"
    context = [f"failed requests: {'; '.join(watch.failed_requests)}"] if watch.failed_requests else []
    context += [f"console errors: {'; '.join(watch.console_errors)}"] if watch.console_errors else []
    fail(f"expected sign-in as '{account}' to leave {login.path}{' for ' + target if target else ''}, "
         f"still at {path_of(page.url)}: {seen}" + (f" ({'; '.join(context)})" if context else ""))
