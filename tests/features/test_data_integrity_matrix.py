"""The @data_integrity family proven against a real PostgreSQL (the sandbox's), fault by fault.

One sandbox serves the whole module. Each fault of ``faults/data_integrity.py`` is a database change made as
the sandbox's superuser (``state.json``'s ``database.dsn``) and undone after its run; faults that fail
different scenarios are applied together and proven by one run of ``pytest --env=local -m data_integrity``
(every scenario a fault names fails at its step, with its verdict kind and message; every other one passes),
which keeps the module to a few runs on two cores. Before them, a healthy run passes and writes nothing, as
the database's own statistics show; and the checks the features cannot show against the sandbox
(long-running queries, pg_stat_statements) are proven on the library.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from faults import assert_fails_exactly
from faults.data_integrity import FAULTS, DatabaseFault
from harness import ROOT, run_features

from postdeploy.database import health, schema
from postdeploy.environment import Database
from postdeploy.errors import CheckFailed, Inconclusive
from postdeploy.sql import ReadOnlySession
from sandbox import launcher

FAULT_VARIABLES = ("SANDBOX_FAULTS", "CORS_ORIGINS", "ENABLE_DOCS", "DEBUG", "MAINTENANCE_MODE", "SMTP_PORT",
                   "SMTP_HOST")


def rounds(faults: list[DatabaseFault]) -> list[list[DatabaseFault]]:
    """Faults grouped so that no two of a group fail the same scenario or set the same environment field."""
    groups: list[list[DatabaseFault]] = []
    for fault in faults:
        for group in groups:
            scenarios = {name for f in group for name in f.failures}
            fields = {key for f in group for key in f.environment}
            if not scenarios & set(fault.failures) and not fields & set(fault.environment):
                group.append(fault)
                break
        else:
            groups.append([fault])
    return groups


ROUNDS = rounds(FAULTS)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Path]:
    state = Path(tempfile.mkdtemp(prefix="pd-data-integrity-"))
    try:
        launcher.start(state, env={k: v for k, v in os.environ.items() if k not in FAULT_VARIABLES})
        yield state
    finally:
        launcher.stop(state)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="module")
def dsns(sandbox) -> dict[str, str]:
    database = json.loads((sandbox / "state.json").read_text())["database"]
    return {"admin": database["dsn"], "readonly": database["readonly_dsn"]}


def writes(admin_dsn: str) -> tuple[int, int, int]:
    """Rows inserted, updated and deleted in the sandbox's tables since it started (the statistics views)."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        return conn.execute("SELECT coalesce(sum(n_tup_ins), 0)::bigint, coalesce(sum(n_tup_upd), 0)::bigint, "
                            "coalesce(sum(n_tup_del), 0)::bigint FROM pg_stat_user_tables").fetchone()


@contextmanager
def sessions_held(admin_dsn: str, statements: tuple[str, ...]) -> Iterator[None]:
    """The first statement runs in an open transaction that holds what it took; each next one in a session of
    its own, in a thread (it may wait on the first); all released and closed afterwards."""
    if not statements:
        yield
        return
    holder = psycopg.connect(admin_dsn)
    holder.execute(statements[0])
    waiters, threads = [], []
    for statement in statements[1:]:
        conn = psycopg.connect(admin_dsn, autocommit=True)
        waiters.append(conn)
        threads.append(threading.Thread(target=conn.execute, args=(statement,), daemon=True))
        threads[-1].start()
    try:
        deadline = time.monotonic() + 10
        with psycopg.connect(admin_dsn, autocommit=True) as probe:
            while probe.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                ).fetchone()[0] < len(waiters) and time.monotonic() < deadline:
                time.sleep(0.1)
        yield
    finally:
        holder.rollback()
        holder.close()
        for thread in threads:
            thread.join(10)
        for conn in waiters:
            conn.close()


@contextmanager
def applied(admin_dsn: str, faults: list[DatabaseFault]) -> Iterator[None]:
    """The faults' changes made as the superuser, and undone afterwards (in reverse order)."""
    done: list[DatabaseFault] = []
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        try:
            for fault in faults:
                for statement in fault.sql:
                    conn.execute(statement)
                done.append(fault)
            with sessions_held(admin_dsn, tuple(s for f in faults for s in f.sessions)):
                yield
        finally:
            for fault in reversed(done):
                for statement in fault.undo:
                    conn.execute(statement)


