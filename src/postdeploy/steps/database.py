"""Database steps (``@data_integrity``): read-only checks of the environment's PostgreSQL, usable on any schema.

Every query runs through one :class:`~postdeploy.sql.ReadOnlySession` per run (per xdist worker): read-only
transactions, statement and lock timeouts, the run's id as ``application_name``. Expected values that differ
between environments (the migration version, roles, bounds, thresholds) come from the ``data_integrity:``
section; connection settings from ``database:``. The steps are thin: each calls a check of
:mod:`postdeploy.database`, which attaches its SQL, parameters and rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_bdd import parsers, then, when

from postdeploy.auth import Sessions
from postdeploy.database import DataIntegrity, agreement, data, health, migrations, plans, schema
from postdeploy.environment import Environment
from postdeploy.errors import AlreadyReported, SuiteError
from postdeploy.plugin.state import unreachable
from postdeploy.safety import guard_for
from postdeploy.sql import ReadOnlySession


def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = datatable
    return [dict(zip([h.strip().lower() for h in header], (c.strip() for c in row))) for row in rows]


def _column(datatable: list[list[str]], *names: str) -> list[str]:
    rows = _table(datatable)
    for name in names:
        if rows and name in rows[0]:
            return [row[name] for row in rows if row[name]]
    raise SuiteError(f"the table needs a column headed {' or '.join(repr(n) for n in names)}")


@pytest.fixture(scope="session")
def database_session(env: Environment, run_id: str) -> Iterator[ReadOnlySession]:
    """One read-only session to the environment's ``database:`` for the run (per worker), closed at its end.

    It connects here, once: a database that cannot be reached is one environment error, raised again (not
    retried, not waited on again) for every scenario that needs it."""
    if "database" in unreachable():  # the preflight found it unreachable and reported it, once
        raise AlreadyReported("the database is unreachable (reported once as an environment error)")
    session = ReadOnlySession(env.section("database"), run_id=run_id, guard=guard_for(env))
    try:
        session.connection()
        yield session
    finally:
        session.close()


@pytest.fixture(scope="session")
def data_expectations(env: Environment) -> DataIntegrity:
    """The environment's ``data_integrity:`` section (its defaults when the file has none)."""
    return env.section("data_integrity") or DataIntegrity()


def _role(expectations: DataIntegrity, role: str) -> tuple[str, str]:
    return expectations.role(role), role


# ---- migrations -----------------------------------------------------------------------------------------

@then("the database migrations are at the expected version and clean")
def _(env: Environment, database_session: ReadOnlySession, data_expectations: DataIntegrity) -> None:
    """Recognise the migration tool from its table (golang-migrate, Alembic, Flyway, Prisma, Django, Rails, node-pg-migrate, Knex, or the table ``data_integrity.migrations`` names) and expect ``data_integrity.migrations.version`` applied, with no dirty flag or failed migration.

    Example: Then the database migrations are at the expected version and clean
    """
    settings = data_expectations.migrations
    if settings.version is None:
        raise SuiteError(f"environment '{env.name}' has no data_integrity.migrations.version: write the migration "
                         "version this release should have applied")
    database = env.section("database")
    if settings.table is None and "migrations_table" in database.model_fields_set:
        settings = settings.model_copy(update={"table": database.migrations_table})
    migrations.check_version(database_session, settings.version, settings)


# ---- schema -----------------------------------------------------------------------------------------------

@then(parsers.parse('the table "{table}" has the columns:'))
def _(database_session: ReadOnlySession, table: str, datatable) -> None:
    """Expect each listed column with its type, nullability (yes/no) and default; a blank cell is not checked, ``(none)`` means no default.

    Example: Then the table "notifications" has the columns:
      | column     | type        | nullable | default           |
      | id         | uuid        | no       | gen_random_uuid() |
      | status     | text        | no       | 'pending'::text   |
      | created_at | timestamptz | no       |                   |
    """
    schema.check_table(database_session, table, _table(datatable))


@then(parsers.parse('the table "{table}" has a valid index on "{columns}"'))
def _(database_session: ReadOnlySession, table: str, columns: str) -> None:
    """Expect an index whose keys are these columns or expressions, in order, valid and ready (``indisvalid``, ``indisready``: a failed ``CREATE INDEX CONCURRENTLY`` is caught).

    Example: Then the table "notifications" has a valid index on "status"
    """
    schema.check_index(database_session, table, columns)


@then(parsers.parse('the table "{table}" has a valid unique index on "{columns}"'))
def _(database_session: ReadOnlySession, table: str, columns: str) -> None:
    """Expect a unique index on these columns or expressions, valid and ready.

    Example: Then the table "notifications" has a valid unique index on "(metadata ->> 'transaction_id'), type"
    """
    schema.check_index(database_session, table, columns, unique=True)


