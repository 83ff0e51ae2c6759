"""The API and the database agree: what the API reports about real records is what the database holds.

An agreement (``data_integrity.agreements.NAME`` in the environment) names a reading query whose rows are the
records to sample, the request that asks the API about one record (its path may use the row's columns:
``/api/v2/orders/{id}``), who asks (an account, or the account whose username is in a column of the row), and
which column must equal which value of the answer (a JSON path). Hypothesis draws the records from the rows the
query returns (at most ``pool`` of them, so a large table is sampled, never scanned whole into memory), at most
``examples`` of them, each asked once; on a disagreement it shrinks to the first record that disagrees and the
result says the seed that drew them (``POSTDEPLOY_SEED=<seed>`` draws the same records again).
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import random
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import evidence, paths
from ..errors import Inconclusive, SuiteError
from ..redact import redact
from ._query import query

if TYPE_CHECKING:
    from ..http import Exchange
    from ..sql import ReadOnlySession
    from .section import Agreement

SEED_VARIABLE = "POSTDEPLOY_SEED"


@dataclass
class Compared:
    """One record asked about: its key, the answer's status, and each column as the database and the API hold it."""

    record: dict[str, Any]
    status: int
    where: str
    fields: list[tuple[str, Any, Any, bool]] = field(default_factory=list)  # column, database, API, equal

    @property
    def agrees(self) -> bool:
        return 200 <= self.status < 300 and all(equal for *_, equal in self.fields)

    def disagreement(self) -> str:
        if not 200 <= self.status < 300:
            return f"{self.where} answered {self.status}"
        return "; ".join(f"{column}: database {_show(db)}, API {_show(api)}"
                         for column, db, api, equal in self.fields if not equal)


@dataclass
class AgreementResult:
    name: str
    pool: int
    seed: int
    compared: list[Compared]
    first_disagreement: Compared | None
    skipped: int = 0


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def same(db: Any, api: Any) -> bool:
    """A database value and a JSON value are the same fact: numbers by value (``12.50`` = ``12.5``), UUIDs and
    dates by their text (ISO 8601 instants compared as instants), booleans and NULL exactly."""
    if db is None or api is None or isinstance(db, bool) or isinstance(api, bool):
        return db is api or db == api and type(db) is type(api)
    if isinstance(db, (int, float, decimal.Decimal)) and isinstance(api, (int, float)):
        return decimal.Decimal(str(db)) == decimal.Decimal(str(api))
    if isinstance(db, dt.datetime) and isinstance(api, str):
        try:
            return db == dt.datetime.fromisoformat(api.replace("Z", "+00:00"))
        except ValueError:
            return False
    if isinstance(db, (uuid.UUID, dt.date, decimal.Decimal)):
        return str(db) == str(api)
    return db == api


def compare(name: str, spec: Agreement, session: ReadOnlySession, ask: Callable[[Mapping[str, Any], str | None], Exchange],
            accounts: Mapping[str, str]) -> AgreementResult:
    """Sample records of the agreement ``name`` with Hypothesis and ask the API about each (``ask(row, account)``
    sends the request; ``accounts``: username -> account name, for ``account_column``)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
    from hypothesis.configuration import set_hypothesis_home_dir

    # no example database (database=None) and no cache in the project: Hypothesis keeps its few files in tmp
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "postdeploy-hypothesis")

    __tracebackhide__ = True
    result = query(session, f"records of '{name}'", f"SELECT * FROM ({spec.query.strip().rstrip(';')}) AS records "
                                                     f"LIMIT {spec.pool}")
    rows = result.dicts()
    pool, skipped = [], 0
    for row in rows:
        missing = [column for column in (*spec.fields, *spec.path_columns) if column not in row]
        if missing:
            raise SuiteError(f"the query of data_integrity.agreements.{name} returns no column {missing[0]!r} "
                             f"(it returns {', '.join(row)}), which the agreement compares or puts in the path")
        if spec.account_column:
            owner = accounts.get(str(row.get(spec.account_column, "")).casefold())
            if owner is None:
                skipped += 1
                continue
            pool.append((row, owner))
        else:
            pool.append((row, spec.account))
    if not pool:
        why = (f" whose '{spec.account_column}' is the username of an account of the environment"
               if spec.account_column else "")
        raise Inconclusive(f"inconclusive: the query of data_integrity.agreements.{name} returned no record{why}, so "
                           "there was nothing to compare")
    chosen = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().getrandbits(32))
    answers: dict[int, Compared] = {}
    failing: list[Compared] = []  # Hypothesis replays the smallest failing example last

    def check(index: int) -> Compared:
        if index not in answers:
            row, account = pool[index]
            exchange = ask(row, account)
            compared = Compared({k: row[k] for k in list(row)[:3]}, exchange.status, exchange.where)
            if 200 <= exchange.status < 300:
                try:
                    document = exchange.json()
                except ValueError:
                    document = None
                for column, at in spec.fields.items():
                    try:
                        seen = paths.resolve(document, at) if document is not None else "(not JSON)"
                    except paths.PathNotFound:
                        seen = f"(nothing at {at})"
                    compared.fields.append((column, row[column], seen, same(row[column], seen)))
            answers[index] = compared
        return answers[index]

    @seed(chosen)
    @settings(max_examples=spec.examples, deadline=None, database=None, derandomize=False, print_blob=False,
              phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(range(len(pool))))
    def agrees(index: int) -> None:
        compared = check(index)
        if not compared.agrees:
            failing.append(compared)
        assert compared.agrees

    try:
        agrees()
    except AssertionError:
        pass
    first = failing[-1] if failing else None
    compared = list(answers.values())
    evidence.table(f"'{name}': {len(compared)} record(s) compared, seed {chosen}", [
        {**{k: redact(str(v)) for k, v in c.record.items()}, "status": c.status,
         "agrees": "yes" if c.agrees else c.disagreement()} for c in compared])
    return AgreementResult(name, len(pool), chosen, compared, first, skipped)


def check_agreement(result: AgreementResult) -> None:
    """The API agreed with the database on every record sampled."""
    __tracebackhide__ = True
    from ..errors import CheckFailed

    bad = [c for c in result.compared if not c.agrees]
    if bad:
        first = result.first_disagreement or bad[0]
        record = ", ".join(f"{k}={v}" for k, v in first.record.items())
        raise CheckFailed(redact(
            f"expected the API to agree with the database on '{result.name}', but {len(bad)} of "
            f"{len(result.compared)} sampled record(s) disagree, first {record}: {first.disagreement()} "
            f"({first.where}); seed {result.seed}: {SEED_VARIABLE}={result.seed} samples the same records"))
