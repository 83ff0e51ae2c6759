"""@data_integrity: read-only checks of the environment's PostgreSQL: migrations, schema, constraints, RLS,
procedures and grants, duplicates and orphans, freshness, connections and locks (docs/data-integrity.md).

``database:`` (typed in postdeploy.environment) says how to connect; ``data_integrity:`` what to expect there."""

from __future__ import annotations

from typing import Any

from ..database.section import DataIntegrity
from ..environment import Database
from ..errors import EnvironmentProblem, MissingSecret
from ._family import Family


def reach_database(env: Any) -> dict[str, str]:
    """The preflight's question to the database, once per run: can the read-only session connect?"""
    from ..sql import ReadOnlySession

    try:
        with ReadOnlySession(env.section("database"), run_id="preflight", connect_timeout_s=5) as session:
            session.connection()
    except MissingSecret:
        raise
    except EnvironmentProblem as exc:
        return {"database": str(exc)}
    return {}


FAMILY = Family(
    name="data_integrity",
    description="read-only database checks: migrations, schema, grants, duplicates, orphans, health",
    step_modules=("postdeploy.steps.database",),
    sections={"database": Database, "data_integrity": DataIntegrity},
    requires=("database",),
    probe=reach_database,
)
