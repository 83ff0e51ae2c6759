"""One evidence API for every step family.

Attachments go to the current Allure step (or the scenario when no step runs), and every one
of them is redacted here, before it leaves the process (:mod:`postdeploy.redact`): text, HTML,
JSON, every table cell whatever its type, and every file that is text, typed or not. Images are
the exception (see :func:`image`). Without an Allure run they are no-ops.
"""

from __future__ import annotations

import csv
import io
import json as _json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import allure
from allure_commons.types import AttachmentType

from .redact import MASK, is_sensitive_key, redact, redact_bytes, redact_json, redact_value

_TEXT_MIME_TYPES = frozenset({"application/json", "application/xml", "application/yaml", "image/svg+xml"})


def text(name: str, content: Any) -> None:
    allure.attach(redact(content), name=redact(name), attachment_type=AttachmentType.TEXT)


def json(name: str, data: Any) -> None:
    # the second pass catches secrets in values json.dumps only shows through default=str
    body = redact(_json.dumps(redact_json(data), indent=2, ensure_ascii=False, default=str))
    allure.attach(body, name=redact(name), attachment_type=AttachmentType.JSON)


def _cell(column: str, value: Any) -> Any:
    """A table cell: masked under a sensitive column, else its secrets masked; 42 stays 42 when clean."""
    if value is None or isinstance(value, bool):
        return value
    if is_sensitive_key(column) and value not in ("", b""):
        return MASK
    if isinstance(value, (Mapping, list, tuple)):
        return _json.dumps(redact_json(value), ensure_ascii=False, default=str)
    if isinstance(value, (bytes, bytearray)):
        return redact(bytes(value))
    return redact_value(value)


def table(name: str, rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None) -> None:
    """Rows as a CSV attachment, which Allure renders as a table; every cell, of any type, is redacted."""
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(str(k), v) for k, v in row.items()})
    allure.attach(buffer.getvalue(), name=redact(name), attachment_type=AttachmentType.CSV)


def image(name: str, png: bytes) -> None:
    """Attach a PNG as it is.

    Pixels cannot be redacted by text replacement: a screenshot shows whatever the page showed. Take
    screenshots where no secret is visible (password inputs are masked by the browser, typed tokens are
    not), or mask the elements that show one (Playwright's ``page.screenshot(mask=[locator])``).
    """
    allure.attach(png, name=redact(name), attachment_type=AttachmentType.PNG)


def svg(name: str, content: str) -> None:
    """Attach an SVG drawing (a chart), redacted as text."""
    allure.attach(redact(content), name=redact(name), attachment_type=AttachmentType.SVG)


def html(name: str, content: str) -> None:
    allure.attach(redact(content), name=redact(name), attachment_type=AttachmentType.HTML)


def _is_text(data: bytes, attachment_type: Any) -> bool:
    mime = getattr(attachment_type, "mime_type", attachment_type)
    if isinstance(mime, str):
        return mime.startswith("text/") or mime in _TEXT_MIME_TYPES
    if b"\0" in data:  # untyped: binary formats (archives, images) hold NUL bytes, text does not
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def file(name: str, path: Path, attachment_type: Any = None, extension: str | None = None) -> None:
    """Attach a file; text is redacted, typed as text or not typed and UTF-8 without NUL bytes.

    Binary content (archives, images, PDFs) cannot be redacted by replacement here without corrupting it:
    its producer redacts it (``browser.redact_trace`` for Playwright traces) before attaching it.
    """
    data = path.read_bytes()
    if _is_text(data, attachment_type):
        data = redact_bytes(data)
    allure.attach(data, name=redact(name), attachment_type=attachment_type, extension=extension)
