"""HTTP access to the target: one client per service per session, safe by construction.

* every request has a timeout (the service's, else the environment's);
* methods the environment does not allow are refused before anything is sent;
* a service that does not answer raises :class:`ServiceUnreachable`, a suite/environment error,
  never a check failure;
* every exchange is attached to the report, redacted.
"""

from __future__ import annotations

import json as _json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import evidence
from .environment import Environment, Service
from .errors import AlreadyReported, ServiceUnreachable, UnsafeOperation
from .redact import redact, redact_headers, redact_json

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
        return f"{self.status} {body!r}"

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
        text = body.decode("utf-8", "replace")
    return text if len(text) <= MAX_EVIDENCE_BODY else text[:MAX_EVIDENCE_BODY] + "\n... (truncated)"


class ServiceClient:
    """Talks to one named service; shared by all scenarios of a session (connection reuse)."""

    def __init__(self, name: str, service: Service, env: Environment, *, transport: httpx.BaseTransport | None = None):
        self.name = name
        self.service = service
        self.allowed_methods = env.safety.methods
        self._exempt: set[tuple[str, str]] = set()
        timeout = service.timeout_s or env.timeout_s
        self._client = httpx.Client(
            base_url=service.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=service.verify_tls,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return self.service.base_url

    def allow(self, method: str, path: str) -> None:
        """Exempt one endpoint from the method allow-list (the declared login endpoint)."""
        self._exempt.add((method.upper(), path))

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        attach: bool = True,
        timeout: float | None = None,
    ) -> Exchange:
        method = method.upper()
        if method not in self.allowed_methods and (method, path.split("?")[0]) not in self._exempt:
            raise UnsafeOperation(
                f"refused {method} {self.base_url}{path}: this environment allows only "
                f"{', '.join(self.allowed_methods)} (safety.read_only / safety.allowed_methods in the environment file)."
            )
        request = self._client.build_request(
            method, path, headers=headers, json=json, content=content, data=data,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        started = time.perf_counter()
        try:
            response = self._client.send(request, follow_redirects=follow_redirects)
        except httpx.TransportError as exc:
            raise ServiceUnreachable(
                f"service '{self.name}' did not answer {method} {request.url}: {type(exc).__name__}: {redact(exc) or 'no detail'}. "
                "Check that it is deployed and that services." + self.name + ".base_url in the environment file is right."
            ) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
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
        )
        if attach:
            evidence.text(f"{method} {request.url.path} -> {response.status_code}", exchange.as_text())
        return exchange

    def close(self) -> None:
        self._client.close()


class Clients:
    """The session's service clients, created on first use."""

    def __init__(self, env: Environment, unreachable: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.env = env
        self._unreachable = dict(unreachable or {})
        self._transport = transport
        self._clients: dict[str, ServiceClient] = {}

    def __getitem__(self, name: str) -> ServiceClient:
        if name in self._unreachable:
            raise AlreadyReported(f"service '{name}' is unreachable (reported once as an environment error)")
        if name not in self._clients:
            client = ServiceClient(name, self.env.service(name), self.env, transport=self._transport)
            if self.env.auth.kind in ("json_login", "form_login", "cookie_login") and self.env.auth.service == name:
                client.allow("POST", self.env.auth.path)
            self._clients[name] = client
        return self._clients[name]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
