"""What a client may do to the target: one decision for every client (DESIGN principle 4).

The environment's ``safety`` section says it once, and one :class:`Guard` per environment and process applies
it to every request the library lets out, whatever sends it:

* **methods**: only ``safety.methods`` (GET, HEAD, OPTIONS in a read-only environment, the default;
  ``safety.allowed_methods`` chooses them explicitly), except the *declared login endpoints*: POST to ``auth.path``
  on ``auth.service`` (auth kinds ``json_login``, ``form_login``, ``cookie_login``), and POST to
  ``browser.login.path`` on ``browser.service`` (a sign-in form that posts to its own page). A refused request
  is never sent; for an HTTP check it is :class:`~postdeploy.errors.UnsafeOperation` (a *suite error*: the
  scenario writes but is not tagged ``@mutating``);
* **a request budget**: at most ``safety.max_requests`` (default 2000) requests to each service of the
  environment in one run of one process (each xdist worker has its own), so that a loop in a step cannot flood
  the target. The requests beyond it are not sent and their checks are *inconclusive*
  (:class:`RequestBudgetExhausted`). Requests to an address that is no service of the environment (a page's
  third-party asset) are not counted; their method is still checked.

Every httpx client of the library is built by :func:`guarded_client`, so each of its requests (redirects
included) passes :class:`GuardedTransport`; every browser context gets a route guard
(:func:`postdeploy.browser.guard_context`) that asks the same :class:`Guard` (in an environment that allows every
method, where nothing is to be blocked, it only counts the browser's requests: see there why).
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import httpx

from .errors import Inconclusive, UnsafeOperation

if TYPE_CHECKING:
    from .environment import Environment

LOGIN_KINDS = ("json_login", "form_login", "cookie_login")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RequestBudgetExhausted(Inconclusive):
    """The run already sent ``safety.max_requests`` requests to this service: the request was not sent."""


@dataclass(frozen=True)
class Refusal:
    """A request the guard did not let out, and why."""

    kind: Literal["method", "budget"]
    method: str
    url: str
    service: str | None
    message: str

    def error(self) -> Exception:
        return UnsafeOperation(self.message) if self.kind == "method" else RequestBudgetExhausted(self.message)


def _key(url: str) -> tuple[str, str, int | None, str]:
    """An absolute URL as compared for the exemptions: scheme, host (case-blind), port, path; no query."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/") or "/"


