"""HTTP access to the target: one client per service per session, safe and polite by construction.

* every request has a timeout (the service's, else the environment's);
* every request passes the environment's guard (``postdeploy.safety``) at the transport: methods the
  environment does not allow are refused before anything is sent (the declared login endpoint excepted),
  and a service past the run's request budget (``safety.max_requests``) is not asked again (*inconclusive*);
* the verdict of a request that got no answer depends on what came before (``postdeploy.verdicts``):
  a service that never answered is an *environment error* (:class:`ServiceUnreachable`); one that
  answered the preflight or an earlier request and then stops answering is a *target defect*
  (:class:`TargetStoppedAnswering`), reported once: later requests to it fail fast as *inconclusive*
  (:class:`NotVerified`) instead of each waiting the full timeout; a certificate that does not verify
  and a body that cannot be decoded are target defects;
* a 429 on a check that is not about rate limits waits for ``Retry-After`` (bounded by
  ``safety.rate_limit_wait_s``) and retries once, else the check is *inconclusive* (:class:`RateLimited`);
* every exchange is attached to the report, redacted; requests are counted per service.
"""

from __future__ import annotations

import email.utils
import json as _json
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import evidence
from .environment import Environment, Service
from .errors import (
    AlreadyReported,
    BrokenEncoding,
    InvalidCertificate,
    NotVerified,
    RateLimited,
    ServiceUnreachable,
    TargetStoppedAnswering,
    UnsafeOperation,
)
from .redact import redact, redact_headers, redact_json
from .safety import Guard, RequestBudgetExhausted, guard_for, guarded_client

USER_AGENT = "postdeploy/0.1 (+post-deploy verification)"
MAX_EVIDENCE_BODY = 20_000


@dataclass(frozen=True)
class Exchange:
    """One request and its response, with where it went and how long it took."""

    service: str
    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    headers: httpx.Headers
    body: bytes
    elapsed_ms: float
    history: tuple[str, ...] = field(default=())
    since: str = ""  # for a 5xx: since when and where the service has been answering 5xx (a common cause)

    def __repr__(self) -> str:  # the transcript is attached redacted; the repr stays short and secret-free
        return f"Exchange({self.method} {self.url} -> {self.status})"

    @property
    def where(self) -> str:
        return f"{self.method} {self.url} (service '{self.service}')"

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return _json.loads(self.body)

    @property
    def is_json(self) -> bool:
        try:
            self.json()
        except ValueError:
            return False
        return True

    def summary(self, limit: int = 300) -> str:
        body = redact(self.text)
        body = body if len(body) <= limit else body[:limit] + "..."
        return f"{self.status} {body!r}" + (f" [{self.since}]" if self.since else "")

    def as_text(self) -> str:
        """The exchange as a readable, redacted transcript (what the report shows)."""
        lines = [f"{self.method} {self.url}"]
        lines += [f"{k}: {v}" for k, v in redact_headers(self.request_headers)]
        if self.request_body:
            lines += ["", _pretty(self.request_body)]
        lines += ["", f"HTTP {self.status}  ({self.elapsed_ms:.0f} ms)"]
        if self.history:
            lines.insert(1, "redirects: " + " -> ".join(self.history))
        lines += [f"{k}: {v}" for k, v in redact_headers(self.headers.multi_items())]
        if self.body:
            lines += ["", _pretty(self.body)]
        return redact("\n".join(lines))


def _pretty(body: bytes) -> str:
    try:
        text = _json.dumps(redact_json(_json.loads(body)), indent=2, ensure_ascii=False)
    except ValueError:
        text = redact(body.decode("utf-8", "replace"))  # before cutting: a secret split by the cut would leak its head
    return text if len(text) <= MAX_EVIDENCE_BODY else text[:MAX_EVIDENCE_BODY] + "\n... (truncated)"


