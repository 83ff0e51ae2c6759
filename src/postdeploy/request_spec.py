"""One vocabulary for every request a step describes, and for what its answer must be.

A request table, in any step that takes one, has these columns (only ``path`` is required)::

    method      GET (default), POST, PUT, PATCH, DELETE, HEAD, OPTIONS
    path        /api/v1/orders?page=2        (a query may be written here or in ``query``)
    query       page=2&sort=-created         (URL-encoded, as in a URL; added to a query in the path)
    headers     Accept: text/csv             (several: one per line, written ``\\n`` inside a cell)
    body        {"name": "x"}                (read as ``body type`` says)
    body type   json (default when there is a body) | form | multipart | raw | none
    redirects   follow | no (default: no, so a 3xx is the answer)

and what the answer must be, in the same table:

    status        200, 401 or 403 (401|403 outside a table), 2xx
    content type  application/json           (the media type; parameters such as charset aside)

``form`` and ``multipart`` bodies are written the way a URL-encoded form is (``a=1&b=2``); a multipart
field whose value starts with ``@`` is a file part: ``avatar=@photo.png`` sends a small file of that name
(content ``postdeploy test file``), ``@photo.png;type=image/png`` with that type. A ``raw`` body is sent as
written, with the ``Content-Type`` of ``headers`` (``text/plain`` when none is given).

The steps that send a single request take the same fields as a two-column table (``| body type | form |``),
so a user learns one set of words. Unknown columns and values are a feature error that lists the right ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .errors import SuiteError

REQUEST_FIELDS = ("method", "path", "query", "headers", "body", "body type", "redirects")
ANSWER_FIELDS = ("status", "content type")
BODY_TYPES = ("json", "form", "multipart", "raw", "none")
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
FILE_CONTENT = b"postdeploy test file\n"


@dataclass(frozen=True)
class Status:
    """An expected status: codes (``200``, ``401 or 403``, ``401|403``) or classes (``2xx``)."""

    text: str
    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Status:
        codes, classes = set(), set()
        for part in re.split(r"\s*(?:\||,|\bor\b)\s*", text.strip()):
            if re.fullmatch(r"[1-5]\d\d", part):
                codes.add(int(part))
            elif re.fullmatch(r"[1-5]xx", part, re.IGNORECASE):
                classes.add(int(part[0]))
            else:
                raise SuiteError(f"'{text}' is not a status: write a code (200), a class (2xx) or several "
                                 f"separated by 'or' (401 or 403)")
        return cls(text.strip(), frozenset(codes), frozenset(classes))

    def allows(self, status: int) -> bool:
        return status in self.codes or status // 100 in self.classes

    def __str__(self) -> str:
        return " or ".join([*map(str, sorted(self.codes)), *(f"{c}xx" for c in sorted(self.classes))])


@dataclass(frozen=True)
class RequestSpec:
    """A request as a table row (or a step plus a two-column table) describes it."""

    method: str = "GET"
    path: str = "/"
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    body_type: str = "none"
    follow_redirects: bool = False
    status: Status | None = None
    content_type: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}" + (f"?{urlencode(self.query)}" if self.query else "")

    def options(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`postdeploy.http.ServiceClient.request` for this request."""
        options: dict[str, Any] = {"follow_redirects": self.follow_redirects}
        headers = list(self.headers)
        if self.query:
            options["params"] = list(self.query)
        if self.body_type == "json":
            try:
                document = json.loads(self.body or "")
            except ValueError as exc:
                raise SuiteError(f"the body of {self.label} is not JSON ({exc}); say 'body type: raw' to send it "
                                 f"as written, or 'form' for a URL-encoded form") from None
            options["content"] = json.dumps(document).encode()
            headers = _default(headers, "Content-Type", "application/json")
        elif self.body_type == "form":
            options["data"] = dict(_pairs(self.body or "", "form body"))
        elif self.body_type == "multipart":  # every field a part; (None, value) is a part without a file name
            parts = []
            for name, value in _pairs(self.body or "", "multipart body"):
                if value.startswith("@"):
                    filename, _, kind = value[1:].partition(";type=")
                    parts.append((name, (filename, FILE_CONTENT, kind or "application/octet-stream")))
                else:
                    parts.append((name, (None, value)))
            options["files"] = parts
        elif self.body_type == "raw":
            options["content"] = (self.body or "").encode()
            headers = _default(headers, "Content-Type", "text/plain")
        options["headers"] = headers
        return options


