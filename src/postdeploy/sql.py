"""Read-only SQL sessions: the database client of every family (DESIGN principle 4, one safety model).

A check reads a production database; it must never write to it, lock it up or slow it down. Four layers,
any one of which is enough to stop a write, so that a mistake in one (a role granted too much, a query
that calls a function with side effects) is caught by another:

1. **the statement**: one statement per query, and it must read: ``SELECT``, ``WITH``, ``SHOW``, ``EXPLAIN``
   (never ``ANALYZE``, which runs the statement), ``VALUES``, ``TABLE``; no call of a function that acts on the
   server (``pg_terminate_backend``, ``set_config``, ``nextval``, ``dblink``, large objects, advisory locks,
   ...). Comments, string literals and dollar quotes are read as PostgreSQL reads them, so a keyword inside
   a string is harmless and a write behind a comment is seen. A refused query is never sent:
   :class:`~postdeploy.errors.UnsafeOperation` (a *suite error*: the feature asked for a write);
2. **the session**: ``default_transaction_read_only=on``, and every query runs in a ``BEGIN READ ONLY``
   transaction that is rolled back, so PostgreSQL itself refuses a write however it is reached (a function
   that inserts, a data-modifying CTE);
3. **the timeouts**: ``statement_timeout`` (``database.statement_timeout_ms``) and ``lock_timeout``
   (``database.lock_timeout_ms``) set at connection, so a check never holds a lock a migration waits on for
   long and never waits on one itself: a query that runs out of time or waits on a lock is *inconclusive*
   (the target's state was not read), not a defect; ``idle_in_transaction_session_timeout`` too;
4. **the role**: the environment should name a role that can only read (the sandbox's
   ``postdeploy_readonly``); :meth:`ReadOnlySession.role_can_write` tells whether it can do more.

Each session is named ``postdeploy <run id>`` (``application_name``), so a DBA sees in ``pg_stat_activity``
who is reading, and counts its queries against ``safety.max_requests`` under the service name ``database``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from .errors import (
    CheckFailed,
    EnvironmentProblem,
    Inconclusive,
    SuiteError,
    UnsafeOperation,
)
from .redact import redact

if TYPE_CHECKING:
    import psycopg

    from .environment import Database
    from .safety import Guard

#: the first keyword of a statement that only reads
READING_STATEMENTS = ("select", "with", "show", "explain", "values", "table")

#: functions that act on the server, its sessions, files or sequences even inside a read-only transaction
#: (or that would lift the session's limits); matched as ``name(`` outside strings and comments
ACTING_FUNCTIONS = (
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
    "pg_switch_wal", "pg_create_restore_point", "pg_start_backup", "pg_stop_backup", "pg_backup_start",
    "pg_backup_stop", "pg_create_physical_replication_slot", "pg_create_logical_replication_slot",
    "pg_drop_replication_slot", "pg_replication_origin_create", "pg_stat_reset", "pg_stat_statements_reset",
    "set_config", "nextval", "setval", "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_from_bytea",
    "lo_put", "dblink", "dblink_exec", "dblink_connect", "pg_file_write", "pg_file_unlink", "pg_file_rename",
    "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "pg_notify", "pg_sleep_for", "pg_sleep_until",
)

_ACTING = re.compile(r"\b(" + "|".join(ACTING_FUNCTIONS) + r")\s*\(", re.IGNORECASE)
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


class QueryTimedOut(Inconclusive):
    """The query ran past ``database.statement_timeout_ms`` and was cancelled: the state was not read."""


class LockWaitTimedOut(Inconclusive):
    """The query waited past ``database.lock_timeout_ms`` for a lock another session holds: not read."""


def code_only(sql: str) -> str:
    """The statement with comments, string literals, dollar-quoted bodies and quoted identifiers blanked out
    (each replaced by a space, identifiers by their text), as PostgreSQL's lexer delimits them."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif sql.startswith("/*", i):  # block comments nest in PostgreSQL
            depth, i = 1, i + 2
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c == "'":
            escapes = i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
            i += 1
            while i < n:
                if escapes and sql[i] == "\\" or sql[i] == "'" and sql.startswith("''", i):
                    i += 2
                elif sql[i] == "'":
                    i += 1
                    break
                else:
                    i += 1
            out.append(" ")
        elif c == '"':
            end = i + 1
            while end < n:
                if sql.startswith('""', end):
                    end += 2
                elif sql[end] == '"':
                    break
                else:
                    end += 1
            out.append(" " + sql[i + 1:end].replace('""', '"') + " ")
            i = end + 1
        elif c == "$" and (tag := _DOLLAR_TAG.match(sql, i)) and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            close = sql.find(tag.group(0), tag.end())
            i = n if close < 0 else close + len(tag.group(0))
            out.append(" ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def refusal(sql: str) -> str | None:
    """Why this query may not be sent by a read-only check, or None when it only reads."""
    code = code_only(sql).strip()
    statements = [s.strip() for s in code.split(";") if s.strip()]
    if not statements:
        return "the query is empty"
    if len(statements) > 1:
        return f"the query holds {len(statements)} statements; a check sends one statement per query"
    statement = statements[0]
    first = re.match(r"[A-Za-z]+", statement.lstrip("( \t\r\n"))
    keyword = first.group(0).lower() if first else statement[:12]
    if keyword not in READING_STATEMENTS:
        return (f"'{keyword.upper()}' is not a reading statement; a check may send only "
                f"{', '.join(k.upper() for k in READING_STATEMENTS)}")
    if keyword == "explain" and re.match(r"explain\s*(\([^)]*\banalyze\b|analyze\b)", statement, re.IGNORECASE):
        return "EXPLAIN ANALYZE runs the statement it explains; a check uses EXPLAIN without ANALYZE"
    if keyword in ("select", "with", "values", "table") and re.search(r"\binto\b", statement, re.IGNORECASE):
        return "SELECT ... INTO creates a table; a check only reads"
    if keyword == "with" and re.search(r"\b(insert|update|delete|merge)\b", statement, re.IGNORECASE):
        return "the WITH query modifies data (INSERT, UPDATE, DELETE or MERGE in a CTE); a check only reads"
    if keyword in ("select", "with") and re.search(r"\bfor\s+(update|no\s+key\s+update|share|key\s+share)\b",
                                                    statement, re.IGNORECASE):
        return "SELECT ... FOR UPDATE/SHARE locks rows; a check reads without taking row locks"
    acting = _ACTING.search(statement)
    if acting:
        return f"the query calls {acting.group(1)}(), which acts on the server; a check only reads"
    return None


@dataclass(frozen=True)
class Result:
    """The rows a query returned, with its column names, for messages and evidence tables."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def scalar(self) -> Any:
        """The one value of a one-row, one-column result."""
        return self.rows[0][0] if self.rows and self.rows[0] else None


class ReadOnlySession:
    """One read-only connection to the environment's database, opened on first use, shared by a run's checks.

    ``database`` is the environment's typed ``database`` section; ``guard`` (optional) counts each query
    against the run's budget under the service name ``database``.
    """

    SERVICE = "database"

    def __init__(self, database: Database, *, run_id: str = "", guard: Guard | None = None,
                 connect_timeout_s: int = 10) -> None:
        self.database = database
        self.run_id = run_id
        self.guard = guard
        self.connect_timeout_s = connect_timeout_s
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()
        self.queries = 0

    # -- the connection ---------------------------------------------------------------------------------

    @property
    def where(self) -> str:
        """The database as a person names it (host, port, database name; never the password)."""
        from psycopg.conninfo import conninfo_to_dict

        try:
            info = conninfo_to_dict(str(self.database.dsn))
        except Exception:  # noqa: BLE001 - a DSN psycopg cannot read is reported when connecting
            return "the environment's database"
        host = info.get("host") or "localhost"
        return f"{info.get('dbname') or '(default database)'} on {host}:{info.get('port') or 5432}"

    def _options(self) -> str:
        statement = self.database.statement_timeout_ms
        lock = self.database.lock_timeout_ms
        idle = max(statement * 2, 10_000)
        return (f"-c default_transaction_read_only=on -c statement_timeout={statement} "
                f"-c lock_timeout={lock} -c idle_in_transaction_session_timeout={idle}")

    def connection(self) -> psycopg.Connection:
        import psycopg

        if self._conn is not None and not self._conn.closed:
            return self._conn
        name = f"postdeploy {self.run_id}".strip()[:63]
        try:
            conn = psycopg.connect(str(self.database.dsn), options=self._options(), application_name=name,
                                   connect_timeout=self.connect_timeout_s, autocommit=False)
        except psycopg.OperationalError as exc:
            raise EnvironmentProblem(redact(
                f"could not connect to the database {self.where}: {_first_line(exc)}. Check database.dsn in "
                "the environment file (host, port, user, password) and that this machine may reach it."
            )) from None
        conn.read_only = True  # every transaction psycopg opens is BEGIN READ ONLY
        self._conn = conn
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Result:
        """Run one reading statement in a read-only transaction (rolled back) and return its rows."""
        import psycopg
        from psycopg import errors as pg

        why = refusal(sql)
        if why:
            raise UnsafeOperation(redact(f"refused to send the query to the database {self.where}: {why}.\n"
                                         f"query: {_short(sql)}"))
        if self.guard is not None:
            self.guard.spend(self.SERVICE, "query")
        with self._lock:
            conn = self.connection()
            self.queries += 1
            try:
                with conn.cursor() as cur:
                    # params=() or a mapping: the extended protocol, which also refuses a second statement
                    cur.execute(sql, params if params is not None else (), prepare=False)
                    columns = tuple(d.name for d in cur.description or ())
                    rows = tuple(tuple(r) for r in cur.fetchall()) if cur.description else ()
                return Result(columns, rows)
            except pg.QueryCanceled:
                raise QueryTimedOut(
                    f"inconclusive: the query ran longer than database.statement_timeout_ms "
                    f"({self.database.statement_timeout_ms} ms) on {self.where} and was cancelled, so the state "
                    f"was not read. query: {_short(sql)}") from None
            except pg.LockNotAvailable:
                raise LockWaitTimedOut(
                    f"inconclusive: the query waited longer than database.lock_timeout_ms "
                    f"({self.database.lock_timeout_ms} ms) for a lock another session holds on {self.where} "
                    f"(a migration or a long transaction?), so the state was not read. query: {_short(sql)}"
                ) from None
            except pg.ReadOnlySqlTransaction as exc:
                raise UnsafeOperation(redact(
                    f"the database {self.where} refused a write in the check's read-only transaction "
                    f"({_first_line(exc)}): the query writes, for instance through a function it calls. "
                    f"query: {_short(sql)}")) from None
            except pg.InsufficientPrivilege as exc:
                raise EnvironmentProblem(redact(
                    f"the database role of database.dsn may not read what the query reads on {self.where} "
                    f"({_first_line(exc)}); grant it SELECT (and USAGE on the schema). query: {_short(sql)}"
                )) from None
            except (pg.SyntaxError, pg.UndefinedFunction, pg.UndefinedParameter, pg.DatatypeMismatch,
                    pg.AmbiguousColumn, pg.GroupingError) as exc:
                raise SuiteError(redact(f"the query cannot run as written ({_first_line(exc)}); fix it in the "
                                        f"feature or step. query: {_short(sql)}")) from None
            except (pg.UndefinedTable, pg.UndefinedColumn, pg.InvalidSchemaName) as exc:
                raise CheckFailed(redact(
                    f"expected the objects the query reads to exist on {self.where}; {_first_line(exc)} "
                    f"(a migration that did not run, or a name misspelled in the feature). query: {_short(sql)}"
                )) from None
            except psycopg.OperationalError as exc:
                self.close()
                raise EnvironmentProblem(redact(
                    f"the connection to the database {self.where} failed during a query: {_first_line(exc)}"
                )) from None
            finally:
                if not conn.closed:
                    conn.rollback()

    def role_can_write(self) -> list[str]:
        """The tables of the database the session's role could write (INSERT, UPDATE or DELETE), first 20."""
        rows = self.query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables t "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND ("
            "has_table_privilege(quote_ident(table_schema) || '.' || quote_ident(table_name), 'INSERT') OR "
            "has_table_privilege(quote_ident(table_schema) || '.' || quote_ident(table_name), 'UPDATE') OR "
            "has_table_privilege(quote_ident(table_schema) || '.' || quote_ident(table_name), 'DELETE')) "
            "ORDER BY 1 LIMIT 20")
        return [r[0] for r in rows]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _short(sql: str, limit: int = 300) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."
