"""The rate-limit library on answers built in the test: headers read in each dialect, bursts that stop as soon as
the answer is known, and each verdict said about the one fact it judges."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field

import pytest

from postdeploy import ratelimit
from postdeploy.environment import RateLimit
from postdeploy.errors import CheckFailed


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def spec(limit: int = 3, **fields) -> RateLimit:
    return RateLimit(route="/api/v1/users/me", identity="legacy", limit=limit, window=2, headers="x-ratelimit",
                     retry_after=True, **fields)


class Limiter:
    """A fixed window counted per identity, answering like the sandbox; ``lie``/``retry`` switch its defects."""

    def __init__(self, limit: int | None, *, per_identity: bool = True, lie: bool = False, retry: bool = True,
                 spent: int = 0) -> None:
        self.limit, self.per_identity, self.lie, self.retry = limit, per_identity, lie, retry
        self.counts: dict[str, int] = {"legacy": spent}
        self.asked = 0

    def __call__(self, identity: str) -> Answer:
        self.asked += 1
        key = identity if self.per_identity else "everybody"
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.limit is None:
            return Answer(200)
        remaining = max(self.limit - self.counts[key], 0)
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining":
                   str(self.limit if self.lie else remaining), "X-RateLimit-Reset": str(int(time.time()) + 1)}
        if self.counts[key] > self.limit:
            if self.retry:
                headers["Retry-After"] = "1"
            return Answer(429, {k.lower(): v for k, v in headers.items()})
        return Answer(200, {k.lower(): v for k, v in headers.items()})


def test_x_ratelimit_headers_are_read_with_an_epoch_reset_as_seconds_from_now():
    limit, remaining, reset = ratelimit.read_headers(
        {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "7", "x-ratelimit-reset": str(int(time.time()) + 30)},
        "x-ratelimit")
    assert (limit, remaining) == (100, 7)
    assert 28 <= reset <= 31


def test_the_ietf_draft_is_read_in_its_older_and_its_newer_form():
    older = {"ratelimit": "limit=10, remaining=4, reset=12"}
    newer = {"ratelimit": '"default";r=4;t=12', "ratelimit-policy": '"default";q=10;w=60'}
    assert ratelimit.read_headers(older, "ietf") == (10, 4, 12.0)
    assert ratelimit.read_headers(newer, "ietf") == (10, 4, 12.0)
    assert ratelimit.read_headers({}, "ietf") == (None, None, None)


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert ratelimit.retry_after_s("7") == 7.0
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= ratelimit.retry_after_s(in_a_minute) <= 61
    assert ratelimit.retry_after_s("soon") is None
    assert ratelimit.retry_after_s(None) is None


def test_a_burst_stops_at_the_first_429_and_then_asks_as_another_identity():
    limiter = Limiter(3)
    timeline = ratelimit.burst(spec(), limiter, "legacy", others=["admin", "anonymous"])
    assert [r.status for r in timeline.requests] == [200, 200, 200, 429]
    assert [r.remaining for r in timeline.requests] == [2, 1, 0, 0]
    assert [(r.identity, r.status) for r in timeline.others] == [("admin", 200), ("anonymous", 200)]
    assert limiter.asked == 6  # limit + 1, and one request as each other identity
    ratelimit.enforced_at_its_number([timeline])
    ratelimit.says_when_to_retry([timeline])
    ratelimit.per_identity([timeline])


def test_a_burst_never_sends_more_than_limit_plus_slack_when_nothing_is_refused():
    limiter = Limiter(None)
    timeline = ratelimit.burst(spec(), limiter, "legacy")
    assert limiter.asked == 3 + ratelimit.SLACK
    with pytest.raises(CheckFailed, match=r"as legacy: not enforced at all, 5 requests in a row and none refused"):
        ratelimit.enforced_at_its_number([timeline])


def test_a_limit_enforced_at_another_number_is_said_apart_from_one_not_enforced():
    timeline = ratelimit.burst(spec(limit=3), Limiter(2), "legacy")
    with pytest.raises(CheckFailed, match=r"enforced at the wrong number, 2 went through before the first 429 "
                                          r"\(request 3\), expected 3 per 2 s"):
        ratelimit.enforced_at_its_number([timeline])
    above = ratelimit.burst(spec(limit=3), Limiter(10), "legacy")
    with pytest.raises(CheckFailed, match=r"enforced at the wrong number, 5 requests went through \(its headers say "
                                          r"a limit of 10\)"):
        ratelimit.enforced_at_its_number([above])


def test_a_quota_spent_before_the_burst_is_waited_out_first(monkeypatch):
    limiter = Limiter(3, spent=2)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the window passes while the burst waits
        slept.append(seconds)
        limiter.counts["legacy"] = 0

    monkeypatch.setattr(ratelimit.time, "sleep", sleep)
    timeline = ratelimit.burst(spec(), limiter, "legacy")
    assert len(slept) == 1 and 0 < timeline.waited_s <= 2 + 5
    assert [r.status for r in timeline.requests] == [200, 200, 200, 429]
    ratelimit.enforced_at_its_number([timeline])


def test_a_refusal_without_retry_after_and_headers_that_lie_fail_the_refusal_check():
    silent = ratelimit.burst(spec(), Limiter(3, retry=False), "legacy")
    with pytest.raises(CheckFailed, match=r"the 429 says nothing of when to retry \(Retry-After absent\)"):
        ratelimit.says_when_to_retry([silent])
    lying = ratelimit.burst(spec(), Limiter(3, lie=True), "legacy")
    with pytest.raises(CheckFailed, match=r"the remaining count does not go down by one a request: 3, 3, 3"):
        ratelimit.says_when_to_retry([lying])


def test_one_budget_for_everybody_fails_the_per_identity_check():
    timeline = ratelimit.burst(spec(), Limiter(3, per_identity=False), "legacy", others=["admin", "anonymous"])
    with pytest.raises(CheckFailed, match=r"not counted per identity, once legacy spent its quota admin and "
                                          r"anonymous were refused too"):
        ratelimit.per_identity([timeline])


def test_a_concurrent_burst_that_got_past_the_limit_fails_and_one_held_to_it_passes():
    held = ratelimit.concurrent_burst(spec(limit=4), Limiter(4), "legacy")
    assert len(held.requests) == 4 + ratelimit.SLACK and held.let_through == 4
    ratelimit.concurrency_held([held])
    racy = ratelimit.concurrent_burst(spec(limit=4), Limiter(None), "legacy")
    with pytest.raises(CheckFailed, match=r"6 of 6 requests sent at once went through, the limit is 4"):
        ratelimit.concurrency_held([racy])


def test_the_chart_draws_one_bar_a_request_coloured_by_outcome():
    timeline = ratelimit.burst(spec(), Limiter(3), "legacy")
    svg = ratelimit.chart(timeline)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('fill="#2e7d32"') == 3 and svg.count('fill="#c62828"') == 1
    assert "3 let through, 1 refused (limit 3 per 2 s)" in svg


def test_the_quota_is_whole_again_when_the_last_answer_says():
    refused = ratelimit.burst(spec(), Limiter(3), "legacy")
    assert ratelimit.quota_back_in([refused]) == 1.0  # its 429's Retry-After
    unrefused = ratelimit.burst(spec(), Limiter(None), "legacy")  # no header at all: the window
    assert ratelimit.quota_back_in([refused, unrefused]) == 2.0
    assert ratelimit.quota_back_in([]) == 0.0


class Item:
    """Just what the teardown hook reads of a pytest item: its markers and its stash."""

    def __init__(self, *markers: str) -> None:
        self.markers, self.stash = set(markers), pytest.Stash()

    def get_closest_marker(self, name: str):
        return name if name in self.markers else None


def test_the_last_rate_limit_scenario_before_another_family_waits_until_the_quota_is_whole(monkeypatch):
    from postdeploy.steps import rate_limits as steps

    slept: list[float] = []
    monkeypatch.setattr(steps.time, "sleep", slept.append)
    burst = Item("rate_limit")
    burst.stash[steps.QUOTA_BACK] = time.monotonic() + 30
    steps.pytest_runtest_teardown(burst, Item("rate_limit"))  # another burst follows: no wait
    steps.pytest_runtest_teardown(burst, None)  # the run ends: no wait
    assert slept == []
    steps.pytest_runtest_teardown(burst, Item("smoke"))
    assert len(slept) == 1 and 29 < slept[0] <= 30
