"""The data itself: duplicates, NULLs, orphans, row counts, freshness, and any query that must return nothing.

Each query returns at most :data:`~postdeploy.database._query.EVIDENCE_ROWS` offending rows and counts them all
(``count(*) OVER ()``), so a failure shows the first rows and the total, never the whole table. The queries are
written so an index serves them where one exists (``GROUP BY`` the indexed expression, ``NOT EXISTS`` against the
referenced key, ``max()`` of an indexed timestamp); ``database.statement_timeout_ms`` bounds the rest (a query
past it is inconclusive, never a pass).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SuiteError, UnsafeOperation
from ..redact import redact
from ..sql import refusal
from ._query import (
    EVIDENCE_ROWS,
    expression,
    fail,
    labelled,
    query,
    relation,
    rows_text,
)

if TYPE_CHECKING:
    from ..sql import ReadOnlySession, Result


def _total(result: Result) -> int:
    return int(result.rows[0][-1]) if result.rows else 0


def _without_total(result: Result) -> Result:
    from ..sql import Result as R

    return R(result.columns[:-1], tuple(row[:-1] for row in result.rows))


def check_no_duplicates(session: ReadOnlySession, table: str, over: str, where: str = "") -> None:
    """No two rows of ``table`` share the value of ``over`` (a column, an expression, or several separated by
    commas); rows where it is NULL are not compared (as a unique index does not)."""
    __tracebackhide__ = True
    name = relation(session, table)
    keys = expression(over)
    filt = f" AND ({where})" if where else ""
    result = query(session, f"duplicates in {name} over {over}",
                   f"SELECT {labelled(over)}, count(*) AS copies, count(*) OVER () AS groups FROM {name} "
                   f"WHERE ROW({keys}) IS NOT NULL{filt} GROUP BY {keys} HAVING count(*) > 1 "
                   f"ORDER BY count(*) DESC LIMIT {EVIDENCE_ROWS}")
    if result.rows:
        fail(f"{name}: expected no two rows with the same {over}, found {_total(result)} duplicated value(s)",
             rows_text(_without_total(result)))


def check_no_nulls(session: ReadOnlySession, table: str, column: str) -> None:
    """No row of ``table`` has ``column`` (or the expression) NULL."""
    __tracebackhide__ = True
    name = relation(session, table)
    col = expression(column)
    result = query(session, f"NULLs in {name}.{column}",
                   f"SELECT t.*, count(*) OVER () AS total FROM {name} t WHERE ({col}) IS NULL LIMIT {EVIDENCE_ROWS}")
    if result.rows:
        fail(f"{name}: expected no row with {column} NULL, found {_total(result)}", rows_text(_without_total(result)))


def check_no_orphans(session: ReadOnlySession, table: str, column: str, target: str, target_column: str) -> None:
    """Every non-NULL value of ``column`` in ``table`` exists as ``target_column`` of a row of ``target``."""
    __tracebackhide__ = True
    child, parent = relation(session, table), relation(session, target)
    col, key = expression(column), expression(target_column)
    result = query(session, f"orphans of {child}.{column} in {parent}.{target_column}",
                   f"SELECT c.*, count(*) OVER () AS total FROM (SELECT t.*, ({col}) AS referenced FROM {child} t) c "
                   f"WHERE c.referenced IS NOT NULL AND NOT EXISTS "
                   f"(SELECT 1 FROM {parent} p WHERE p.{key} = c.referenced) LIMIT {EVIDENCE_ROWS}")
    if result.rows:
        fail(f"{child}.{column}: expected every value to exist in {parent}.{target_column}, found "
             f"{_total(result)} row(s) referencing none", rows_text(_without_total(result)))


def row_count(session: ReadOnlySession, table: str, where: str = "") -> int:
    name = relation(session, table)
    return int(query(session, f"rows of {name}", f"SELECT count(*) FROM {name}" + (f" WHERE {where}" if where else ""))
               .scalar())


def check_row_count(session: ReadOnlySession, table: str, minimum: int | None = None,
                    maximum: int | None = None) -> int:
    """The table holds between ``minimum`` and ``maximum`` rows (either bound may be None)."""
    __tracebackhide__ = True
    if minimum is None and maximum is None:
        raise SuiteError(f"a row count check of {table} needs a minimum, a maximum or both")
    n = row_count(session, table)
    low = minimum if minimum is not None else 0
    if n < low or (maximum is not None and n > maximum):
        bounds = (f"between {minimum} and {maximum}" if minimum is not None and maximum is not None
                  else f"at least {minimum}" if minimum is not None else f"at most {maximum}")
        fail(f"{table}: expected {bounds} rows, found {n}")
    return n


def check_fresh(session: ReadOnlySession, table: str, column: str, max_age_minutes: float) -> float:
    """The newest value of ``column`` (a timestamp) is at most ``max_age_minutes`` old; returns its age in minutes.
    ``max()`` of an indexed column reads one index entry."""
    __tracebackhide__ = True
    name = relation(session, table)
    col = expression(column)
    row = query(session, f"newest {column} of {name}",
                f"SELECT max({col}) AS newest, extract(epoch FROM now() - max({col})) / 60 AS age_minutes "
                f"FROM {name}").dicts()[0]
    if row["newest"] is None:
        fail(f"{name}: expected a row with {column} at most {max_age_minutes:g} minutes old, found no row")
    age = float(row["age_minutes"])
    if age > max_age_minutes:
        fail(f"{name}: expected the newest {column} at most {max_age_minutes:g} minutes old, found "
             f"{age:.1f} minutes old ({row['newest']})")
    return age


def check_no_rows(session: ReadOnlySession, sql: str, title: str = "query") -> None:
    """A query that must return no rows (each row it returns is a problem): the first rows and the count."""
    __tracebackhide__ = True
    body = sql.strip().rstrip(";").strip()
    if not body:
        raise SuiteError("the query that must return no rows is empty")
    why = refusal(body)  # judged as written, before it is wrapped to count its rows
    if why:
        raise UnsafeOperation(redact(f"refused to send the query to the database {session.where}: {why}.\n"
                                     f"query: {' '.join(body.split())[:300]}"))
    result = query(session, title,
                   f"SELECT q.*, count(*) OVER () AS total_rows FROM (\n{body}\n) q LIMIT {EVIDENCE_ROWS}")
    if result.rows:
        first = " ".join(body.split())
        fail(f"{title}: expected no rows from `{first[:120]}{'...' if len(first) > 120 else ''}`, found "
             f"{_total(result)}", rows_text(_without_total(result)))


def check_counts_by(session: ReadOnlySession, table: str, column: str, bounds: dict[str, tuple[int | None, int | None]]
                    ) -> None:
    """Rows per value of ``column`` (e.g. notifications by status) are within the bounds given per value."""
    __tracebackhide__ = True
    name = relation(session, table)
    col = expression(column)
    counts = {str(k): int(v) for k, v in query(
        session, f"{name} by {column}", f"SELECT ({col})::text AS value, count(*) FROM {name} GROUP BY 1 ORDER BY 1")}
    wrong = []
    for value, (low, high) in bounds.items():
        n = counts.get(value, 0)
        if (low is not None and n < low) or (high is not None and n > high):
            wrong.append(f"{column} = {value}: expected between {low if low is not None else 0} and "
                         f"{high if high is not None else 'any'}, found {n}")
    if wrong:
        fail(f"{name}: expected rows by {column} within bounds, found {wrong[0]}", *wrong[1:])