class Guard:
    """The environment's safety rules, with the request budget of this process."""

    def __init__(self, env: Environment):
        safety = env.safety
        self.environment = env.name
        self.read_only = safety.read_only
        self.methods: tuple[str, ...] = tuple(safety.methods)
        self.max_requests: int = safety.max_requests
        # the declared services, longest base URL first (a base URL may hold a path prefix)
        self._services = sorted(((name, _key(service.base_url)) for name, service in env.services.items()),
                                key=lambda item: -len(item[1][3]))
        self._exempt: set[tuple[str, tuple[str, str, int | None, str]]] = set()
        if env.auth.kind in LOGIN_KINDS and env.auth.service in env.services:
            self.allow("POST", env.services[env.auth.service].base_url + env.auth.path)
        browser = env.browser
        if browser is not None and browser.login.kind == "form" and browser.service in env.services:
            self.allow("POST", env.services[browser.service].base_url + browser.login.path)
        self._sent: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Guard(environment={self.environment!r}, methods={self.methods}, max_requests={self.max_requests})"

    @property
    def forbids_a_method(self) -> bool:
        """Some method may not be sent (a read-only environment, or ``safety.allowed_methods``)."""
        from .environment import ALL_METHODS

        return any(m not in self.methods for m in ALL_METHODS)

    def allow(self, method: str, url: str) -> None:
        """Exempt one absolute URL (its query aside) from the method rule for one method."""
        self._exempt.add((method.upper(), _key(url)))

    def exempt(self, method: str, url: str) -> bool:
        return (method.upper(), _key(url)) in self._exempt

    def service_of(self, url: str) -> str | None:
        """The declared service whose base URL the URL lies under, if any."""
        scheme, host, port, path = _key(url)
        for name, (s_scheme, s_host, s_port, s_path) in self._services:
            if (scheme, host, port) == (s_scheme, s_host, s_port) and (
                    s_path == "/" or path == s_path or path.startswith(s_path + "/")):
                return name
        return None

    def sent(self) -> dict[str, int]:
        """Requests let out to each service by this process."""
        with self._lock:
            return dict(self._sent)

    def refusal(self, method: str, url: str, service: str | None = None) -> Refusal | None:
        """Decide on one request: None lets it out (and counts it against its service's budget)."""
        method = method.upper()
        service = service or self.service_of(url)
        if method not in self.methods and not self.exempt(method, url):
            return Refusal("method", method, url, service, (
                f"refused {method} {url}: this environment allows only {', '.join(self.methods)} "
                "(safety.read_only / safety.allowed_methods in the environment file)."))
        if service is None:
            return None
        return self._spend(method, url, service)

    def _spend(self, method: str, url: str, service: str) -> Refusal | None:
        with self._lock:
            if self._sent[service] >= self.max_requests:
                return Refusal("budget", method, url, service, (
                    f"inconclusive: {method} {url} (service '{service}') was not sent: this run already sent "
                    f"{self._sent[service]} requests to service '{service}', the most environment '{self.environment}' "
                    f"allows in one run (safety.max_requests: {self.max_requests}), so that a loop cannot flood "
                    "the target; the checks left that need it cannot reach a verdict. Raise safety.max_requests "
                    "if the run really needs more."))
            self._sent[service] += 1
        return None

    def spend(self, service: str, what: str) -> None:
        """Count one request of a client that is not HTTP (a SQL query, a mailbox fetch) against ``service``'s
        budget: :class:`RequestBudgetExhausted` when it is spent. Such a client enforces read-only itself."""
        refused = self._spend(what, service, service)
        if refused is not None:
            raise refused.error()

    def check(self, method: str, url: str, service: str | None = None) -> None:
        """Raise what the refusal of this request is (:class:`UnsafeOperation`, :class:`RequestBudgetExhausted`)."""
        refused = self.refusal(method, url, service)
        if refused is not None:
            raise refused.error()


_GUARDS: dict[int, Guard] = {}
_GUARDS_LOCK = threading.Lock()


def guard_for(env: Environment) -> Guard:
    """The guard of this environment in this process: every client of a run shares it (and its budget)."""
    with _GUARDS_LOCK:
        guard = _GUARDS.get(id(env))
        if guard is None:
            guard = _GUARDS[id(env)] = Guard(env)
            weakref.finalize(env, _GUARDS.pop, id(env), None)
        return guard


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that asks the guard about every request (each redirect too) before ``inner`` sends it."""

    def __init__(self, inner: httpx.BaseTransport, guard: Guard, service: str | None = None):
        self.inner = inner
        self.guard = guard
        self.service = service

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.guard.check(request.method, str(request.url), self.service)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def guarded_client(guard: Guard, service: str | None = None, *, verify: bool = True,
                   transport: httpx.BaseTransport | None = None, **kwargs: object) -> httpx.Client:
    """An ``httpx.Client`` whose every transport is guarded: the only way the library builds one.

    ``transport`` replaces the network (a mock transport in tests). Without it, the proxies of the process
    environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) are honoured as httpx honours them
    for a client it builds itself, each through a guarded transport too.
    """
    inner = transport or httpx.HTTPTransport(verify=verify)
    mounts = None if transport is not None else _proxy_mounts(guard, service, verify)
    return httpx.Client(transport=GuardedTransport(inner, guard, service), mounts=mounts, **kwargs)  # type: ignore[arg-type]


def _proxy_mounts(guard: Guard, service: str | None, verify: bool) -> dict[str, httpx.BaseTransport | None]:
    try:  # httpx's own reading of the proxy variables (what Client(trust_env=True) does without a transport)
        from httpx._utils import get_environment_proxies
    except ImportError:  # pragma: no cover - a future httpx: fall back on the plain variables
        from urllib.request import getproxies

        found = getproxies()
        proxies: dict[str, str | None] = {f"{s}://": found[s] if "://" in found[s] else f"http://{found[s]}"
                                          for s in ("http", "https", "all") if found.get(s)}
    else:
        proxies = get_environment_proxies()
    return {pattern: None if url is None else GuardedTransport(httpx.HTTPTransport(proxy=url, verify=verify), guard, service)
            for pattern, url in proxies.items()}
