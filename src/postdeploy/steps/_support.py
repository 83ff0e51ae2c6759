"""What the HTTP steps share: reading a Gherkin table, sending a request as the current identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from postdeploy.auth import Credentials
from postdeploy.checks import Send
from postdeploy.errors import SuiteError
from postdeploy.http import Exchange


def table(datatable: list[list[str]]) -> list[dict[str, str]]:
    """The rows of a Gherkin data table, keyed by its header row (lower case, trimmed)."""
    header, *rows = datatable
    return [dict(zip([h.strip().lower() for h in header], (c.strip() for c in row))) for row in rows]


def asked_first(what: str, step: str) -> NoReturn:
    """The fixture of a Then step that judges what a When step gathered, when no such When step came first."""
    raise SuiteError(f"this step judges {what}, but nothing was asked yet: '{step}' must come before it in the "
                     f"scenario (the feature is wrong, not the target)")


def named(datatable: list[list[str]], what: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a two-column table headed ``name | value`` (a name may repeat)."""
    header = [h.strip().lower() for h in datatable[0]] if datatable else []
    if header != ["name", "value"]:
        raise SuiteError(f"a table of {what}s has the columns 'name' and 'value' (a header row "
                         f"'| name | value |' first), got {' | '.join(header) or 'no rows'}")
    return [(row[0].strip(), row[1].strip()) for row in datatable[1:]]


def sender(service_client: Callable[[str], Any], credentials: Credentials | None, service: str) -> Send:
    """``send(method, path, **options)``: a request to ``service`` carrying the credentials of the current
    identity (before any ``headers`` of its own)."""
    def send(method: str, path: str, *, headers: list[tuple[str, str]] | None = None, **options: Any) -> Exchange:
        own = list(credentials.headers) if credentials else []
        return service_client(service).request(method, path, headers=[*own, *(headers or [])], **options)
    return send
