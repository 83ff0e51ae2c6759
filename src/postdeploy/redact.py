"""Redaction, applied in one place before anything leaves the process.

Everything postdeploy prints, logs or attaches goes through :func:`redact` (text) or
:func:`redact_headers` / :func:`redact_json` (structures). Known secret values (passwords and
tokens from the environment file, tokens obtained at run time, DSN passwords) are replaced
wherever they appear; so are headers and JSON fields that carry credentials by their nature,
JWTs and the password part of URLs.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "[REDACTED]"

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
     "x-service-token", "x-auth-token", "x-csrf-token"}
)
SENSITIVE_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|credential|cookie", re.I)

_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_URL_PASSWORD = re.compile(rb"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@/\s]+)(@)", re.I)
_BEARER = re.compile(rb"(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}", re.I)
_KEY_VALUE = re.compile(
    rb"((?:password|passwd|secret|access_token|refresh_token|api_key)[\"']?\s*[:=]\s*[\"']?)([^\"'&\s,}]+)",
    re.I,
)

_lock = threading.Lock()
_secrets: set[bytes] = set()


def register(*values: str | None) -> None:
    """Add values that must never appear in output (ignores empty and very short ones)."""
    with _lock:
        _secrets.update(v.encode() for v in values if v and len(v) >= 4)


def registered() -> frozenset[bytes]:
    with _lock:
        return frozenset(_secrets)


def clear() -> None:
    with _lock:
        _secrets.clear()


def redact_bytes(data: bytes) -> bytes:
    for secret in sorted(registered(), key=len, reverse=True):
        data = data.replace(secret, MASK.encode())
    data = _JWT.sub(MASK.encode(), data)
    data = _URL_PASSWORD.sub(rb"\1" + MASK.encode() + rb"\3", data)
    data = _BEARER.sub(rb"\1" + MASK.encode(), data)
    return _KEY_VALUE.sub(rb"\1" + MASK.encode(), data)


def redact(text: Any) -> str:
    """Return ``text`` as a string with every secret masked."""
    if text is None:
        return ""
    raw = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogatepass")
    return redact_bytes(raw).decode("utf-8", "replace")


def redact_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(k, MASK if k.lower() in SENSITIVE_HEADERS else redact(v)) for k, v in items]


def redact_json(value: Any) -> Any:
    """Mask credential-bearing fields by name, and secrets by value, in parsed JSON."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and SENSITIVE_KEYS.search(k) and v not in (None, "", [], {})
                and not isinstance(v, (dict, list, bool)) else redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


class RedactingFilter(logging.Filter):
    """Redacts records in place, for handlers that write logs somewhere a person reads them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_original_factory = logging.getLogRecordFactory()


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _original_factory(*args, **kwargs)
    try:
        record.msg = redact(record.getMessage())
        record.args = None
    except Exception:  # a malformed log call must not break the run; keep the record as is
        pass
    return record


def install_log_redaction() -> None:
    """Every log record created from now on is redacted (captured logs end up in reports)."""
    if logging.getLogRecordFactory() is not _factory:
        logging.setLogRecordFactory(_factory)
