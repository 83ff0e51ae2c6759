"""The database's health as its statistics views show it: connections in use, long-running queries, blocked
and blocking sessions, and statement times from ``pg_stat_statements`` when the extension is there.

``pg_stat_activity`` hides other roles' queries and their start times from a role without ``pg_read_all_stats``
(``pg_monitor`` includes it): a check that needs them says so and is inconclusive rather than passing blind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Inconclusive
from ._query import EVIDENCE_ROWS, fail, query, rows_text

if TYPE_CHECKING:
    from ..sql import ReadOnlySession


def connections(session: ReadOnlySession) -> dict[str, int]:
    """Connections to the server (``pg_stat_database.numbackends``, which any role may read), its
    ``max_connections`` and its reserved superuser slots."""
    return query(session, "connections in use",
                 "SELECT (SELECT sum(numbackends) FROM pg_stat_database)::int AS in_use, "
                 "current_setting('max_connections')::int AS max_connections, "
                 "current_setting('superuser_reserved_connections')::int AS reserved").dicts()[0]


def check_connections(session: ReadOnlySession, max_share: float, pool_size: int | None = None,
                      pool_role: str | None = None) -> float:
    """Connections in use are below ``max_share`` of what ordinary roles may open (``max_connections`` minus the
    reserved slots) and, when ``pool_size`` is given, the connections of ``pool_role`` (the application's role;
    all connections without it) below that share of the pool too. Returns the server's share."""
    __tracebackhide__ = True
    row = connections(session)
    usable = max(row["max_connections"] - row["reserved"], 1)
    share = row["in_use"] / usable
    if share >= max_share:
        by = query(session, "connections by application and state",
                   "SELECT usename AS role, application_name, state, count(*) AS connections FROM pg_stat_activity "
                   "WHERE datid IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT %s", (EVIDENCE_ROWS,))
        fail(f"database connections: expected fewer than {max_share:.0%} of {usable} usable connections in use, found "
             f"{row['in_use']} ({share:.0%})", rows_text(by))
    if pool_size is not None:
        held = row["in_use"] if pool_role is None else query(
            session, f"connections of {pool_role}", "SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
            (pool_role,)).scalar()
        if held >= max_share * pool_size:
            who = f" by {pool_role}" if pool_role else ""
            fail(f"database connections: expected fewer than {max_share:.0%} of the declared pool of {pool_size} in "
                 f"use{who}, found {held}")
    return share


def _sees_everything(session: ReadOnlySession) -> bool:
    return bool(query(session, "may read every session's activity",
                      "SELECT r.rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') "
                      "FROM pg_roles r WHERE r.rolname = current_user", attach_rows=False).scalar())


def check_no_long_queries(session: ReadOnlySession, max_seconds: float) -> None:
    """No session (but the check's own) has run its current statement for longer than ``max_seconds``."""
    __tracebackhide__ = True
    result = query(session, f"queries running longer than {max_seconds:g} s",
                   "SELECT pid, usename AS role, application_name, state, "
                   "round(extract(epoch FROM now() - query_start)::numeric, 1) AS running_s, left(query, 200) AS query, "
                   "count(*) OVER () AS total FROM pg_stat_activity "
                   "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state NOT IN ('idle') "
                   "AND query_start < now() - make_interval(secs => %s) ORDER BY query_start LIMIT %s",
                   (max_seconds, EVIDENCE_ROWS))
    if result.rows:
        first = result.dicts()[0]
        fail(f"database queries: expected none running longer than {max_seconds:g} s, found {first['total']}, the "
             f"longest {first['running_s']} s (pid {first['pid']}, {first['role']}, {first['state']})",
             rows_text(result))
    if not _sees_everything(session):
        hidden = query(session, "sessions whose activity the role cannot see",
                       "SELECT count(*) FROM pg_stat_activity WHERE datid IS NOT NULL AND query_start IS NULL "
                       "AND pid <> pg_backend_pid()").scalar()
        if hidden:
            raise Inconclusive(f"inconclusive: the role of database.dsn cannot see what {hidden} other session(s) run "
                               "or since when; grant it pg_monitor (or pg_read_all_stats) to check long-running "
                               "queries")


