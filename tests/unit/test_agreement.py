"""The API-and-database agreement's own logic: how values compare, how records are drawn and reported.
The agreement against a real API and PostgreSQL is proven by the data-integrity fault matrix
(unread_count_counts_read)."""

import datetime as dt
import decimal
import uuid

import httpx
import pytest

from postdeploy.database import Agreement, agreement
from postdeploy.errors import CheckFailed, Inconclusive, SuiteError
from postdeploy.http import Exchange
from postdeploy.sql import Result


class Rows:
    """A session that answers every query with fixed rows (the SQL is the real module's)."""

    def __init__(self, columns, rows):
        self.result = Result(tuple(columns), tuple(tuple(r) for r in rows))
        self.sql = []
        self.where = "postgresql://db.test/app"

    def query(self, sql, params=None):
        self.sql.append(sql)
        return self.result


def answer(body: dict, status: int = 200) -> Exchange:
    import json

    return Exchange(service="api", method="GET", url="http://api.test/x", request_headers=(), request_body=b"",
                    status=status, headers=httpx.Headers({"content-type": "application/json"}),
                    body=json.dumps(body).encode(), elapsed_ms=1.0)


def test_values_compare_as_the_same_fact():
    assert agreement.same(decimal.Decimal("12.50"), 12.5) and agreement.same(3, 3.0)
    assert agreement.same(uuid.UUID(int=1), str(uuid.UUID(int=1)))
    assert agreement.same(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "2026-01-01T00:00:00Z")
    assert not agreement.same(2, 3) and not agreement.same(None, 0) and not agreement.same(True, 1)
    assert not agreement.same(1, "x")


def test_every_drawn_record_is_asked_once_and_a_disagreement_names_record_column_values_and_seed(monkeypatch):
    monkeypatch.setenv(agreement.SEED_VARIABLE, "1234")
    spec = Agreement(query="SELECT id, total FROM orders", path="/orders/{id}", account="staff",
                     fields={"total": "$.total"}, examples=30)
    session = Rows(["id", "total"], [[i, i * 10] for i in range(8)])
    asked = []

    def ask(row, account):
        asked.append((row["id"], account))
        return answer({"total": row["total"] + (1 if row["id"] == 5 else 0)})

    result = agreement.compare("orders", spec, session, ask, {})
    assert "LIMIT 1000" in session.sql[0]
    assert len(asked) == len(set(asked)) and {who for _, who in asked} == {"staff"}
    assert result.seed == 1234 and result.first_disagreement.record == {"id": 5, "total": 50}
    with pytest.raises(CheckFailed, match=r"'orders', but 1 of \d+ sampled record\(s\) disagree, first id=5, total=50: "
                                          r"total: database 50, API 51 .*POSTDEPLOY_SEED=1234"):
        agreement.check_agreement(result)


def test_records_of_users_who_are_not_accounts_are_left_out_and_none_left_is_inconclusive():
    spec = Agreement(query="SELECT email, unread FROM x", path="/unread", account_column="email",
                     fields={"unread": "$.n"})
    session = Rows(["email", "unread"], [["a@x", 2], ["stranger@x", 9]])
    result = agreement.compare("unread", spec, session, lambda row, who: answer({"n": 2}), {"a@x": "alice"})
    assert result.skipped == 1 and [c.record["email"] for c in result.compared] == ["a@x"]
    agreement.check_agreement(result)
    with pytest.raises(Inconclusive, match="returned no record whose 'email' is the username of an account"):
        agreement.compare("unread", spec, session, lambda row, who: answer({}), {})


def test_a_query_without_the_compared_column_is_a_feature_error():
    spec = Agreement(query="SELECT id FROM x", path="/x/{id}", fields={"total": "$.total"})
    with pytest.raises(SuiteError, match="returns no column 'total'"):
        agreement.compare("x", spec, Rows(["id"], [[1]]), lambda row, who: answer({}), {})


def test_an_error_answer_disagrees():
    spec = Agreement(query="SELECT id FROM x", path="/x/{id}", fields={"id": "$.id"})
    result = agreement.compare("x", spec, Rows(["id"], [[1]]), lambda row, who: answer({}, status=500), {})
    with pytest.raises(CheckFailed, match="answered 500"):
        agreement.check_agreement(result)
