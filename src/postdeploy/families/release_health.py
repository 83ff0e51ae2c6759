"""@release_health (roadmap): the rollback criteria evaluated from metrics and logs, one release verdict.
No steps yet."""

from ._family import Family

FAMILY = Family(name="release_health", description="release health from metrics and logs")
