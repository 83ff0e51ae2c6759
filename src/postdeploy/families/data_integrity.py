"""@data_integrity: read-only checks of the environment's PostgreSQL: migrations, schema, constraints, RLS,
procedures and grants, duplicates and orphans, freshness, connections and locks (docs/data-integrity.md).

``database:`` (typed in environment.py) says how to connect; ``data_integrity:`` what to expect there."""

from ..database.section import DataIntegrity
from ..environment import Database
from ._family import Family

FAMILY = Family(
    name="data_integrity",
    description="read-only database checks: migrations, schema, grants, duplicates, orphans, health",
    step_modules=("postdeploy.steps.database",),
    sections={"database": Database, "data_integrity": DataIntegrity},
    requires=("database",),
)