def environment_dir(base: Path, faults: list[DatabaseFault]) -> Path | None:
    """local.yaml with the faults' data_integrity fields changed, or None when no fault changes it."""
    fields = {key: value for fault in faults for key, value in fault.environment.items()}
    if not fields:
        return None
    text = (ROOT / "environments" / "local.yaml").read_text()
    for key, value in fields.items():
        text, n = re.subn(rf"(?m)^(  {key}:) *[^ #\n]+", rf"\g<1> {value}", text)
        assert n == 1, f"local.yaml has no data_integrity.{key} to change"
    base.mkdir()
    (base / "local.yaml").write_text(text)
    return base


def test_a_healthy_database_passes_and_a_family_run_writes_nothing(sandbox, dsns, tmp_path):
    before = writes(dsns["admin"])
    run = run_features(sandbox, tmp_path / "reports", "--env=local", "-m", "data_integrity")
    assert_fails_exactly({}, run)
    assert run.returncode == 0 and len(run.passed) >= 15, run.output[-3000:]
    time.sleep(0.5)  # the run's session flushed its statistics when it closed
    assert writes(dsns["admin"]) == before


@pytest.mark.parametrize("faults", ROUNDS, ids=["+".join(f.id for f in group) for group in ROUNDS])
def test_each_fault_fails_exactly_its_steps(sandbox, dsns, tmp_path, faults: list[DatabaseFault]):
    expected = {name: failure for fault in faults for name, failure in fault.failures.items()}
    with applied(dsns["admin"], faults):
        run = run_features(sandbox, tmp_path / "reports", "--env=local", "-m", "data_integrity",
                           env_dir=environment_dir(tmp_path / "environments", faults))
    assert_fails_exactly(expected, run)
    assert run.returncode == 1


def test_every_fault_is_undone(dsns):
    """The faults' undo restores what the healthy features check (so the module's runs do not leak)."""
    with ReadOnlySession(Database(dsn=dsns["readonly"])) as db:
        schema.check_index(db, "notifications", "status")
        schema.check_index(db, "notifications", "metadata->>'transaction_id', type", unique=True)
        schema.check_rls(db, "notifications", policies=["notifications_app_access"])
        assert db.query("SELECT version, dirty FROM schema_migrations").rows == ((11, False),)


# ---- what the sandbox's features cannot show: checks on the library -----------------------------------------

def test_a_long_running_query_is_seen_by_a_role_that_may_see_it(dsns):
    sleeper = psycopg.connect(dsns["admin"], autocommit=True)
    thread = threading.Thread(target=sleeper.execute, args=("SELECT pg_sleep(3)",), daemon=True)
    thread.start()
    try:
        time.sleep(1.5)
        with (ReadOnlySession(Database(dsn=dsns["admin"])) as db,
              pytest.raises(CheckFailed, match=r"database queries: expected none running longer than 1 s, found 1")):
            health.check_no_long_queries(db, 1)
        with (ReadOnlySession(Database(dsn=dsns["readonly"])) as db,
              pytest.raises(Inconclusive, match="grant it pg_monitor")):
            health.check_no_long_queries(db, 1)
    finally:
        thread.join(10)
        sleeper.close()


def test_a_large_table_read_through_its_index_passes_the_plan_check(dsns):
    from faults.data_integrity import MANY_PAYMENTS

    from postdeploy.database import plans

    with psycopg.connect(dsns["admin"], autocommit=True) as admin:
        admin.execute(MANY_PAYMENTS)
        admin.execute("ANALYZE payments")
        try:
            with ReadOnlySession(Database(dsn=dsns["readonly"])) as db:
                plans.check_uses_indexes(db, "SELECT id FROM payments WHERE order_id = "
                                             "'00000000-0000-0000-0000-000000000000'", 10_000)
                with pytest.raises(CheckFailed, match="found a sequential scan on public.payments"):
                    plans.check_uses_indexes(db, "SELECT count(*) FROM payments WHERE amount_cents = 1", 10_000)
        finally:
            admin.execute("DELETE FROM payments WHERE transaction_id LIKE 'fault-plan-%'")
            admin.execute("ANALYZE payments")


