"""JSON paths: RFC 9535 JSONPath queries, and the short dotted form, with errors that say where a path stopped.

A query that starts with ``$`` is RFC 9535 JSONPath, compiled and evaluated by ``jsonpath-rfc9535``:
``$.checks.database``, ``$['app.version']``, ``$.items[?@.status == 'sent'].id``, ``$.items[*].id``,
``$.items[1:3]``, ``$..id``. Without ``$`` a path is the short form checks have always used, dotted names and
``[index]`` (``checks.database``, ``items[0].id``, ``feature-flags.beta``): each dotted part is one member name,
whatever characters it holds, so the short form translates to a query of name and index segments.

A *singular* query (RFC 9535's term: only single names and indexes) resolves to one value; any other query
resolves to the list of the values it matched. Either raises :class:`PathNotFound` when nothing matched, saying
where the query stopped and why ("no key 'databse' (keys: api, database) at '$.checks'").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonpath_rfc9535 as jsonpath
from jsonpath_rfc9535.segments import (
    JSONPathChildSegment,
    JSONPathRecursiveDescentSegment,
    JSONPathSegment,
)
from jsonpath_rfc9535.selectors import IndexSelector, NameSelector

# the short form: a dotted name (any characters but . [ ]) or an [index]
_SHORT_PART = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
# RFC 9535 member-name-shorthand: names that need no quotes after a dot
_SHORTHAND = re.compile(r"[A-Za-z_\u0080-\ud7ff\ue000-\U0010ffff][A-Za-z0-9_\u0080-\ud7ff\ue000-\U0010ffff]*")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_KEYS_SHOWN = 10


class PathNotFound(LookupError):
    """Nothing in the document matched ``path``: it stopped matching at ``reached`` (a query prefix such as
    ``$.checks``) for ``reason``."""

    def __init__(self, path: str, reached: str, reason: str) -> None:
        super().__init__(f"JSON path '{path}' not found: {reason} at '{reached or '$'}'")
        self.path, self.reached, self.reason = path, reached, reason


def parse(path: str) -> list[str | int]:
    """The member names and indexes of a singular query (``services.api.base_url`` -> ``["services", "api",
    "base_url"]``); ValueError for a malformed query or one that can match several values."""
    query = _compile(path)
    if not query.singular_query():
        raise ValueError(f"JSON path '{path}' can match several values; expected names and indexes only")
    return [_name_or_index(segment) for segment in query.segments]  # a singular query: never None


def resolve(document: Any, path: str) -> Any:
    """The value at a singular query, or the list of values a non-singular one matched; PathNotFound when
    nothing matched, ValueError for a malformed query."""
    query = _compile(path)
    try:
        nodes = query.find(document)
    except jsonpath.JSONPathError as exc:  # e.g. a descendant segment deeper than the library's limit
        raise ValueError(f"JSON path '{path}' could not be evaluated: {_readable(exc)}") from None
    if nodes:
        return nodes[0].value if query.singular_query() else nodes.values()
    reached, reason = _where_it_stopped(document, query)
    raise PathNotFound(path, reached, reason)


def exists(document: Any, path: str) -> bool:
    try:
        resolve(document, path)
    except PathNotFound:
        return False
    return True


@lru_cache(maxsize=512)
def _compile(path: str) -> jsonpath.JSONPathQuery:
    text = path.strip()
    rfc = text.startswith("$")
    try:
        return jsonpath.compile(text if rfc else _from_short_form(path, text))
    except jsonpath.JSONPathError as exc:
        # a position counts in the user's own text only, not in a query translated from the short form
        raise ValueError(f"malformed JSON path '{path}': {_readable(exc, with_position=rfc)}") from None


def _from_short_form(path: str, text: str) -> str:
    """``items[0].id`` -> ``$.items[0].id``; ``feature-flags.beta`` -> ``$['feature-flags'].beta``."""
    query, position = "$", 0
    for match in _SHORT_PART.finditer(text):
        if match.start() != position:
            break
        name, index = match.groups()
        query += _name_segment(name) if index is None else f"[{int(index)}]"
        position = match.end()
    if position != len(text):
        raise ValueError(
            f"malformed JSON path '{path}': unexpected {text[position:]!r} at position {position} (the short form "
            "is dotted names and [index]; a full RFC 9535 JSONPath query starts with '$')"
        )
    return query


def _name_segment(name: str) -> str:
    if _SHORTHAND.fullmatch(name):
        return f".{name}"
    quoted = "".join(_ESCAPES.get(c, f"\\u{ord(c):04x}" if c < " " else c) for c in name)
    return f"['{quoted}']"


def _name_or_index(segment: JSONPathSegment) -> str | int | None:
    """The name or index of a segment that selects exactly one child, else None."""
    if isinstance(segment, JSONPathChildSegment) and len(segment.selectors) == 1:
        selector = segment.selectors[0]
        if isinstance(selector, NameSelector):
            return selector.name
        if isinstance(selector, IndexSelector):
            return selector.index
    return None


def _segment_text(segment: JSONPathSegment) -> str:
    """A segment as a user would write it: ``.checks``, ``['app.version']``, ``[0]``, ``..id``, else the
    library's canonical form (``[*]``, ``[1:3:1]``, ``[?@['status'] == 'sent']``)."""
    descendant = isinstance(segment, JSONPathRecursiveDescentSegment)
    selector = segment.selectors[0] if len(segment.selectors) == 1 else None
    if isinstance(selector, NameSelector):
        text = _name_segment(selector.name)
        return ("." + text if text.startswith(".") else ".." + text) if descendant else text
    if isinstance(selector, IndexSelector):
        return f"{'..' if descendant else ''}[{selector.index}]"
    return str(segment)