class ServiceClient:
    """Talks to one named service; shared by all scenarios of a session (connection reuse)."""

    def __init__(self, name: str, service: Service, env: Environment, *, transport: httpx.BaseTransport | None = None,
                 answered_preflight: bool = False, guard: Guard | None = None):
        self.name = name
        self.service = service
        self.guard = guard or guard_for(env)  # what this client may send (postdeploy.safety), shared by the run
        self.allowed_methods = self.guard.methods
        self.rate_limit_wait_s = env.safety.rate_limit_wait_s
        self._answered = answered_preflight  # once it answered, no answer is the target's fault
        self._stopped: str | None = None     # why and when it stopped answering (reported once)
        self._first_5xx: tuple[str, str, int] | None = None
        self._lock = threading.Lock()
        self.requests = 0
        timeout = service.timeout_s or env.timeout_s
        self.timeout_s = timeout
        self._client = guarded_client(
            self.guard, name, verify=service.verify_tls, transport=transport,
            base_url=service.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": USER_AGENT},
        )

    @property
    def base_url(self) -> str:
        return self.service.base_url

    def allow(self, method: str, path: str) -> None:
        """Exempt one more endpoint of this service from the method allow-list, for the whole run (the
        declared login endpoint is exempt already: ``postdeploy.safety``)."""
        self.guard.allow(method, self.base_url + path)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, str] | None = None,
        files: Any = None,
        params: Iterable[tuple[str, str]] | None = None,
        follow_redirects: bool = False,
        attach: bool = True,
        timeout: float | None = None,
        rate_limit_check: bool = False,
    ) -> Exchange:
        """Send one request. ``rate_limit_check=True`` (the rate-limit family) takes a 429 as an answer
        like any other; every other check waits for ``Retry-After`` once (see the module's docstring)."""
        method = method.upper()
        request = self._client.build_request(
            method, path, headers=headers, json=json, content=content, data=data, files=files,
            params=list(params) if params else None, timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        response, elapsed_ms = self._send(request, follow_redirects)
        if response.status_code == 429 and not rate_limit_check:
            response, elapsed_ms = self._after_rate_limit(request, response, follow_redirects, attach)
        exchange = Exchange(
            service=self.name,
            method=method,
            url=str(request.url),
            request_headers=tuple(request.headers.multi_items()),
            request_body=request.content,
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            elapsed_ms=elapsed_ms,
            history=tuple(f"{r.status_code} {r.url}" for r in response.history),
            since=self._server_errors(method, request.url.path, response.status_code),
        )
        if attach:
            evidence.text(f"{method} {request.url.path} -> {response.status_code}", exchange.as_text())
        return exchange

    def _server_errors(self, method: str, path: str, status: int) -> str:
        """A 5xx says since when the service answers 5xx, so that the checks after the first one say their
        failure shares its cause (maintenance, an outage) instead of each reading as a defect of its own."""
        if status < 500:
            return ""
        with self._lock:
            first = self._first_5xx = self._first_5xx or (time.strftime("%H:%M:%S"), f"{method} {path}", status)
        when, where, code = first
        return f"service '{self.name}' has answered {code} since {when} (first to {where})"

    def _send(self, request: httpx.Request, follow_redirects: bool) -> tuple[httpx.Response, float]:
        where = f"{request.method} {request.url}"
        with self._lock:
            stopped = self._stopped
            self.requests += 1
        if stopped:
            raise NotVerified(f"not verified: {where} was not sent because {stopped}")
        started = time.perf_counter()
        try:
            response = self._client.send(request, follow_redirects=follow_redirects)
        except (UnsafeOperation, RequestBudgetExhausted):  # the guard refused it: nothing was sent
            with self._lock:
                self.requests -= 1
            raise
        except httpx.DecodingError as exc:
            self._answered = True
            raise BrokenEncoding(
                f"expected a body that decodes as its headers say from {where} (service '{self.name}'), "
                f"got {type(exc).__name__}: {redact(exc) or 'no detail'}"
            ) from None
        except httpx.TransportError as exc:
            raise self._no_answer(request, exc) from None
        self._answered = True
        return response, (time.perf_counter() - started) * 1000

    def _no_answer(self, request: httpx.Request, exc: httpx.TransportError) -> Exception:
        where = f"{request.method} {request.url}"
        detail = f"{type(exc).__name__}: {redact(exc) or 'no detail'}"
        certificate = _certificate_problem(exc)
        if certificate:
            self._answered = True
            return InvalidCertificate(
                f"expected a valid TLS certificate from service '{self.name}' at {request.url.scheme}://"
                f"{request.url.netloc.decode()}, got: {certificate} ({where})"
            )
        if not self._answered:
            return ServiceUnreachable(
                f"service '{self.name}' did not answer {where}: {detail}. Check that it is deployed and that "
                f"services.{self.name}.base_url in the environment file is right."
            )
        when = time.strftime("%H:%M:%S")
        seen = "no answer within the timeout" if isinstance(exc, httpx.TimeoutException) else "no answer"
        with self._lock:
            self._stopped = self._stopped or (
                f"service '{self.name}' stopped answering at {when} (a target defect reported once, at {where})")
        return TargetStoppedAnswering(
            f"expected service '{self.name}' to answer {where} within {self.timeout_s:g} s, got {seen} ({detail}) "
            f"at {when}; it had answered before, so it stopped answering mid-run. Later checks that need "
            f"'{self.name}' are not verified."
        )

    def _after_rate_limit(self, request: httpx.Request, response: httpx.Response, follow_redirects: bool,
                          attach: bool) -> tuple[httpx.Response, float]:
        """A 429 to a check that is not about rate limits: wait for Retry-After once, else inconclusive."""
        where = f"{request.method} {request.url} (service '{self.name}')"
        wait = retry_after_seconds(response.headers.get("retry-after"))
        budget = self.rate_limit_wait_s
        if attach:
            evidence.text(f"429 from {request.url.path}", f"{where}\nHTTP 429\n" + "\n".join(
                f"{k}: {v}" for k, v in redact_headers(response.headers.multi_items())))
        if wait is None:
            wait = min(1.0, budget)
        if wait > budget:
            raise RateLimited(
                f"inconclusive: {where} answered 429 Too Many Requests with Retry-After {wait:g} s, longer than "
                f"this environment waits (safety.rate_limit_wait_s: {budget:g}); the check is not about rate "
                "limits, so this is not a defect of the target. Space the runs out or raise the wait."
            )
        time.sleep(wait)
        retried, elapsed_ms = self._send(request, follow_redirects)
        if retried.status_code == 429:
            raise RateLimited(
                f"inconclusive: {where} answered 429 Too Many Requests again after waiting {wait:g} s; the check "
                "is not about rate limits, so this is not a defect of the target. Space the runs out."
            )
        return retried, elapsed_ms

    def close(self) -> None:
        self._client.close()


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _certificate_problem(exc: BaseException) -> str | None:
    """The certificate verification failure somewhere in an exception's chain, if that is what it is."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return str(seen).split("certificate verify failed:", 1)[-1].strip(" )") or "certificate verify failed"
        seen = seen.__cause__ or seen.__context__
    return None


class Clients:
    """The session's service clients, created on first use."""

    def __init__(self, env: Environment, unreachable: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None, preflight: bool = False):
        self.env = env
        self._unreachable = dict(unreachable or {})
        self._preflight = preflight  # the services not in ``unreachable`` answered it
        self._transport = transport
        self._clients: dict[str, ServiceClient] = {}

    def __getitem__(self, name: str) -> ServiceClient:
        if name in self._unreachable:
            raise AlreadyReported(f"service '{name}' is unreachable (reported once as an environment error)")
        if name not in self._clients:
            self._clients[name] = ServiceClient(name, self.env.service(name), self.env, transport=self._transport,
                                                answered_preflight=self._preflight)
        return self._clients[name]

    def request_counts(self) -> dict[str, int]:
        """Requests sent per service in this process (retries included)."""
        return {name: client.requests for name, client in self._clients.items()}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