def test_a_primary_without_replicas_has_no_replication_lag(dsns):
    with ReadOnlySession(Database(dsn=dsns["readonly"])) as db:
        assert health.check_replication_lag(db, 30) is None


def test_statement_times_without_pg_stat_statements_are_inconclusive_with_the_reason(dsns):
    with (ReadOnlySession(Database(dsn=dsns["readonly"])) as db,
          pytest.raises(Inconclusive, match="pg_stat_statements is not installed")):
        health.check_statement_times(db, 500)


def test_checks_through_a_role_that_may_write_still_write_nothing(dsns):
    """The superuser's DSN in a ReadOnlySession: every kind of check runs, nothing is written."""
    from postdeploy.database import data, migrations

    before = writes(dsns["admin"])
    with ReadOnlySession(Database(dsn=dsns["admin"])) as db:
        migrations.check_version(db, "11")
        schema.check_table(db, "users", [{"column": "staff_notifications_enabled", "type": "boolean"}])
        schema.check_functions(db, ["activity.sp_get_notification_settings(uuid)"])  # a function that writes
        data.check_no_duplicates(db, "notifications", "metadata->>'transaction_id', type")
        data.check_no_orphans(db, "notifications", "metadata->>'transaction_id'", "payments", "transaction_id")
        health.check_connections(db, 0.8)
        health.check_no_blocking(db)
    time.sleep(0.5)
    assert writes(dsns["admin"]) == before


# ---- the migration tools, each from a table as the tool writes it ---------------------------------------------

TOOLS = {
    "golang-migrate": ("schema_migrations", "CREATE TABLE {t} (version bigint PRIMARY KEY, dirty boolean NOT NULL)",
                       "INSERT INTO {t} VALUES (20240105, false)", "20240105", ""),
    "Rails": ("schema_migrations", "CREATE TABLE {t} (version varchar PRIMARY KEY)",
              "INSERT INTO {t} VALUES ('20240101120000'), ('20240105093000')", "20240105093000", ""),
    "Alembic": ("alembic_version", "CREATE TABLE {t} (version_num varchar(32) PRIMARY KEY)",
                "INSERT INTO {t} VALUES ('ae1027a6acf')", "ae1027a6acf", ""),
    "Flyway": ("flyway_schema_history",
               ("CREATE TABLE {t} (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200), "
               "type varchar(20), script varchar(1000), checksum int, installed_by varchar(100), "
               "installed_on timestamp DEFAULT now(), execution_time int, success boolean)"),
               ("INSERT INTO {t} (installed_rank, version, description, type, script, success) VALUES "
               "(1, '1', 'init', 'SQL', 'V1__init.sql', true), (2, '2.4', 'orders', 'SQL', 'V2_4__orders.sql', true), "
               "(3, '2.5', 'broken', 'SQL', 'V2_5__broken.sql', false)"), "2.4", "migration 2.5 (broken) failed"),
    "Prisma": ("_prisma_migrations",
               ("CREATE TABLE {t} (id varchar(36) PRIMARY KEY, checksum varchar(64), finished_at timestamptz, "
               "migration_name varchar(255), logs text, rolled_back_at timestamptz, started_at timestamptz "
               "DEFAULT now(), applied_steps_count int DEFAULT 0)"),
               ("INSERT INTO {t} (id, migration_name, finished_at) VALUES ('a', '20240101_init', now()), "
               "('b', '20240102_orders', now()), ('c', '20240103_half', NULL)"), "20240102_orders",
               "migration 20240103_half started at"),
    "Django": ("django_migrations", ("CREATE TABLE {t} (id serial PRIMARY KEY, app varchar(255), name varchar(255), "
               "applied timestamptz)"), ("INSERT INTO {t} (app, name, applied) VALUES "
               "('orders', '0001_initial', now() - interval '1 day'), ('orders', '0002_paid_at', now())"),
               "orders.0002_paid_at", ""),
    "node-pg-migrate": ("pgmigrations", "CREATE TABLE {t} (id serial PRIMARY KEY, name varchar(255), run_on timestamp)",
                        ("INSERT INTO {t} (name, run_on) VALUES ('1700000000000_init', now() - interval '1 day'), "
                        "('1700000000001_orders', now())"), "1700000000001_orders", ""),
    "Knex": ("knex_migrations", ("CREATE TABLE {t} (id serial PRIMARY KEY, name varchar(255), batch int, "
             "migration_time timestamptz); CREATE TABLE {t}_lock (index serial PRIMARY KEY, is_locked int)"),
             ("INSERT INTO {t} (name, batch) VALUES ('20240101_init.js', 1), ('20240102_orders.js', 2); "
              "INSERT INTO {t}_lock (is_locked) VALUES (1)"), "20240102_orders.js", "knex_migrations_lock is held"),
}