@then(parsers.parse('the index "{index}" is valid and ready'))
def _(database_session: ReadOnlySession, index: str) -> None:
    """Expect the named index to exist, valid and ready.

    Example: Then the index "idx_notifications_status" is valid and ready
    """
    schema.check_named_index(database_session, index)


@then(parsers.parse('the table "{table}" has a {kind} constraint on "{columns}"'))
def _(database_session: ReadOnlySession, table: str, kind: str, columns: str) -> None:
    """Expect a validated constraint of that kind (primary key, unique, check, exclusion) on these columns (a check: whose definition holds this text); a unique index counts as a unique constraint.

    Example: Then the table "users" has a check constraint on "role"
    """
    schema.check_constraint(database_session, table, kind, columns)


@then(parsers.parse('the table "{table}" has a foreign key on "{columns}" referencing "{target}"'))
def _(database_session: ReadOnlySession, table: str, columns: str, target: str) -> None:
    """Expect a validated foreign key on these columns referencing that table.

    Example: Then the table "orders" has a foreign key on "user_id" referencing "users"
    """
    schema.check_constraint(database_session, table, "foreign key", columns, references=target)


@then(parsers.parse('row level security is enabled on "{table}" with the policies "{policies}"'))
def _(database_session: ReadOnlySession, table: str, policies: str) -> None:
    """Expect row level security enabled on the table and each named policy (comma-separated) present.

    Example: Then row level security is enabled on "notifications" with the policies "notifications_app_access"
    """
    schema.check_rls(database_session, table, policies=[p.strip() for p in policies.split(",") if p.strip()])


@then(parsers.parse('row level security is enabled and forced on "{table}"'))
def _(database_session: ReadOnlySession, table: str) -> None:
    """Expect row level security enabled and forced (``FORCE ROW LEVEL SECURITY``: the owner is held to it too).

    Example: Then row level security is enabled and forced on "activity.notifications"
    """
    schema.check_rls(database_session, table, forced=True)


@then("these functions exist:")
def _(database_session: ReadOnlySession, datatable) -> None:
    """Expect every function or procedure of the table's ``signature`` column (``schema.name(type, ...)``) to exist with exactly those argument types.

    Example: Then these functions exist:
      | signature                                          |
      | activity.sp_get_notification_by_id(uuid, uuid)     |
      | activity.sp_mark_notification_as_read(uuid, uuid)  |
    """
    schema.check_functions(database_session, _column(datatable, "signature", "function"))


@then(parsers.parse('the role "{role}" has these privileges:'))
def _(database_session: ReadOnlySession, data_expectations: DataIntegrity, role: str, datatable) -> None:
    """Expect the role (a name of ``data_integrity.roles``, or a database role) to hold each ``privilege`` on each ``object`` of the table (a function with its argument types, ``schema NAME``, or a table).

    Example: Then the role "api" has these privileges:
      | privilege | object                                          |
      | USAGE     | schema activity                                 |
      | EXECUTE   | activity.sp_get_notification_by_id(uuid, uuid)  |
      | SELECT    | notifications                                   |
    """
    real, label = _role(data_expectations, role)
    rows = _table(datatable)
    schema.check_privileges(database_session, real, [(r["privilege"], r["object"]) for r in rows], role_label=label)


@then(parsers.parse('the role "{role}" does not have these privileges:'))
def _(database_session: ReadOnlySession, data_expectations: DataIntegrity, role: str, datatable) -> None:
    """Expect the role to hold none of the listed privileges (least privilege: a read-only role cannot write).

    Example: Then the role "readonly" does not have these privileges:
      | privilege | object        |
      | INSERT    | notifications |
      | DELETE    | orders        |
    """
    real, label = _role(data_expectations, role)
    rows = _table(datatable)
    schema.check_privileges(database_session, real, [(r["privilege"], r["object"]) for r in rows], granted=False,
                            role_label=label)


# ---- data ---------------------------------------------------------------------------------------------------

@then(parsers.parse('no two rows of "{table}" share "{columns}"'))
def _(database_session: ReadOnlySession, table: str, columns: str) -> None:
    """Expect no duplicate over a column, an expression or several (comma-separated); rows where they are NULL are not compared. The failure shows the first duplicated values and how many there are.

    Example: Then no two rows of "notifications" share "metadata->>'transaction_id', type"
    """
    data.check_no_duplicates(database_session, table, columns)


@then(parsers.parse('no row of "{table}" has a NULL "{column}"'))
def _(database_session: ReadOnlySession, table: str, column: str) -> None:
    """Expect the column (or expression) never NULL.

    Example: Then no row of "orders" has a NULL "customer_email"
    """
    data.check_no_nulls(database_session, table, column)


