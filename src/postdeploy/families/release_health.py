"""@release_health (roadmap): the rollback criteria evaluated from metrics and logs, one release verdict.
No steps yet. Its sections: ``prometheus`` (where metrics are queried) and ``logs`` (named log sources);
the thresholds are the environment's ``objectives`` (green / yellow / red)."""

from __future__ import annotations

import shlex
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_validator

from ..environment import HttpUrl, Seconds, Secret
from ._family import Family, Section


class Prometheus(Section):
    """A Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics): ``{base_url}/api/v1/query``."""

    base_url: HttpUrl
    token: Secret | None = None  # sent as ``Authorization: Bearer <token>``
    timeout_s: Seconds = 10.0
    verify_tls: bool = True


class FileLogs(Section):
    """Log files on the machine that runs the suite: a glob (``/var/log/api/*.log``)."""

    kind: Literal["file"]
    path: str = Field(min_length=1)


class CommandLogs(Section):
    """A command whose output is the log (``kubectl logs deploy/api --since=1h``), run without a shell;
    a string is split as a shell would split it."""

    kind: Literal["command"]
    command: list[str] = Field(min_length=1)
    timeout_s: Seconds = 60.0

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value


class LokiLogs(Section):
    """A Loki-style HTTP API (``{url}/loki/api/v1/query_range``) and the LogQL stream selector to search."""

    kind: Literal["loki"]
    url: HttpUrl
    query: str = Field(min_length=1)  # e.g. {app="api", env="prod"}
    token: Secret | None = None  # sent as ``Authorization: Bearer <token>``
    timeout_s: Seconds = 10.0


#: one named log source: ``kind`` selects file, command or loki
LogSource = Annotated[Union[FileLogs, CommandLogs, LokiLogs], Field(discriminator="kind")]  # noqa: UP007
#: the ``logs:`` section: source name -> source
Logs = Annotated[dict[str, LogSource], Field(min_length=1)]
Logs.__name__ = "Logs"  # type: ignore[attr-defined]  # how the families table names it

FAMILY = Family(
    name="release_health",
    description="release health from metrics and logs",
    sections={"prometheus": Prometheus, "logs": Logs},
)
