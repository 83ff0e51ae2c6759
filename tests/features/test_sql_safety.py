"""Read-only SQL sessions against a real PostgreSQL (the sandbox's): every layer proven on its own.

The statement layer is unit-tested in tests/unit/test_sql_statements.py; here the session layer refuses a write
that a reading statement makes through a function, even as a role that may write (the sandbox's superuser), the
timeouts turn a slow query and a held lock into inconclusive verdicts, and errors name the database, never its
password.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from postdeploy.environment import Database
from postdeploy.errors import (
    CheckFailed,
    EnvironmentProblem,
    SuiteError,
    UnsafeOperation,
)
from postdeploy.sql import LockWaitTimedOut, QueryTimedOut, ReadOnlySession
from sandbox import launcher


@pytest.fixture(scope="module")
def dsns(healthy_sandbox) -> dict[str, str]:
    database = launcher.status(healthy_sandbox)["database"]
    return {"admin": database["dsn"], "readonly": database["readonly_dsn"]}


@pytest.fixture(scope="module")
def scratch(dsns) -> Iterator[str]:
    """A schema of this test's own (a table and a function that writes), dropped afterwards."""
    schema = f"pdtest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsns["admin"], autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"CREATE TABLE {schema}.t (id int)")
        admin.execute(f"INSERT INTO {schema}.t VALUES (1)")
        admin.execute(f"CREATE FUNCTION {schema}.write_row() RETURNS int LANGUAGE sql "
                      f"AS $$ INSERT INTO {schema}.t VALUES (2) RETURNING id $$")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO postdeploy_readonly")
        admin.execute(f"GRANT SELECT ON {schema}.t TO postdeploy_readonly")
    yield schema
    with psycopg.connect(dsns["admin"], autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


def session(dsn: str, **timeouts: int) -> ReadOnlySession:
    return ReadOnlySession(Database(dsn=dsn, **timeouts), run_id="run-sqltest")


def rows_in(dsns, schema) -> int:
    with psycopg.connect(dsns["admin"]) as admin:
        return admin.execute(f"SELECT count(*) FROM {schema}.t").fetchone()[0]


def test_a_reading_query_returns_its_rows_and_columns(dsns, scratch):
    with session(dsns["readonly"]) as db:
        result = db.query(f"SELECT id, 'x' AS tag FROM {scratch}.t WHERE id = %s", (1,))
        assert result.columns == ("id", "tag") and result.rows == ((1, "x"),)
        assert result.dicts() == [{"id": 1, "tag": "x"}]
        assert db.query("SHOW transaction_read_only").scalar() == "on"


def test_a_write_through_a_function_is_refused_even_for_a_role_that_may_write(dsns, scratch):
    before = rows_in(dsns, scratch)
    with session(dsns["admin"]) as db:
        assert db.role_can_write()  # the superuser could write: only the session stops it
        with pytest.raises(UnsafeOperation, match="refused a write in the check's read-only transaction"):
            db.query(f"SELECT {scratch}.write_row()")
        assert db.query("SELECT 1").scalar() == 1  # the session is still usable
    assert rows_in(dsns, scratch) == before


def test_a_statement_that_writes_is_never_sent(dsns, scratch):
    before = rows_in(dsns, scratch)
    with session(dsns["admin"]) as db:
        with pytest.raises(UnsafeOperation, match="'DELETE' is not a reading statement"):
            db.query(f"DELETE FROM {scratch}.t")
        assert db.queries == 0
    assert rows_in(dsns, scratch) == before


def test_the_read_only_role_can_write_nothing(dsns):
    with session(dsns["readonly"]) as db:
        assert db.role_can_write() == []


def test_a_slow_query_is_cancelled_and_inconclusive(dsns):
    with session(dsns["readonly"], statement_timeout_ms=200) as db:
        t0 = time.monotonic()
        with pytest.raises(QueryTimedOut, match=r"inconclusive: the query ran longer than .*200 ms"):
            db.query("SELECT pg_sleep(3)")
        assert time.monotonic() - t0 < 2


def test_a_query_behind_a_lock_gives_up_fast_and_is_inconclusive(dsns, scratch):
    with psycopg.connect(dsns["admin"]) as holder:
        holder.execute(f"LOCK TABLE {scratch}.t IN ACCESS EXCLUSIVE MODE")  # like a migration in progress
        with session(dsns["readonly"], lock_timeout_ms=200) as db:
            t0 = time.monotonic()
            with pytest.raises(LockWaitTimedOut, match="waited longer than database.lock_timeout_ms"):
                db.query(f"SELECT count(*) FROM {scratch}.t")
            assert time.monotonic() - t0 < 2
        holder.rollback()


def test_the_session_names_its_run_for_the_dba(dsns):
    with session(dsns["readonly"]) as db:
        names = db.query("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        assert names.scalar() == "postdeploy run-sqltest"


def test_a_missing_table_is_a_defect_and_a_broken_query_a_suite_error(dsns):
    with session(dsns["readonly"]) as db:
        with pytest.raises(CheckFailed, match='relation "no_such_table" does not exist'):
            db.query("SELECT * FROM no_such_table")
        with pytest.raises(SuiteError, match="cannot run as written"):
            db.query("SELECT FROM WHERE")


def test_an_unreachable_database_is_an_environment_error_without_the_password(dsns):
    dsn = "postgresql://reader:s3cr%40t-Pass@127.0.0.1:9/platform"
    with pytest.raises(EnvironmentProblem) as caught:
        session(dsn).query("SELECT 1")
    assert "could not connect to the database platform on 127.0.0.1:9" in str(caught.value)
    assert "s3cr" not in str(caught.value)