@pytest.fixture(scope="module")
def tool_tables(dsns) -> Iterator[str]:
    """A schema per tool holding its migration table, readable by the read-only role; dropped afterwards."""
    prefix = f"pdmig_{os.getpid()}"
    with psycopg.connect(dsns["admin"], autocommit=True) as conn:
        for n, (table, create, insert, _, _) in enumerate(TOOLS.values()):
            name = f"{prefix}_{n}.{table}"
            conn.execute(f"CREATE SCHEMA {prefix}_{n}")
            conn.execute(create.format(t=name))
            conn.execute(insert.format(t=name))
            conn.execute(f"GRANT USAGE ON SCHEMA {prefix}_{n} TO postdeploy_readonly")
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {prefix}_{n} TO postdeploy_readonly")
    yield prefix
    with psycopg.connect(dsns["admin"], autocommit=True) as conn:
        for n in range(len(TOOLS)):
            conn.execute(f"DROP SCHEMA {prefix}_{n} CASCADE")


@pytest.mark.parametrize("tool", list(TOOLS))
def test_each_migration_tool_is_recognised_from_its_table(dsns, tool_tables, tool):
    from postdeploy.database import Migrations, migrations

    n = list(TOOLS).index(tool)
    table, _, _, version, problem = TOOLS[tool]
    settings = Migrations(table=f"{tool_tables}_{n}.{table}")
    with ReadOnlySession(Database(dsn=dsns["readonly"])) as db:
        found = migrations.applied(db, settings)
        assert (found.tool, found.version) == (tool, version)
        assert (found.problems[0] if found.problems else "").startswith(problem)
        if problem:
            with pytest.raises(CheckFailed, match=rf"^migrations \({tool}, table .*\): expected version {version} "
                                                  rf"applied cleanly, found {re.escape(problem)}"):
                migrations.check_version(db, version, settings)
        else:
            migrations.check_version(db, version, settings)
            with pytest.raises(CheckFailed, match=rf"^migrations \({tool}, .*expected version 999, found version"):
                migrations.check_version(db, "999", settings)


def test_an_unreachable_database_is_one_environment_error_without_its_password(sandbox, tmp_path):
    env_dir = tmp_path / "environments"
    env_dir.mkdir()
    text = (ROOT / "environments" / "local.yaml").read_text()
    (env_dir / "local.yaml").write_text(text.replace("dsn: ${SANDBOX_DATABASE_DSN}",
                                                     "dsn: postgresql://reader:pw-s3cret@127.0.0.1:9/platform"))
    run = run_features(sandbox, tmp_path / "reports", "--env=local", "-m", "data_integrity", env_dir=env_dir)
    # the preflight asks the database once: one environment error says why, and every scenario that needs it is
    # skipped as already reported (not one connection attempt each)
    reported = {name: o for name, o in run.details.items() if "could not connect" in o.message}
    assert len(reported) == 1, run.output[-3000:]
    assert "could not connect to the database platform on 127.0.0.1:9" in next(iter(reported.values())).message
    others = {o.verdict for name, o in run.details.items() if name not in reported}
    assert others == {"environment_error"} and len(run.details) > 2, run.output[-3000:]
    assert "s3cret" not in run.output
    assert run.returncode == 8
