"""What every database check shares: naming objects, running a query with its evidence, failing with a first
line that names the object, the expectation and what was found."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .. import evidence
from ..errors import CheckFailed, SuiteError
from ..redact import redact
from ..sql import Result

if TYPE_CHECKING:
    from ..sql import ReadOnlySession

#: how many offending rows a failure shows and attaches (the total is always counted)
EVIDENCE_ROWS = 20

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_QUALIFIED = re.compile(r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"))*')


def quote_ident(name: str) -> str:
    """One identifier as PostgreSQL reads it: lower-case plain names stay bare, anything else is quoted."""
    if _PLAIN.fullmatch(name) and name == name.lower():
        return name
    return '"' + name.replace('"', '""') + '"'


def expression(text: str) -> str:
    """A column name (quoted when needed) or, when it is not a plain name, the SQL expression as written
    (``metadata->>'transaction_id'``, ``lower(email)``); a query holding it is still refused unless it reads."""
    text = text.strip()
    if not text:
        raise SuiteError("an empty column or expression was given to a database step")
    return quote_ident(text) if _PLAIN.fullmatch(text) else text


def split_list(text: str) -> list[str]:
    """``a, lower(b), (metadata->>'x')`` -> its top-level items (commas inside parentheses or quotes kept)."""
    items, depth, quote, current = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        items.append(current.strip())
    return items


def labelled(text: str) -> str:
    """A select list of the items of ``text``, each named as written (for the evidence table's headings)."""
    return ", ".join(f"({expression(item)}) AS {quote_ident(item) if item != item.lower() or not _PLAIN.fullmatch(item) else item}"
                     for item in split_list(text))


def query(session: ReadOnlySession, title: str, sql: str, params: Sequence[Any] | dict[str, Any] | None = None,
          *, attach_rows: bool = True) -> Result:
    """Run one reading query and attach its SQL, parameters and (the first rows of) its result."""
    result = session.query(sql, params)
    shown = (", ".join(repr(p) for p in params) if isinstance(params, (list, tuple)) else repr(params)) \
        if params else "(none)"
    evidence.text(f"{title}: SQL", f"{sql.strip()}\n\n-- parameters: {shown}\n-- database: {session.where}")
    if attach_rows:
        rows = result.dicts()[:EVIDENCE_ROWS]
        evidence.table(f"{title}: {len(result)} row(s)" + (f", first {EVIDENCE_ROWS}" if len(result) > EVIDENCE_ROWS else ""),
                       rows, result.columns)
    return result


def relation(session: ReadOnlySession, name: str, what: str = "table") -> str:
    """The relation's name as PostgreSQL prints it (schema-qualified when not on the search path, quoted when
    needed), or a failure saying it does not exist."""
    if not _QUALIFIED.fullmatch(name.strip()):
        raise SuiteError(f"{name!r} is not a {what} name; write it as table or schema.table")
    found = query(session, f"{what} {name}", "SELECT to_regclass(%s)::text AS relation", (name.strip(),)).scalar()
    if found is None:
        fail(f"{what} {name}: expected it to exist on {session.where}, found no such relation")
    return found


def fail(first_line: str, *details: str) -> NoReturn:
    """Raise the check's failure: one first line (object, expectation, what was found), then the details."""
    __tracebackhide__ = True
    raise CheckFailed(redact("\n".join([first_line, *[d for d in details if d]])))


def rows_text(result: Result, limit: int = 5) -> str:
    """The first rows of a result as ``column=value`` lines, for a failure message."""
    lines = [", ".join(f"{c}={v!r}" for c, v in zip(result.columns, row)) for row in result.rows[:limit]]
    more = len(result) - limit
    return "\n".join(lines + ([f"... and {more} more (attached)"] if more > 0 else []))


def same_version(a: object, b: object) -> bool:
    """Two migration versions are the same: equal text, or equal numbers (``8`` and ``000008``)."""
    sa, sb = str(a).strip(), str(b).strip()
    if sa.isdigit() and sb.isdigit():
        return int(sa) == int(sb)
    return sa == sb