def check_no_blocking(session: ReadOnlySession) -> None:
    """No session waits on a lock another session holds (``pg_blocking_pids``)."""
    __tracebackhide__ = True
    result = query(session, "blocked sessions",
                   "SELECT pid, usename AS role, application_name, pg_blocking_pids(pid) AS blocked_by, wait_event_type, "
                   "round(extract(epoch FROM now() - query_start)::numeric, 1) AS waiting_s, left(query, 200) AS query, "
                   "count(*) OVER () AS total FROM pg_stat_activity "
                   "WHERE cardinality(pg_blocking_pids(pid)) > 0 ORDER BY pid LIMIT %s", (EVIDENCE_ROWS,))
    if result.rows:
        first = result.dicts()[0]
        fail(f"database locks: expected no blocked session, found {first['total']} (pid {first['pid']} blocked by "
             f"{', '.join(str(p) for p in first['blocked_by'])})", rows_text(result))


def check_statement_times(session: ReadOnlySession, max_mean_ms: float, pattern: str = "%") -> None:
    """Every statement ``pg_stat_statements`` recorded (those whose text is ``LIKE pattern``) has a mean time
    under ``max_mean_ms``. Without the extension the check is inconclusive and says why."""
    __tracebackhide__ = True
    schema = query(session, "pg_stat_statements installed",
                   "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                   "WHERE e.extname = 'pg_stat_statements'").scalar()
    if schema is None:
        raise Inconclusive("inconclusive: the extension pg_stat_statements is not installed in the database "
                           f"{session.where} (CREATE EXTENSION pg_stat_statements, with it in "
                           "shared_preload_libraries), so statement times cannot be read")
    loaded = query(session, "pg_stat_statements loaded",
                   "SELECT 'pg_stat_statements' = ANY(string_to_array(replace(current_setting("
                   "'shared_preload_libraries'), ' ', ''), ','))").scalar()
    if not loaded:
        raise Inconclusive("inconclusive: pg_stat_statements is installed but not in shared_preload_libraries, so "
                           "it records nothing")
    result = query(session, f"statements slower than {max_mean_ms:g} ms on average",
                   f"SELECT round(s.mean_exec_time::numeric, 1) AS mean_ms, s.calls, left(s.query, 200) AS query, "
                   f"count(*) OVER () AS total FROM {schema}.pg_stat_statements s "
                   "WHERE s.mean_exec_time > %s AND s.query LIKE %s ORDER BY s.mean_exec_time DESC LIMIT %s",
                   (max_mean_ms, pattern, EVIDENCE_ROWS))
    if result.rows:
        first = result.dicts()[0]
        fail(f"statement times: expected every mean under {max_mean_ms:g} ms, found {first['total']} statement(s) "
             f"above, the slowest {first['mean_ms']} ms over {first['calls']} calls: {first['query'][:80]}",
             rows_text(result))


def check_replication_lag(session: ReadOnlySession, max_seconds: float) -> float | None:
    """Replicas are at most ``max_seconds`` behind. On a primary: ``pg_stat_replication``'s ``replay_lag`` of each
    replica (no replica: nothing to check, None). On a replica: the age of the last transaction it replayed (which
    also grows while the primary writes nothing). Returns the largest lag seen, in seconds."""
    __tracebackhide__ = True
    replica = query(session, "is this a replica", "SELECT pg_is_in_recovery()").scalar()
    if replica:
        lag = query(session, "replay lag of this replica",
                    "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").scalar()
        if lag is None:
            raise Inconclusive("inconclusive: this replica has replayed no transaction yet, so its lag is unknown")
        if lag > max_seconds:
            fail(f"replication: expected this replica at most {max_seconds:g} s behind, found {lag:.1f} s since the "
                 "last replayed transaction")
        return lag
    result = query(session, "replicas and their lag",
                   "SELECT application_name, client_addr::text, state, "
                   "extract(epoch FROM replay_lag)::float8 AS replay_lag_s FROM pg_stat_replication ORDER BY 4 DESC "
                   "NULLS LAST")
    if not result.rows:
        return None
    rows = result.dicts()
    if all(r["state"] is None for r in rows):
        raise Inconclusive(f"inconclusive: {len(rows)} replica(s) stream from this server, but the role of "
                           "database.dsn cannot see their lag; grant it pg_monitor")
    behind = [r for r in rows if (r["replay_lag_s"] or 0) > max_seconds]
    if behind:
        first = behind[0]
        fail(f"replication: expected every replica at most {max_seconds:g} s behind, found {len(behind)} behind, "
             f"{first['application_name'] or first['client_addr']} by {first['replay_lag_s']:.1f} s", rows_text(result))
    return max((r["replay_lag_s"] or 0.0) for r in rows)
