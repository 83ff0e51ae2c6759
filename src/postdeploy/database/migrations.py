"""Which migration tool manages the schema, which version it applied, and whether it finished cleanly.

Recognised from the tool's own table (and its columns, where two tools share a name):

=====================  ===========================================  =============================================
tool                   table                                        applied version / unclean state
=====================  ===========================================  =============================================
golang-migrate         ``schema_migrations(version bigint, dirty)``  its one row; ``dirty = true``
Rails                  ``schema_migrations(version text)``           the highest version; never unclean
Alembic                ``alembic_version(version_num)``              its row(s) (several heads joined by ',')
Flyway                 ``flyway_schema_history``                     the last successful versioned row;
                                                                    a row with ``success = false``
Prisma                 ``_prisma_migrations``                        the last finished migration's name; a row
                                                                    neither finished nor rolled back
Django                 ``django_migrations(app, name)``              the last applied ``app.name`` (or an app's)
node-pg-migrate        ``pgmigrations(name, run_on)``                the last name run
Knex                   ``knex_migrations(name, batch)``              the last name run; ``knex_migrations_lock``
                                                                    held
=====================  ===========================================  =============================================

An environment may name the table and its columns instead (``data_integrity.migrations``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SuiteError
from ._query import fail, query, quote_ident, relation, same_version

if TYPE_CHECKING:
    from ..sql import ReadOnlySession
    from .section import Migrations


@dataclass(frozen=True)
class Applied:
    tool: str             # the tool recognised, e.g. 'golang-migrate'
    table: str            # its table, as PostgreSQL names it
    version: str | None   # the applied version (None: nothing applied)
    problems: tuple[str, ...] = ()  # why the state is not clean (dirty flag, failed rows)


_TABLES = ("schema_migrations", "alembic_version", "flyway_schema_history", "_prisma_migrations",
           "django_migrations", "pgmigrations", "knex_migrations")


def _columns(session: ReadOnlySession, table: str) -> dict[str, str]:
    result = query(session, f"columns of {table}",
                   "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                   "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped", (table,))
    return dict(result.rows)


def find_table(session: ReadOnlySession) -> str:
    """The first migration table of a known tool visible on the search path."""
    result = query(session, "migration tables",
                   "SELECT t.name, to_regclass(t.name)::text AS relation FROM unnest(%s::text[]) WITH ORDINALITY "
                   "AS t(name, n) WHERE to_regclass(t.name) IS NOT NULL ORDER BY t.n", (list(_TABLES),))
    if not result.rows:
        fail(f"migrations: expected the table of a known migration tool on {session.where}, found none of "
             f"{', '.join(_TABLES)}",
             "Name the table in the environment file: data_integrity.migrations.table (and its version_column).")
    return result.rows[0][0]


def applied(session: ReadOnlySession, settings: Migrations | None = None) -> Applied:
    """The tool, its table and the version it applied, with what makes its state unclean."""
    if settings is not None and settings.version_column:
        return _named(session, settings)
    table = settings.table if settings is not None and settings.table else find_table(session)
    name = relation(session, table, "migrations table")
    columns = _columns(session, table)
    base = table.rsplit(".", 1)[-1].strip('"')
    if base == "schema_migrations" and "dirty" in columns:
        rows = query(session, "golang-migrate version", f"SELECT version, dirty FROM {name}")
        if len(rows) > 1:
            return Applied("golang-migrate", name, str(max(r[0] for r in rows)),
                           (f"the table holds {len(rows)} rows where golang-migrate keeps one",))
        version, dirty = rows.rows[0] if rows.rows else (None, False)
        dirty_note = f"version {version} is marked dirty (a migration failed halfway; fix it and `migrate force`)"
        return Applied("golang-migrate", name, None if version is None else str(version),
                       (dirty_note,) if dirty else ())
    if base == "schema_migrations":
        version = query(session, "Rails version", f"SELECT max(version) FROM {name}").scalar()
        return Applied("Rails", name, version)
    if base == "alembic_version":
        rows = query(session, "Alembic version", f"SELECT version_num FROM {name} ORDER BY 1")
        return Applied("Alembic", name, ",".join(r[0] for r in rows) or None)
    if base == "flyway_schema_history":
        version = query(session, "Flyway version",
                        f"SELECT version FROM {name} WHERE success AND version IS NOT NULL "
                        "ORDER BY installed_rank DESC LIMIT 1").scalar()
        failed = query(session, "Flyway failed migrations",
                       f"SELECT installed_rank, version, description, script FROM {name} WHERE NOT success "
                       "ORDER BY installed_rank")
        return Applied("Flyway", name, version,
                       tuple(f"migration {r[1] or r[3]} ({r[2]}) failed" for r in failed))
    if base == "_prisma_migrations":
        version = query(session, "Prisma version",
                        f"SELECT migration_name FROM {name} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL "
                        "ORDER BY migration_name DESC LIMIT 1").scalar()
        failed = query(session, "Prisma failed migrations",
                       f"SELECT migration_name, started_at FROM {name} WHERE finished_at IS NULL "
                       "AND rolled_back_at IS NULL ORDER BY started_at")
        return Applied("Prisma", name, version,
                       tuple(f"migration {r[0]} started at {r[1]} and neither finished nor was rolled back"
                             for r in failed))
    if base == "django_migrations":
        version = query(session, "Django version",
                        f"SELECT app || '.' || name FROM {name} ORDER BY applied DESC, id DESC LIMIT 1").scalar()
        return Applied("Django", name, version)
    if base == "pgmigrations":
        version = query(session, "node-pg-migrate version",
                        f"SELECT name FROM {name} ORDER BY run_on DESC, id DESC LIMIT 1").scalar()
        return Applied("node-pg-migrate", name, version)
    if base == "knex_migrations":
        version = query(session, "Knex version", f"SELECT name FROM {name} ORDER BY id DESC LIMIT 1").scalar()
        schema_prefix = table.rsplit(".", 1)[0] + "." if "." in table else ""
        lock = relation_or_none(session, schema_prefix + "knex_migrations_lock")
        locked = lock is not None and bool(query(session, "Knex lock", f"SELECT 1 FROM {lock} WHERE is_locked = 1").rows)
        return Applied("Knex", name, version, ("knex_migrations_lock is held (a migration is running or died)",)
                       if locked else ())
    raise SuiteError(f"the table {name} is not one a known migration tool keeps ({', '.join(_TABLES)}); name its "
                     "version column in data_integrity.migrations.version_column")


def relation_or_none(session: ReadOnlySession, name: str) -> str | None:
    return query(session, f"table {name}", "SELECT to_regclass(%s)::text", (name,)).scalar()


def _named(session: ReadOnlySession, settings: Migrations) -> Applied:
    table = settings.table or "schema_migrations"
    name = relation(session, table, "migrations table")
    version_col = quote_ident(settings.version_column or "version")
    order = quote_ident(settings.order_by) if settings.order_by else version_col
    dirty = f", {quote_ident(settings.dirty_column)} AS dirty" if settings.dirty_column else ""
    rows = query(session, "migration version",
                 f"SELECT {version_col} AS version{dirty} FROM {name} ORDER BY {order} DESC LIMIT 1")
    if not rows.rows:
        return Applied("the table the environment names", name, None)
    row = rows.dicts()[0]
    problems = (f"version {row['version']} is marked dirty ({settings.dirty_column} = {row['dirty']!r})",) \
        if settings.dirty_column and row.get("dirty") else ()
    return Applied("the table the environment names", name, str(row["version"]), problems)


def check_version(session: ReadOnlySession, expected: str, settings: Migrations | None = None) -> Applied:
    """The applied version equals ``expected`` and the tool's state is clean; says which tool was recognised."""
    __tracebackhide__ = True
    found = applied(session, settings)
    where = f"migrations ({found.tool}, table {found.table})"
    if found.version is None:
        fail(f"{where}: expected version {expected}, found no migration applied")
    if not same_version(found.version, expected):
        fail(f"{where}: expected version {expected}, found version {found.version}"
             + (f" ({'; '.join(found.problems)})" if found.problems else ""))
    if found.problems:
        fail(f"{where}: expected version {expected} applied cleanly, found {found.problems[0]}", *found.problems[1:])
    return found


__all__ = ["Applied", "applied", "check_version", "find_table"]