@then(parsers.parse('every "{column}" of "{table}" exists as "{target_column}" in "{target}"'))
def _(database_session: ReadOnlySession, table: str, column: str, target_column: str, target: str) -> None:
    """Expect no orphan: every non-NULL value of the column (or expression) is the key of a row of the target table.

    Example: Then every "metadata->>'transaction_id'" of "notifications" exists as "transaction_id" in "payments"
    """
    data.check_no_orphans(database_session, table, column, target, target_column)


@then(parsers.parse('the table "{table}" holds between {minimum:d} and {maximum:d} rows'))
def _(database_session: ReadOnlySession, table: str, minimum: int, maximum: int) -> None:
    """Expect the row count within the bounds.

    Example: Then the table "notification_configs" holds between 1 and 1 rows
    """
    data.check_row_count(database_session, table, minimum, maximum)


@then(parsers.parse('the table "{table}" holds as many rows as the environment expects'))
def _(env: Environment, database_session: ReadOnlySession, data_expectations: DataIntegrity, table: str) -> None:
    """Expect the row count within ``data_integrity.row_counts.TABLE`` (min, max).

    Example: Then the table "users" holds as many rows as the environment expects
    """
    bounds = data_expectations.row_counts.get(table)
    if bounds is None:
        raise SuiteError(f"environment '{env.name}' has no data_integrity.row_counts entry for {table!r}")
    data.check_row_count(database_session, table, bounds.min, bounds.max)


@then(parsers.parse('the newest "{column}" of "{table}" is at most {minutes:d} minutes old'))
def _(database_session: ReadOnlySession, table: str, column: str, minutes: int) -> None:
    """Expect fresh data: the newest value of the timestamp column is at most that old.

    Example: Then the newest "created_at" of "orders" is at most 60 minutes old
    """
    data.check_fresh(database_session, table, column, minutes)


@then(parsers.parse('the newest "{column}" of "{table}" is as recent as the environment expects'))
def _(env: Environment, database_session: ReadOnlySession, data_expectations: DataIntegrity, table: str,
      column: str) -> None:
    """Expect fresh data: the newest value of the timestamp column at most ``data_integrity.freshness_minutes.TABLE`` minutes old.

    Example: Then the newest "created_at" of "activity.notifications" is as recent as the environment expects
    """
    minutes = data_expectations.freshness_minutes.get(table)
    if minutes is None:
        raise SuiteError(f"environment '{env.name}' has no data_integrity.freshness_minutes entry for {table!r}")
    data.check_fresh(database_session, table, column, minutes)


@then(parsers.parse('the rows of "{table}" by "{column}" are within:'))
def _(database_session: ReadOnlySession, table: str, column: str, datatable) -> None:
    """Expect the number of rows per value of the column within the table's ``min`` and ``max`` (a blank bound is open).

    Example: Then the rows of "notifications" by "status" are within:
      | value  | min | max |
      | failed |     | 5   |
      | sent   | 1   |     |
    """
    bounds = {}
    for row in _table(datatable):
        low, high = row.get("min", ""), row.get("max", "")
        bounds[row["value"]] = (int(low) if low else None, int(high) if high else None)
    data.check_counts_by(database_session, table, column, bounds)


@then(parsers.parse('the rows of "{table}" by "{column}" are within the environment\'s bounds'))
def _(env: Environment, database_session: ReadOnlySession, data_expectations: DataIntegrity, table: str,
      column: str) -> None:
    """Expect the number of rows per value of the column within ``data_integrity.counts_by.TABLE.COLUMN`` (value: min, max).

    Example: Then the rows of "notifications" by "status" are within the environment's bounds
    """
    bounds = data_expectations.counts_by.get(table, {}).get(column)
    if not bounds:
        raise SuiteError(f"environment '{env.name}' has no data_integrity.counts_by.{table}.{column} bounds")
    data.check_counts_by(database_session, table, column, {value: (b.min, b.max) for value, b in bounds.items()})


@then("this query returns no rows:")
def _(database_session: ReadOnlySession, docstring: str) -> None:
    '''Run the reading query of the doc string; every row it returns is a problem (the first rows and the count are shown).

    Example: Then this query returns no rows:
      """
      SELECT id, status FROM orders WHERE status = 'paid' AND paid_at IS NULL
      """
    '''
    data.check_no_rows(database_session, docstring)


# ---- query plans ------------------------------------------------------------------------------------------------

