"""Read-only database checks on any PostgreSQL (the ``@data_integrity`` family).

Introspection and checks, each through a :class:`~postdeploy.sql.ReadOnlySession` only: migrations
(:mod:`.migrations`), schema (:mod:`.schema`), data (:mod:`.data`), query plans (:mod:`.plans`) and health (:mod:`.health`). A check returns
what it read or raises :class:`~postdeploy.errors.CheckFailed`, whose first line names the object, the
expectation and what was found; every query attaches its SQL, parameters and first rows (redacted).
"""

from . import agreement, data, health, migrations, plans, schema
from ._query import EVIDENCE_ROWS
from .section import Agreement, DataIntegrity, Migrations

__all__ = ["EVIDENCE_ROWS", "Agreement", "DataIntegrity", "Migrations", "agreement", "data", "health", "migrations", "plans", "schema"]
