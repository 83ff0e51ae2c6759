"""What the HTTP steps share: reading a Gherkin table, sending a request as the current identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from postdeploy.auth import Credentials
from postdeploy.checks import Send
from postdeploy.http import Exchange


def table(datatable: list[list[str]]) -> list[dict[str, str]]:
    """The rows of a Gherkin data table, keyed by its header row (lower case, trimmed)."""
    header, *rows = datatable
    return [dict(zip([h.strip().lower() for h in header], (c.strip() for c in row))) for row in rows]


def sender(service_client: Callable[[str], Any], credentials: Credentials | None, service: str) -> Send:
    """``send(method, path, **options)``: a request to ``service`` carrying the credentials of the current
    identity (before any ``headers`` of its own)."""
    def send(method: str, path: str, *, headers: list[tuple[str, str]] | None = None, **options: Any) -> Exchange:
        own = list(credentials.headers) if credentials else []
        return service_client(service).request(method, path, headers=[*own, *(headers or [])], **options)
    return send