@then(parsers.parse('the plan of the query "{name}" reads its large tables through indexes'))
def _(env: Environment, database_session: ReadOnlySession, data_expectations: DataIntegrity, name: str) -> None:
    """``EXPLAIN`` (never ``ANALYZE``) the query ``data_integrity.queries.NAME`` and expect no sequential scan on a table estimated above ``data_integrity.seq_scan_max_rows`` rows; the plan is attached.

    Example: Then the plan of the query "payments_of_an_order" reads its large tables through indexes
    """
    sql = data_expectations.queries.get(name)
    if sql is None:
        known = ", ".join(data_expectations.queries) or "none"
        raise SuiteError(f"environment '{env.name}' has no data_integrity.queries entry {name!r} (it has: {known})")
    plans.check_uses_indexes(database_session, sql, data_expectations.seq_scan_max_rows, name)


# ---- health ---------------------------------------------------------------------------------------------------

@then("database connections in use stay below the expected share")
def _(database_session: ReadOnlySession, data_expectations: DataIntegrity) -> None:
    """Expect connections below ``data_integrity.max_connection_share`` of ``max_connections`` (minus reserved slots), and those of the ``api`` role (``data_integrity.roles``) below that share of ``data_integrity.pool_size`` when set.

    Example: Then database connections in use stay below the expected share
    """
    health.check_connections(database_session, data_expectations.max_connection_share, data_expectations.pool_size,
                             data_expectations.roles.get("api"))


@then("no database query has run longer than expected")
def _(database_session: ReadOnlySession, data_expectations: DataIntegrity) -> None:
    """Expect no statement running longer than ``data_integrity.long_running_query_s`` (inconclusive when the role cannot see other sessions: grant it ``pg_monitor``).

    Example: Then no database query has run longer than expected
    """
    health.check_no_long_queries(database_session, data_expectations.long_running_query_s)


@then("no database session is blocked by another")
def _(database_session: ReadOnlySession) -> None:
    """Expect no session waiting on a lock another holds.

    Example: Then no database session is blocked by another
    """
    health.check_no_blocking(database_session)


@then("database statements are faster on average than expected")
def _(database_session: ReadOnlySession, data_expectations: DataIntegrity) -> None:
    """Expect every ``pg_stat_statements`` mean time under ``data_integrity.slow_query_mean_ms`` (inconclusive, with the reason, without the extension).

    Example: Then database statements are faster on average than expected
    """
    health.check_statement_times(database_session, data_expectations.slow_query_mean_ms)


@then("database replicas are not further behind than expected")
def _(database_session: ReadOnlySession, data_expectations: DataIntegrity) -> None:
    """Expect every replica at most ``data_integrity.replication_lag_s`` behind (on a primary: ``pg_stat_replication``; on a replica: the age of its last replayed transaction). A server without replicas passes.

    Example: Then database replicas are not further behind than expected
    """
    health.check_replication_lag(database_session, data_expectations.replication_lag_s)


# ---- the API and the database agree ----------------------------------------------------------------------

@pytest.fixture
def agreement_result() -> agreement.AgreementResult:
    raise SuiteError("this step judges sampled records, but none were sampled: 'When I sample the \"...\" records "
                     "and ask the API about each' must come before it (the feature is wrong, not the target)")


@when(parsers.parse('I sample the "{name}" records and ask the API about each'), target_fixture="agreement_result")
def _(env: Environment, database_session: ReadOnlySession, data_expectations: DataIntegrity, service_client,
      sessions: Sessions, name: str) -> agreement.AgreementResult:
    """Draw records from the rows of ``data_integrity.agreements.NAME``'s query with Hypothesis (at most its ``examples``, from at most ``pool`` rows; the seed is in the result) and ask its ``path`` on its ``service`` about each, as its ``account`` or as the account whose username is in its ``account_column``.

    Example: When I sample the "order_totals" records and ask the API about each
    """
    spec = data_expectations.agreements.get(name)
    if spec is None:
        known = ", ".join(data_expectations.agreements) or "none"
        raise SuiteError(f"environment '{env.name}' has no data_integrity.agreements.{name} (it has: {known})")
    client = service_client(spec.service)

    def ask(row, account):
        headers = list(sessions.credentials(account).headers) if account else []
        return client.request("GET", spec.path.format(**{k: row[k] for k in spec.path_columns}), headers=headers,
                              attach=False)

    usernames = {str(env.account(a).username or "").casefold(): a for a in env.accounts} if spec.account_column else {}
    return agreement.compare(name, spec, database_session, ask, usernames)


@then("the API agrees with the database on every sampled record")
def _(agreement_result: agreement.AgreementResult) -> None:
    """Every sampled record was answered 2xx with each compared value equal to the database's (numbers by value, UUIDs and instants by meaning); a disagreement names the record, the column, both values and the seed that drew it.

    Example: Then the API agrees with the database on every sampled record
    """
    agreement.check_agreement(agreement_result)
