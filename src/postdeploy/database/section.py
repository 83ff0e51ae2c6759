"""The ``data_integrity:`` section of an environment file: what the database of that environment should hold.

``database:`` says how to connect (DSN, timeouts); this section says what to expect there."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from ..families._family import Section


def _text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Version = Annotated[str, BeforeValidator(_text)]
Share = Annotated[float, Field(gt=0, le=1)]


class Migrations(Section):
    """The expected migration version, and the table when no known tool's table is on the search path."""

    version: Version | None = None    # e.g. 11 (golang-migrate), 'ae1027a6acf' (Alembic), '2.4' (Flyway)
    table: str | None = None          # e.g. 'schema_migrations', 'ops.db_version'
    version_column: str | None = None  # set it for a table no known tool keeps
    dirty_column: str | None = None   # a boolean column that is true while a migration is unfinished
    order_by: str | None = None       # the column whose highest value is the applied row (default: the version)


class Bounds(Section):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class Agreement(Section):
    """Records the API must report as the database holds them (:mod:`postdeploy.database.agreement`)."""

    #: a reading query whose rows are the records (its columns: the path's placeholders and the compared ones)
    query: str = Field(min_length=1)
    #: the request that asks about one record: {column} placeholders are filled from the row
    path: str = Field(pattern=r"^/")
    service: str = "api"
    #: who asks: an account of the environment ...
    account: str | None = None
    #: ... or the account whose username is in this column of the row (rows of other users are left out)
    account_column: str | None = None
    #: column -> the JSON path of the same fact in the answer
    fields: dict[str, str] = Field(min_length=1)
    #: at most this many records asked about (Hypothesis examples), drawn from at most ``pool`` rows
    examples: int = Field(default=20, ge=1, le=500)
    pool: int = Field(default=1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_asker(self) -> Agreement:
        if self.account and self.account_column:
            raise ValueError("say who asks with account (one account) or account_column (the row's owner), not both")
        return self

    @property
    def path_columns(self) -> list[str]:
        import string

        return [name for _, name, _, _ in string.Formatter().parse(self.path) if name]


class DataIntegrity(Section):
    migrations: Migrations = Migrations()
    #: a role as features name it -> the role in this environment's database, e.g. {api: app_user}
    roles: dict[str, str] = Field(default_factory=dict)
    #: table -> how many rows it should hold
    row_counts: dict[str, Bounds] = Field(default_factory=dict)
    #: table -> column -> value -> {min, max}: rows per value (notifications by status)
    counts_by: dict[str, dict[str, dict[str, Bounds]]] = Field(default_factory=dict)
    #: table -> the newest row's maximum age, in minutes (the column is named in the feature)
    freshness_minutes: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    #: named queries the application runs (reading SQL with literal values), for the query plan step
    queries: dict[str, str] = Field(default_factory=dict)
    #: a sequential scan on a table estimated above this many rows is a defect in a query's plan
    seq_scan_max_rows: int = Field(default=10_000, ge=0)
    #: share of max_connections (and of pool_size) in use that fails the connections check
    max_connection_share: Share = 0.8
    #: the application's connection pool size, when it declares one
    pool_size: int | None = Field(default=None, gt=0)
    #: a statement running longer than this is a defect
    long_running_query_s: Annotated[float, Field(gt=0)] = 300
    #: a replica further behind than this is a defect
    replication_lag_s: Annotated[float, Field(gt=0)] = 30
    #: name -> records the API must report as the database holds them
    agreements: dict[str, Agreement] = Field(default_factory=dict)
    #: a pg_stat_statements mean above this is a defect
    slow_query_mean_ms: Annotated[float, Field(gt=0)] = 500

    def role(self, name: str) -> str:
        """The database role a feature names (``api``), or the name itself when the section does not map it."""
        return self.roles.get(name, name)
