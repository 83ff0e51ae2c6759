"""One evidence API for every step family.

Attachments go to the current Allure step (or the scenario when no step runs), and every one
of them is redacted here, before it leaves the process. Without an Allure run they are no-ops.
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

from .redact import redact, redact_bytes, redact_json


def text(name: str, content: Any) -> None:
    allure.attach(redact(content), name=name, attachment_type=AttachmentType.TEXT)


def json(name: str, data: Any) -> None:
    body = _json.dumps(redact_json(data), indent=2, ensure_ascii=False, default=str)
    allure.attach(body, name=name, attachment_type=AttachmentType.JSON)


def table(name: str, rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None) -> None:
    """Rows as a CSV attachment, which Allure renders as a table."""
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: redact(v) if isinstance(v, str) else v for k, v in row.items()})
    allure.attach(buffer.getvalue(), name=name, attachment_type=AttachmentType.CSV)


def image(name: str, png: bytes) -> None:
    allure.attach(png, name=name, attachment_type=AttachmentType.PNG)


def html(name: str, content: str) -> None:
    allure.attach(redact(content), name=name, attachment_type=AttachmentType.HTML)


def file(name: str, path: Path, attachment_type: Any = None, extension: str | None = None) -> None:
    """Attach a file; text-like content is redacted, archives must be redacted by their producer."""
    data = path.read_bytes()
    if attachment_type in (AttachmentType.TEXT, AttachmentType.JSON, AttachmentType.HTML, AttachmentType.CSV):
        data = redact_bytes(data)
    allure.attach(data, name=name, attachment_type=attachment_type, extension=extension)
