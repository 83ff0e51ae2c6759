"""Check families, each declared once, in a file of its own; markers, step modules and environment
sections derive from the registry (docs/families.md).

A family is found in one of three places: a module of this package, an entry point of the group
``postdeploy.families`` (an installed package), or ``families/*.py`` at the project's root. Each
such module defines ``FAMILY = Family(...)`` (or ``FAMILIES = [...]``)::

    from postdeploy.families import Family

    FAMILY = Family(name="data_integrity", description="read-only database checks",
                    step_modules=("steps.database",), sections={"database": Database},
                    requires=("database",))

Discovery imports the declarations only (no step module, no Playwright); the root conftest.py
registers the step modules: ``pytest_plugins = ["postdeploy.plugin", *step_modules(...)]``.
"""

from ._family import Family, FamilyError, Section
from ._registry import (
    ENTRY_POINT_GROUP,
    PROJECT_DIR,
    Registered,
    Registry,
    builtin,
    declared_by,
    discover,
    from_directory,
    from_entry_points,
    project_step_modules,
    step_modules,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT_DIR",
    "Family",
    "FamilyError",
    "Registered",
    "Registry",
    "Section",
    "builtin",
    "declared_by",
    "discover",
    "from_directory",
    "from_entry_points",
    "project_step_modules",
    "step_modules",
]
