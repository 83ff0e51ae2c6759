"""postdeploy.database without a database: names and types compared as PostgreSQL prints them, the
data_integrity: section, and every query a check sends is one the read-only session accepts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from postdeploy.database import DataIntegrity, data, health, migrations, schema
from postdeploy.database._query import expression, labelled, same_version, split_list
from postdeploy.environment import Database
from postdeploy.errors import CheckFailed, UnsafeOperation
from postdeploy.sql import ReadOnlySession, Result, refusal


class FakeSession:
    """Answers each query with the first canned result whose pattern it matches (else no rows) and records it."""

    where = "platform on db.example:5432"

    def __init__(self, answers: list[tuple[str, Result]] = ()) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, Any]] = []

    def query(self, sql: str, params: Any = None) -> Result:
        assert refusal(sql) is None, f"the session would refuse: {refusal(sql)}\n{sql}"
        self.sent.append((sql, params))
        for pattern, result in self.answers:
            if re.search(pattern, sql):
                return result
        return Result((), ())


def one(value: Any, column: str = "value") -> Result:
    return Result((column,), ((value,),))


@pytest.mark.parametrize(("written", "printed"), [
    ("timestamptz", "timestamp with time zone"), ("int", "integer"), ("INT8", "bigint"), ("bool", "boolean"),
    ("varchar(255)", "character varying(255)"), ("text[]", "text[]"), ("jsonb", "jsonb"),
])
def test_a_feature_may_write_the_short_name_of_a_type(written, printed):
    assert schema.normal_type(written) == schema.normal_type(printed)


def test_index_keys_compare_as_postgresql_prints_them():
    assert schema._normal_sql("metadata->>'transaction_id'") == schema._normal_sql("(metadata ->> 'transaction_id'::text)")
    assert schema._normal_sql("lower(email)") != schema._normal_sql("email")


def test_lists_split_at_top_level_commas_only():
    assert split_list("metadata->>'a,b', coalesce(x, y), type") == ["metadata->>'a,b'", "coalesce(x, y)", "type"]


def test_names_are_quoted_and_expressions_kept():
    assert expression("status") == "status"
    assert expression("Status") == '"Status"'
    assert expression("metadata->>'transaction_id'") == "metadata->>'transaction_id'"
    assert labelled("metadata->>'t', type") == "(metadata->>'t') AS \"metadata->>'t'\", (type) AS type"


def test_versions_compare_as_numbers_when_both_are_numbers():
    assert same_version("8", "000008") and same_version(11, "11")
    assert not same_version("ae1027a6acf", "ae1027a6acg")


def test_the_section_reads_versions_as_text_and_refuses_unknown_keys_and_bad_shares():
    section = DataIntegrity.model_validate({"migrations": {"version": 11}, "roles": {"api": "app_user"}})
    assert section.migrations.version == "11"
    assert section.role("api") == "app_user" and section.role("reporting") == "reporting"
    with pytest.raises(ValidationError, match="max_connection_share"):
        DataIntegrity.model_validate({"max_connection_share": 1.5})
    with pytest.raises(ValidationError, match="migration"):
        DataIntegrity.model_validate({"migration": {"version": 1}})


def test_a_query_that_must_return_nothing_may_still_only_read():
    session = ReadOnlySession(Database(dsn="postgresql://reader:pw@127.0.0.1:9/platform"))
    with pytest.raises(UnsafeOperation, match="modifies data"):
        data.check_no_rows(session, "WITH gone AS (DELETE FROM orders RETURNING id) SELECT id FROM gone")
    assert session.queries == 0  # refused before connecting


def test_golang_migrate_dirty_is_named_in_the_first_line():
    session = FakeSession([
        (r"unnest\(%s::text\[\]\)", Result(("name", "relation"), (("schema_migrations", "schema_migrations"),))),
        (r"to_regclass\(%s\)::text AS relation", one("schema_migrations")),
        (r"FROM pg_attribute", Result(("attname", "type"), (("version", "bigint"), ("dirty", "boolean")))),
        (r"SELECT version, dirty", Result(("version", "dirty"), ((11, True),))),
    ])
    with pytest.raises(CheckFailed) as caught:
        migrations.check_version(session, "11")
    assert str(caught.value).splitlines()[0] == (
        "migrations (golang-migrate, table schema_migrations): expected version 11 applied cleanly, found version 11 "
        "is marked dirty (a migration failed halfway; fix it and `migrate force`)")


def test_no_known_migration_table_says_how_to_name_one():
    with pytest.raises(CheckFailed, match=r"(?s)found none of schema_migrations, .*data_integrity\.migrations\.table"):
        migrations.check_version(FakeSession(), "11")


def test_duplicates_show_the_first_values_and_count_them_all():
    session = FakeSession([
        (r"to_regclass", one("notifications")),
        (r"GROUP BY", Result(("metadata->>'transaction_id'", "copies", "groups"), (("tx-1", 3, 42), ("tx-2", 2, 42)))),
    ])
    with pytest.raises(CheckFailed) as caught:
        data.check_no_duplicates(session, "notifications", "metadata->>'transaction_id'")
    lines = str(caught.value).splitlines()
    assert lines[0] == ("notifications: expected no two rows with the same metadata->>'transaction_id', found 42 "
                        "duplicated value(s)")
    assert lines[1] == "metadata->>'transaction_id'='tx-1', copies=3"
    assert "LIMIT 20" in session.sent[-1][0]


def test_a_connection_share_at_the_limit_fails():
    session = FakeSession([(r"numbackends", Result(("in_use", "max_connections", "reserved"), ((78, 100, 3),)))])
    with pytest.raises(CheckFailed, match=r"^database connections: expected fewer than 80% of 97 usable connections "
                                          r"in use, found 78 \(80%\)"):
        health.check_connections(session, 0.8)
    assert health.check_connections(FakeSession([(r"numbackends", Result(
        ("in_use", "max_connections", "reserved"), ((10, 100, 3),)))]), 0.8) == pytest.approx(10 / 97)


def test_a_missing_privilege_names_the_role_as_the_feature_does():
    session = FakeSession([
        (r"FROM pg_roles", one(1)),
        (r"to_regprocedure\(%s\)::text AS found", one("activity.sp_get_unread_count(uuid,boolean)")),
        (r"has_function_privilege", one(False)),
    ])
    with pytest.raises(CheckFailed, match=r"^role api \(app_user\): expected to have EXECUTE on "
                                          r"activity\.sp_get_unread_count\(uuid, boolean\), found it missing$"):
        schema.check_privileges(session, "app_user", [("execute", "activity.sp_get_unread_count(uuid, boolean)")],
                                role_label="api")


def test_the_pool_share_counts_the_application_roles_connections():
    answers = [(r"numbackends", Result(("in_use", "max_connections", "reserved"), ((30, 100, 3),))),
               (r"usename = %s", one(41))]
    with pytest.raises(CheckFailed, match=r"^database connections: expected fewer than 80% of the declared pool of 50 "
                                          r"in use by app_user, found 41$"):
        health.check_connections(FakeSession(answers), 0.8, pool_size=50, pool_role="app_user")
