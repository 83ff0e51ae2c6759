"""Faults of the @data_integrity family: database changes that make exactly one check's step fail.

Each is SQL run as the sandbox's superuser (``state.json``'s ``database.dsn``) on a healthy sandbox, with the
SQL that undoes it, so one sandbox serves them all (``tests/features/test_data_integrity_matrix.py``). A few
keep a session open while the features run (a held lock and the session it blocks), and one changes the
environment file instead of the database (a connection share no real database stays under).
"""

from __future__ import annotations

from pathlib import Path

from dataclasses import dataclass, field

from . import Failure, Fault

MIGRATIONS = "test_the_applied_migration_version_is_the_expected_one_and_the_state_is_clean"
COLUMNS = "test_the_notifications_table_has_its_columns"
USERS = "test_users_carry_the_staff_notification_preference"
INDEXES = "test_the_notification_indexes_are_valid_and_ready"
UNIQUE = "test_a_unique_index_prevents_duplicate_notifications_per_payment_and_type"
CONSTRAINTS = "test_notifications_reference_their_orders_and_users_and_their_status_is_constrained"
RLS = "test_row_level_security_is_enabled_on_the_notification_tables_with_their_policies"
PROCEDURES = "test_the_nine_activity_procedures_exist_and_the_apis_role_may_execute_them"
READONLY = "test_the_readonly_role_cannot_write"
DUPLICATES = "test_no_payment_transaction_was_notified_twice"
ORPHANS = "test_every_notification_of_a_payment_refers_to_a_recorded_payment"
NULLS = "test_every_notification_belongs_to_a_user"
PAID = "test_paid_orders_carry_their_payment_time"
FAILED = "test_few_notifications_failed"
COUNTS = "test_the_configuration_and_the_accounts_are_there"
FRESH = "test_inapp_notifications_are_recent"
CONNECTIONS = "test_connections_in_use_leave_headroom"
LOCKS = "test_no_session_waits_on_anothers_lock"
PLANS = "test_the_platforms_frequent_queries_read_large_tables_through_indexes"
UNREAD = "test_every_accounts_unread_count_is_its_unread_notifications"

MIGRATIONS_STEP = "Then the database migrations are at the expected version and clean"
FUNCTIONS_STEP = "Then these functions exist:"
API_GRANTS_STEP = 'Then the role "api" has these privileges:'

UNIQUE_INDEX = ("CREATE UNIQUE INDEX idx_notifications_transaction_type ON notifications "
                "((metadata ->> 'transaction_id'), type) WHERE metadata ->> 'transaction_id' IS NOT NULL")
#: 20 000 payments of one order: a table large enough for the planner to want an index
MANY_PAYMENTS = ("INSERT INTO payments (order_id, transaction_id, amount_cents) SELECT (SELECT id FROM orders "
                 "ORDER BY created_at LIMIT 1), 'fault-plan-' || n, 1 FROM generate_series(1, 20000) n")
#: a notification the faults add, marked so that the undo finds it
NOTIFICATION = ("INSERT INTO notifications (order_id, user_id, type, recipient_email, subject, metadata) "
                "SELECT {order}, {user}, '{type}', 'legacy@example.com', 'fault', {metadata} "
                "FROM users WHERE email = 'legacy@example.com'")


@dataclass(frozen=True)
class DatabaseFault(Fault):
    """A change of the sandbox's database (``sql``, as its superuser) and how to undo it (``undo``)."""

    sql: tuple[str, ...] = ()
    undo: tuple[str, ...] = ()
    #: statements each run in a session of its own that stays open during the run (a lock held, a waiter)
    sessions: tuple[str, ...] = ()
    #: data_integrity: fields the run's environment file sets instead (a threshold no database meets)
    environment: dict[str, object] = field(default_factory=dict)
    family: str = "data_integrity"
    args: tuple[str, ...] = ("-m", "data_integrity")


def _unread_count() -> str:
    """activity.sp_get_unread_count as migration 000010 creates it, as CREATE OR REPLACE (which keeps its grants)."""
    sql = (Path(__file__).resolve().parents[3] / "sandbox" / "migrations" /
           "000010_create_activity_procedures.up.sql").read_text()
    start = sql.index("CREATE FUNCTION activity.sp_get_unread_count")
    body = sql[start:sql.index("$$;", sql.index("$$", sql.index("AS $$", start) + 5)) + 2]
    return body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


UNREAD_COUNT = _unread_count()