def _where_it_stopped(document: Any, query: jsonpath.JSONPathQuery) -> tuple[str, str]:
    """The longest prefix of ``query`` that matched something, and why the next segment matched nothing."""
    values, reached = [document], "$"
    for count, segment in enumerate(query.segments, start=1):
        prefix = jsonpath.JSONPathQuery(env=query.env, segments=query.segments[:count])
        found = prefix.find(document).values()
        if not found:
            part = _name_or_index(segment)
            if part is not None and len(values) == 1:
                return reached, _why_not(values[0], part)
            where = f"in {_describe(values[0])}" if len(values) == 1 else f"in any of {len(values)} values"
            return reached, f"nothing matched {_segment_text(segment)} {where}"
        values, reached = found, reached + _segment_text(segment)
    return reached, "nothing matched"  # not reached: a query that matched was not asked where it stopped


def _why_not(value: Any, part: str | int) -> str:
    if isinstance(part, int):
        if not isinstance(value, list):
            return f"expected a list, found {type(value).__name__}"
        return f"index {part} out of range (length {len(value)})"
    if not isinstance(value, dict):
        return f"expected an object, found {type(value).__name__}"
    keys = sorted(map(str, value))
    if not keys:
        return f"no key '{part}' (the object is empty)"
    shown = ", ".join(keys[:_KEYS_SHOWN]) + (f", ... ({len(keys)} keys)" if len(keys) > _KEYS_SHOWN else "")
    return f"no key '{part}' (keys: {shown})"


def _describe(value: Any) -> str:
    if isinstance(value, (list, dict)):
        count = len(value)
        kind, unit = ("a list", "item") if isinstance(value, list) else ("an object", "key")
        return f"{kind} of {count} {unit}{'' if count == 1 else 's'}"
    return f"a {type(value).__name__}"


def _readable(exc: jsonpath.JSONPathError, with_position: bool = True) -> str:
    """The library's message without its "line 1, column N" suffix, with the position when it is useful."""
    message = str(exc.args[0]) if exc.args else type(exc).__name__
    token = getattr(exc, "token", None)
    if with_position and token is not None:
        return f"{message} at position {token.index}"
    return message
