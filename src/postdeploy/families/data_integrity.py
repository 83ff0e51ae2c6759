"""@data_integrity (roadmap): migrations, schema, constraints, RLS, procedures, duplicates and orphans,
read-only by construction. No steps yet; its ``database`` section is typed in environment.py for now."""

from ..environment import Database
from ._family import Family

FAMILY = Family(
    name="data_integrity",
    description="read-only database checks",
    sections={"database": Database},
    requires=("database",),
)
