"""Query plans: a query the application runs reads its large tables through an index, not a sequential scan.

``EXPLAIN`` (never ``ANALYZE``, which would run the query) shows the plan the planner chose for the database as
it is; a sequential scan is a defect only on a table whose estimated size (``pg_class.reltuples``) is above the
environment's ``data_integrity.seq_scan_max_rows``: on a small table a sequential scan is the better plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import evidence
from ..errors import SuiteError
from ._query import fail, query

if TYPE_CHECKING:
    from ..sql import ReadOnlySession


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def plan(session: ReadOnlySession, sql: str, title: str = "query") -> dict[str, Any]:
    """The planner's plan of ``sql`` (``EXPLAIN (FORMAT JSON)``), attached to the report."""
    body = sql.strip().rstrip(";").strip()
    if not body:
        raise SuiteError(f"the query {title} is empty")
    raw = query(session, f"plan of {title}", f"EXPLAIN (FORMAT JSON) {body}", attach_rows=False).scalar()
    document = json.loads(raw) if isinstance(raw, str) else raw
    evidence.json(f"plan of {title}", document)
    return document[0]["Plan"]


def check_uses_indexes(session: ReadOnlySession, sql: str, max_seq_rows: int, title: str = "query") -> None:
    """No sequential scan in the plan of ``sql`` on a table estimated above ``max_seq_rows`` rows."""
    __tracebackhide__ = True
    scans = [n for n in _nodes(plan(session, sql, title)) if n.get("Node Type") == "Seq Scan"]
    if not scans:
        return
    names = [f"{n.get('Schema', 'public')}.{n['Relation Name']}" for n in scans]
    sizes = query(session, f"sizes of the tables {title} scans",
                  "SELECT t.name, c.reltuples::bigint AS estimated_rows FROM unnest(%s::text[]) AS t(name) "
                  "JOIN pg_class c ON c.oid = to_regclass(t.name)", (names,))
    large = [(name, rows) for name, rows in sizes if rows > max_seq_rows]
    if large:
        name, rows = large[0]
        fail(f"query {title}: expected its plan to read tables of more than {max_seq_rows} rows through an index, "
             f"found a sequential scan on {name} ({rows} rows estimated)",
             *(f"also: a sequential scan on {n} ({r} rows estimated)" for n, r in large[1:]))