def _default(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    if any(k.lower() == name.lower() for k, _ in headers):
        return headers
    return [(name, value), *headers]


def _pairs(text: str, what: str) -> list[tuple[str, str]]:
    if not text.strip():
        return []
    if "=" not in text:
        raise SuiteError(f"a {what} is written name=value&name=value, got {text!r}")
    return parse_qsl(text.strip(), keep_blank_values=True)


def headers_cell(text: str) -> tuple[tuple[str, str], ...]:
    """``Name: value`` pairs, one per line (``\\n`` in a table cell)."""
    pairs = []
    for line in text.replace("\\n", "\n").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or " " in name.strip():
            raise SuiteError(f"a header is written 'Name: value' (one per line, '\\n' between them in a cell), "
                             f"got {line!r}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def from_fields(fields: Mapping[str, str], *, where: str, allowed: Sequence[str] = (),
                defaults: Mapping[str, str] | None = None) -> RequestSpec:
    """A request from named fields (a table row, or the rows of a two-column table); ``allowed`` names the
    further columns the step reads itself (kept in ``extra``)."""
    fields = {**(defaults or {}), **{k: v for k, v in fields.items() if v is not None}}
    known = (*REQUEST_FIELDS, *ANSWER_FIELDS, *allowed)
    unknown = [k for k in fields if k not in known]
    if unknown:
        raise SuiteError(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                         f"a request is described by {', '.join(REQUEST_FIELDS)}, its answer by "
                         f"{', '.join(ANSWER_FIELDS)}" + (f", and this step also reads {', '.join(allowed)}"
                                                          if allowed else "") + " (docs/steps.md)")
    method = (fields.get("method") or "GET").strip().upper()
    if method not in METHODS:
        raise SuiteError(f"{where}: '{fields.get('method')}' is not an HTTP method ({', '.join(METHODS)})")
    path = (fields.get("path") or "").strip()
    if not path.startswith("/"):
        raise SuiteError(f"{where}: a path starts with '/' (the service's base URL comes from the environment), "
                         f"got {path!r}")
    body = fields.get("body") or None
    body_type = (fields.get("body type") or ("json" if body else "none")).strip().lower()
    if body_type not in BODY_TYPES:
        raise SuiteError(f"{where}: body type '{body_type}' is not one of {', '.join(BODY_TYPES)}")
    if body_type == "none" and body:
        raise SuiteError(f"{where}: a body is given with 'body type: none'")
    redirects = (fields.get("redirects") or "no").strip().lower()
    if redirects not in ("follow", "no"):
        raise SuiteError(f"{where}: redirects is 'follow' or 'no', got {redirects!r}")
    status = fields.get("status")
    path, _, inline = path.partition("?")  # a query in the path and one in 'query' are sent together
    query = parse_qsl(inline, keep_blank_values=True) + _pairs(fields.get("query") or "", "query")
    return RequestSpec(
        method=method,
        path=path,
        query=tuple(query),
        headers=headers_cell(fields.get("headers") or ""),
        body=body,
        body_type=body_type,
        follow_redirects=redirects == "follow",
        status=Status.parse(status) if status else None,
        content_type=(fields.get("content type") or "").strip() or None,
        extra={k: fields[k] for k in allowed if k in fields},
    )


def rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    """The rows of a Gherkin table keyed by its header (lower case, trimmed); empty cells are left out."""
    header, *body = datatable
    names = [h.strip().lower() for h in header]
    return [{n: c.strip() for n, c in zip(names, row) if c.strip()} for row in body]


def from_table(datatable: list[list[str]], *, step: str, allowed: Sequence[str] = (),
               required: Iterable[str] = ()) -> list[RequestSpec]:
    """The requests of a horizontal table, one per row."""
    specs = []
    header = [h.strip().lower() for h in datatable[0]] if datatable else []
    if "path" not in header:
        raise SuiteError(f"the table of '{step}' needs a 'path' column; its columns are "
                         f"{', '.join(REQUEST_FIELDS)}, {', '.join(ANSWER_FIELDS)}")
    for column in required:
        if column not in header:
            raise SuiteError(f"the table of '{step}' needs a '{column}' column")
    for number, row in enumerate(rows(datatable), start=1):
        specs.append(from_fields(row, where=f"row {number} of the table of '{step}'", allowed=allowed))
    return specs


def from_pairs(datatable: list[list[str]], *, where: str, defaults: Mapping[str, str]) -> RequestSpec:
    """One request from a vertical two-column table (``| body type | form |``) and the step's own words."""
    fields: dict[str, str] = {}
    for row in datatable:
        if len(row) != 2:
            raise SuiteError(f"{where}: each row is a field and its value (| body type | form |), got {row}")
        name, value = row[0].strip().lower(), row[1]
        if name in defaults:
            raise SuiteError(f"{where}: '{name}' is given in the step already")
        fields[name] = value
    return from_fields(fields, where=where, defaults=defaults)
