"""Migrations up and down, schema_migrations, indexes, RLS, the read-only role."""
import psycopg
import pytest

from sandbox import db

LATEST = db.list_migrations()[-1].version


def test_migrations_are_numbered_with_down_files():
    migs = db.list_migrations()
    assert [m.version for m in migs] == list(range(1, len(migs) + 1))
    names = {m.version: m.name for m in migs}
    assert names[6] == "create_notifications" and names[7] == "create_notification_configs"
    assert names[8] == "add_staff_notifications_to_users"


def test_platform_schema_version(sandbox):
    with sandbox.db("readonly_dsn") as c:
        assert c.execute("SELECT version, dirty FROM schema_migrations").fetchall() == [(LATEST, False)]


def test_migrations_down_and_up_again(sandbox):
    with sandbox.db(autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS migtest")
        admin.execute("CREATE DATABASE migtest")
    dsn = sandbox.state["database"]["dsn"].rsplit("/", 1)[0] + "/migtest"
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            assert db.migrate_up(c) == LATEST
            assert db.current_version(c) == (LATEST, False)
            assert db.migrate_down(c, 3) == LATEST - 3
            assert c.execute("SELECT version, dirty FROM schema_migrations").fetchall() == [(LATEST - 3, False)]
            assert db.migrate_down(c) is None
            tables = c.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                               "WHERE table_schema IN ('public', 'activity')").fetchall()
            assert tables == [("public.schema_migrations",)]
            assert c.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == 0
            assert db.migrate_up(c, 8) == 8
            cols = {r[0] for r in c.execute("SELECT column_name FROM information_schema.columns "
                                            "WHERE table_name = 'users'").fetchall()}
            assert "staff_notifications_enabled" in cols
            assert db.migrate_up(c) == LATEST
            db.seed(c)
    finally:
        with sandbox.db(autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS migtest WITH (FORCE)")


def test_indexes_and_rls(sandbox):
    with sandbox.db("readonly_dsn") as c:
        idx = {r[0] for r in c.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'notifications'")}
        assert {"idx_notifications_status", "idx_notifications_created_at",
                "idx_notifications_transaction_type"} <= idx
        rls = dict(c.execute("SELECT c.oid::regclass::text, c.relrowsecurity FROM pg_class c WHERE c.oid IN "
                             "('notifications'::regclass, 'activity.notifications'::regclass)").fetchall())
        assert rls == {"notifications": True, "activity.notifications": True}
        assert c.execute("SELECT count(*) FROM pg_policies").fetchone()[0] >= 4


def test_readonly_role_reads_but_cannot_write(sandbox):
    with sandbox.db("readonly_dsn") as c:
        assert c.execute("SELECT count(*) FROM notifications").fetchone()[0] >= 4  # sees all rows
        assert c.execute("SELECT count(*) FROM activity.notifications").fetchone()[0] >= 12
        assert c.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        c.rollback()
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            c.execute("UPDATE users SET full_name = 'x'")
        c.rollback()
        c.execute("SET TRANSACTION READ WRITE")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("DELETE FROM notifications")


def test_seeded_history_of_previous_release(sandbox):
    with sandbox.db("readonly_dsn") as c:
        assert c.execute("SELECT count(*) FROM users WHERE created_by_release = 'v1.1.0'").fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM orders WHERE created_by_release = 'v1.1.0'").fetchone()[0] == 2
        assert c.execute("SELECT count(*) FROM notifications WHERE metadata->>'release' = 'v1.1.0' "
                         "AND created_at < now() - interval '30 days'").fetchone()[0] == 4
        # no duplicate notifications per transaction and type (the seed's duplicate query, per type)
        assert c.execute("SELECT metadata->>'transaction_id', type FROM notifications WHERE metadata->>'transaction_id' "
                         "IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1").fetchall() == []


def test_monitoring_views(sandbox):
    with sandbox.db("readonly_dsn") as c:
        for v in ("slow_queries", "index_usage_stats", "table_bloat_stats"):
            c.execute(f"SELECT * FROM {v} LIMIT 1")