FAULTS = [
    DatabaseFault(
        "migration_dirty", {}, why="golang-migrate left version 11 dirty (a migration failed halfway).",
        sql=("UPDATE schema_migrations SET dirty = true",), undo=("UPDATE schema_migrations SET dirty = false",),
        failures={MIGRATIONS: Failure(MIGRATIONS_STEP, "expected version 11 applied cleanly, found version 11 is "
                                                       "marked dirty")}),
    DatabaseFault(
        "migration_behind", {}, why="The last migration did not run: the schema is at version 10.",
        sql=("UPDATE schema_migrations SET version = 10",), undo=("UPDATE schema_migrations SET version = 11",),
        failures={MIGRATIONS: Failure(MIGRATIONS_STEP, "migrations (golang-migrate, table schema_migrations): "
                                                       "expected version 11, found version 10")}),
    DatabaseFault(
        "column_default_changed", {}, why="staff_notifications_enabled defaults to true: every new user is paged.",
        sql=("ALTER TABLE users ALTER COLUMN staff_notifications_enabled SET DEFAULT true",),
        undo=("ALTER TABLE users ALTER COLUMN staff_notifications_enabled SET DEFAULT false",),
        failures={USERS: Failure('Then the table "users" has the columns:',
                                 "column staff_notifications_enabled: expected default false, found true")}),
    DatabaseFault(
        "column_nullable", {}, why="notifications.status lost its NOT NULL.",
        sql=("ALTER TABLE notifications ALTER COLUMN status DROP NOT NULL",),
        undo=("ALTER TABLE notifications ALTER COLUMN status SET NOT NULL",),
        failures={COLUMNS: Failure('Then the table "notifications" has the columns:',
                                   "column status: expected NOT NULL, found nullable")}),
    DatabaseFault(
        "index_dropped", {}, why="The index on notifications.status was never created.",
        sql=("DROP INDEX idx_notifications_status",),
        undo=("CREATE INDEX idx_notifications_status ON notifications (status)",),
        failures={INDEXES: Failure('Then the table "notifications" has a valid index on "status"',
                                   "index on notifications (status): expected it to exist, found no such index")}),
    DatabaseFault(
        "index_invalid", {},
        why="The index on notifications.created_at is invalid, as a failed CREATE INDEX CONCURRENTLY leaves it.",
        sql=("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_notifications_created_at'::regclass",),
        undo=("UPDATE pg_index SET indisvalid = true WHERE indexrelid = 'idx_notifications_created_at'::regclass",),
        failures={INDEXES: Failure('Then the table "notifications" has a valid index on "created_at"',
                                   "expected it valid and ready, found idx_notifications_created_at not valid")}),
    DatabaseFault(
        "foreign_key_dropped", {}, why="notifications.order_id no longer references orders.",
        sql=("ALTER TABLE notifications DROP CONSTRAINT notifications_order_id_fkey",),
        undo=(("ALTER TABLE notifications ADD CONSTRAINT notifications_order_id_fkey FOREIGN KEY (order_id) "
              "REFERENCES orders (id)"),),
        failures={CONSTRAINTS: Failure('Then the table "notifications" has a foreign key on "order_id" referencing '
                                       '"orders"', "foreign key constraint on notifications (order_id) referencing "
                                                   "orders: expected it to exist, found no such constraint")}),
    DatabaseFault(
        "check_dropped", {}, why="notifications.status accepts any text.",
        sql=("ALTER TABLE notifications DROP CONSTRAINT notifications_status_check",),
        undo=(("ALTER TABLE notifications ADD CONSTRAINT notifications_status_check "
              "CHECK (status IN ('pending', 'sent', 'failed'))"),),
        failures={CONSTRAINTS: Failure('Then the table "notifications" has a check constraint on "status"',
                                       "check constraint on notifications (status): expected it to exist, found no "
                                       "such constraint")}),
    DatabaseFault(
        "rls_disabled", {}, why="Row level security turned off on notifications (its policies no longer apply).",
        sql=("ALTER TABLE notifications DISABLE ROW LEVEL SECURITY",),
        undo=("ALTER TABLE notifications ENABLE ROW LEVEL SECURITY",),
        failures={RLS: Failure('Then row level security is enabled on "notifications" with the policies '
                               '"notifications_app_access, notifications_readonly"',
                               "table notifications: expected row level security enabled, found it disabled")}),
    DatabaseFault(
        "policy_dropped", {}, why="The owner policy of activity.notification_settings is gone.",
        sql=("DROP POLICY activity_settings_owner ON activity.notification_settings",),
        undo=(("CREATE POLICY activity_settings_owner ON activity.notification_settings TO app_user "
              "USING (user_id::text = current_setting('app.user_id', true)) "
              "WITH CHECK (user_id::text = current_setting('app.user_id', true))"),),
        failures={RLS: Failure('Then row level security is enabled on "activity.notification_settings" with the '
                               'policies "activity_settings_owner"',
                               "expected the row level security policy activity_settings_owner, found "
                               "activity_settings_readonly")}),
    DatabaseFault(
        "procedure_missing", {}, why="activity.sp_delete_notification does not exist (renamed away).",
        sql=("ALTER FUNCTION activity.sp_delete_notification(uuid, uuid) RENAME TO sp_delete_notification_gone",),
        undo=("ALTER FUNCTION activity.sp_delete_notification_gone(uuid, uuid) RENAME TO sp_delete_notification",),
        failures={PROCEDURES: Failure(FUNCTIONS_STEP, "function activity.sp_delete_notification(uuid, uuid): "
                                                      "expected it to exist, found no function of that name")}),
    DatabaseFault(
        "grant_revoked", {}, why="The API's role may no longer execute activity.sp_get_unread_count: the grant "
                                 "check names it, and the unread badge answers 500.",
        sql=("REVOKE EXECUTE ON FUNCTION activity.sp_get_unread_count(uuid, boolean) FROM app_user",),
        undo=("GRANT EXECUTE ON FUNCTION activity.sp_get_unread_count(uuid, boolean) TO app_user",),
        failures={PROCEDURES: Failure(API_GRANTS_STEP, "role api (app_user): expected to have EXECUTE on "
                                                       "activity.sp_get_unread_count(uuid, boolean), found it missing"),
                  UNREAD: Failure("Then the API agrees with the database on every sampled record",
                                  "4 of 4 sampled record(s) disagree, first email=")}),
    DatabaseFault(
        "readonly_role_writes", {}, why="The suite's read-only role was granted INSERT on notifications.",
        sql=("GRANT INSERT ON notifications TO postdeploy_readonly",),
        undo=("REVOKE INSERT ON notifications FROM postdeploy_readonly",),
        failures={READONLY: Failure('Then the role "readonly" does not have these privileges:',
                                    "role readonly (postdeploy_readonly): expected not to have INSERT on "
                                    "notifications, found it granted")}),
    DatabaseFault(
        "duplicate_notification", {},
        why="The duplicate-prevention index is missing and a payment's staff notification was written twice.",
        sql=("DROP INDEX idx_notifications_transaction_type",
             ("INSERT INTO notifications (order_id, user_id, type, recipient_email, subject, metadata) "
             "SELECT order_id, user_id, type, recipient_email, subject, metadata || '{\"fault\": \"duplicate\"}' "
             "FROM notifications WHERE metadata ->> 'transaction_id' = 'tx-v110-0001' AND type = 'staff'")),
        undo=("DELETE FROM notifications WHERE metadata ->> 'fault' = 'duplicate'", UNIQUE_INDEX),
        failures={
            UNIQUE: Failure('Then the table "notifications" has a valid unique index on '
                            '"metadata->>\'transaction_id\', type"', "expected it to exist, found no such index"),
            DUPLICATES: Failure('Then no two rows of "notifications" share "metadata->>\'transaction_id\', type"',
                                "notifications: expected no two rows with the same metadata->>'transaction_id', "
                                "type, found 1 duplicated value(s)"),
        }),
    DatabaseFault(
        "orphan_notification", {}, why="A notification refers to a payment transaction that was never recorded.",
        sql=(NOTIFICATION.format(order="NULL", user="id", type="customer",
                                 metadata="'{\"transaction_id\": \"tx-never-paid\", \"fault\": \"orphan\"}'"),),
        undo=("DELETE FROM notifications WHERE metadata ->> 'fault' = 'orphan'",),
        failures={ORPHANS: Failure('Then every "metadata->>\'transaction_id\'" of "notifications" exists as '
                                   '"transaction_id" in "payments"',
                                   "notifications.metadata->>'transaction_id': expected every value to exist in "
                                   "payments.transaction_id, found 1 row(s) referencing none")}),
    DatabaseFault(
        "notification_without_user", {}, why="A notification nobody owns (user_id NULL).",
        sql=(NOTIFICATION.format(order="NULL", user="NULL", type="staff",
                                 metadata="'{\"fault\": \"no_user\"}'"),),
        undo=("DELETE FROM notifications WHERE metadata ->> 'fault' = 'no_user'",),
        failures={NULLS: Failure('Then no row of "notifications" has a NULL "user_id"',
                                 "notifications: expected no row with user_id NULL, found 1")}),
    DatabaseFault(
        "paid_order_without_payment_time", {}, why="An order marked paid with no paid_at.",
        sql=(("INSERT INTO orders (user_id, customer_email, status, total_cents, created_by_release) "
             "SELECT id, email, 'paid', 100, 'fault' FROM users WHERE email = 'legacy@example.com'"),),
        undo=("DELETE FROM orders WHERE created_by_release = 'fault'",),
        failures={PAID: Failure("Then this query returns no rows:",
                                "query: expected no rows from `SELECT id, status, created_at FROM orders WHERE "
                                "status = 'paid' AND paid_at IS NULL`, found 1")}),
    DatabaseFault(
        "failed_notifications", {}, why="Six receipts failed to send (SMTP down after the deploy).",
        sql=(("INSERT INTO notifications (user_id, type, recipient_email, subject, status, metadata) "
             "SELECT id, 'customer', email, 'fault', 'failed', '{\"fault\": \"failed\"}' FROM users, "
             "generate_series(1, 5) WHERE email = 'legacy@example.com'"),),
        undo=("DELETE FROM notifications WHERE metadata ->> 'fault' = 'failed'",),
        failures={FAILED: Failure('Then the rows of "notifications" by "status" are within the environment\'s '
                                  'bounds', "notifications: expected rows by status within bounds, found status = "
                                            "failed: expected between 0 and 5, found 6")}),
    DatabaseFault(
        "second_configuration", {}, why="notification_configs holds two rows (its one-row check dropped).",
        sql=("ALTER TABLE notification_configs DROP CONSTRAINT notification_configs_id_check",
             "INSERT INTO notification_configs (id) VALUES (2)"),
        undo=("DELETE FROM notification_configs WHERE id = 2",
              "ALTER TABLE notification_configs ADD CONSTRAINT notification_configs_id_check CHECK (id = 1)"),
        failures={COUNTS: Failure('Then the table "notification_configs" holds as many rows as the environment '
                                  'expects', "notification_configs: expected between 1 and 1 rows, found 2")}),
    DatabaseFault(
        "stale_notifications", {}, why="No in-app notification newer than 40 days (nothing arrives any more).",
        sql=("UPDATE activity.notifications SET created_at = created_at - interval '30 days'",),
        undo=("UPDATE activity.notifications SET created_at = created_at + interval '30 days'",),
        failures={FRESH: Failure('Then the newest "created_at" of "activity.notifications" is as recent as the '
                                 'environment expects', "activity.notifications: expected the newest created_at at "
                                                        "most 20160 minutes old, found")}),
    DatabaseFault(
        "blocking_session", {}, why="A session holds an exclusive lock another session waits on.",
        sessions=("LOCK TABLE notification_duplicates IN ACCESS EXCLUSIVE MODE",
                  "SELECT count(*) FROM notification_duplicates"),
        failures={LOCKS: Failure("Then no database session is blocked by another",
                                 "database locks: expected no blocked session, found 1")}),
    DatabaseFault(
        "plan_without_index", {},
        why="payments grew to 20 000 rows and lost its index on order_id: the API's lookup scans the table.",
        sql=(MANY_PAYMENTS, "DROP INDEX idx_payments_order_id", "ANALYZE payments"),
        undo=("DELETE FROM payments WHERE transaction_id LIKE 'fault-plan-%'",
              "CREATE INDEX idx_payments_order_id ON payments (order_id)", "ANALYZE payments"),
        failures={PLANS: Failure('Then the plan of the query "payments_of_an_order" reads its large tables through '
                                 'indexes', "query payments_of_an_order: expected its plan to read tables of more "
                                            "than 10000 rows through an index, found a sequential scan on "
                                            "public.payments")}),
    DatabaseFault(
        "connections_over_share", {},
        why="The environment allows 1% of max_connections in use, which the sandbox's own services exceed.",
        environment={"max_connection_share": 0.01},
        failures={CONNECTIONS: Failure("Then database connections in use stay below the expected share",
                                       "database connections: expected fewer than 1% of")}),
    DatabaseFault(
        "unread_count_counts_read", {},
        why="A migration rewrote activity.sp_get_unread_count without its is_read filter: every badge counts "
            "the notifications already read.",
        sql=(UNREAD_COUNT.replace("AND NOT n.is_read ", ""),), undo=(UNREAD_COUNT,),
        failures={UNREAD: Failure("Then the API agrees with the database on every sampled record",
                                  "expected the API to agree with the database on 'unread_counts', but 4 of 4 "
                                  "sampled record(s) disagree")}),
]
