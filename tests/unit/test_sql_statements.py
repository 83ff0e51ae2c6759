"""The statement layer of the read-only SQL session: what a check may send, read as PostgreSQL reads it."""

import pytest

from postdeploy.sql import code_only, refusal

READS = [
    "SELECT 1",
    "select version, dirty from schema_migrations",
    "  (SELECT 1) UNION (SELECT 2)",
    "WITH t AS (SELECT 1 AS x) SELECT x FROM t",
    "SHOW server_version",
    "EXPLAIN SELECT * FROM orders WHERE id = 1",
    "EXPLAIN (FORMAT JSON) SELECT 1",
    "VALUES (1), (2)",
    "TABLE schema_migrations",
    "SELECT 'DELETE FROM users; pg_terminate_backend(1)' AS harmless_text",
    "SELECT $$ DROP TABLE users $$",
    "SELECT $body$ nextval('s') $body$",
    "SELECT 1 -- ; DROP TABLE users",
    "SELECT 1 /* nested /* DELETE */ still a comment */",
    "SELECT E'it\\'s; DELETE' AS x",
    'SELECT "updated_at", "deleted" FROM orders',
    "SELECT count(*) FROM orders;",  # one statement with its terminator
    "SELECT metadata->>'transaction_id', count(*) FROM notifications GROUP BY 1 HAVING count(*) > 1",
]

REFUSED = [
    ("DELETE FROM users", "'DELETE' is not a reading statement"),
    ("update users set role = 'admin'", "'UPDATE' is not a reading statement"),
    ("/* looks like a read */ INSERT INTO t VALUES (1)", "'INSERT' is not a reading statement"),
    ("SET default_transaction_read_only = off", "'SET' is not a reading statement"),
    ("BEGIN READ WRITE", "'BEGIN' is not a reading statement"),
    ("SELECT 1; DELETE FROM users", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("EXPLAIN ANALYZE DELETE FROM users", "EXPLAIN ANALYZE runs the statement"),
    ("EXPLAIN (ANALYZE, BUFFERS) SELECT 1", "EXPLAIN ANALYZE runs the statement"),
    ("WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone", "modifies data"),
    ("SELECT * INTO copy_of_users FROM users", "creates a table"),
    ("SELECT * FROM orders FOR UPDATE", "locks rows"),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend()"),
    ("SELECT pg_catalog.set_config('statement_timeout', '0', false)", "set_config()"),
    ("SELECT nextval('orders_id_seq')", "nextval()"),
    ('SELECT "pg_cancel_backend"(42)', "pg_cancel_backend()"),
    ("SELECT pg_advisory_lock(1)", "pg_advisory_lock()"),
    ("", "empty"),
    ("-- only a comment", "empty"),
]


@pytest.mark.parametrize("sql", READS)
def test_a_reading_statement_is_let_out(sql):
    assert refusal(sql) is None, refusal(sql)


@pytest.mark.parametrize(("sql", "why"), REFUSED)
def test_a_statement_that_acts_is_refused_with_the_reason(sql, why):
    reason = refusal(sql)
    assert reason is not None and why in reason, reason


def test_code_only_blanks_literals_and_comments_but_keeps_identifiers():
    code = code_only("SELECT 'a;b', \"Odd\"\"Name\" FROM t -- tail\n/* c */ WHERE $x$ y $x$ = 1")
    assert ";" not in code and "tail" not in code and " y " not in code
    assert 'Odd"Name' in code and "WHERE" in code


@pytest.mark.parametrize(("markexpr", "probed"), [
    ("", True), ("data_integrity", True), ("smoke or data_integrity", True),
    ("smoke", False), ("not data_integrity", False), ("smoke and not data_integrity", False),
])
def test_the_preflight_asks_the_database_only_when_the_run_can_select_its_family(markexpr, probed):
    from postdeploy.plugin.preflight import _selects

    assert _selects(markexpr, "data_integrity") is probed
