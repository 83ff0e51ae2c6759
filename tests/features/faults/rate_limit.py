"""Faults of the @rate_limit family: the sandbox's limiter switched off, a limit other than the promised one, one
budget for everybody, no Retry-After, headers that lie, a window that never ends, a counter a concurrent burst
gets past; each failing exactly its steps of ``features/rate_limits/``."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import Failure, Fault

ENFORCED = "test_every_limit_lets_exactly_its_number_through_and_refuses_the_next"
REFUSAL = "test_every_refusal_says_when_to_retry_and_the_headers_count_down"
IDENTITY = "test_every_limit_counts_each_user_apart"
CONCURRENT = "test_a_concurrent_burst_gets_no_more_than_the_limit_through"
RESET = "test_requests_go_through_again_once_the_window_has_passed"

LIMIT = "GET /api/v1/users/me as legacy"
ENFORCED_STEP = "Then every rate limit let exactly its limit through and refused the next request with 429"
REFUSAL_STEP = "Then every refusal says when to retry and the promised headers count down"
IDENTITY_STEP = "Then another identity is not refused once a limit is spent"
CONCURRENT_STEP = "Then no concurrent burst got more than its limit through"
RESET_STEP = "Then every rate limit lets requests through again"
#: the sandbox's limits in the matrix: 10 requests per 2 s, so that a window passes quickly
LIMITS = {"RATE_LIMIT_PER_MINUTE": "10", "RATE_LIMIT_WINDOW_SECONDS": "2"}
#: what the matrix's copy of local.yaml promises for its one limit (local.yaml itself: the sandbox's default, 100 per
#: 60 s)
PROMISE: dict[str, object] = {"limit": 10, "window": 2}


@dataclass(frozen=True)
class RateLimitFault(Fault):
    #: fields of the environment's one rate limit the run's file says instead (what the deployment promised)
    environment: dict[str, object] = field(default_factory=dict)
    family: str = "rate_limit"
    args: tuple[str, ...] = ("-m", "rate_limit")


NOT_REFUSED = "no request was refused"

FAULTS = [
    RateLimitFault("rate_limit_global", {**LIMITS, "SANDBOX_FAULTS": "rate_limit_global"},
                   why="One budget for everybody: once one user spent it, every other user is refused.",
                   failures={IDENTITY: Failure(IDENTITY_STEP, f"{LIMIT}: not counted per identity, once legacy spent "
                                                              "its quota admin and anonymous were refused too")}),
    RateLimitFault("rate_limit_racy", {**LIMITS, "SANDBOX_FAULTS": "rate_limit_racy"},
                   why="The counter reads and writes in two steps: requests in flight at once all get through.",
                   failures={CONCURRENT: Failure(CONCURRENT_STEP, "requests sent at once went through, the limit is "
                                                                  "10 (a counter that is not atomic)")}),
    RateLimitFault("rate_limit_no_retry_after", {**LIMITS, "SANDBOX_FAULTS": "rate_limit_no_retry_after"},
                   why="The 429 says nothing of when to retry.",
                   failures={REFUSAL: Failure(REFUSAL_STEP, f"{LIMIT}: the 429 says nothing of when to retry "
                                                            "(Retry-After absent)")}),
    # headers that lie blind the burst to a quota spent before it (the sign-ins count in a global budget)
    RateLimitFault("rate_limit_headers_lie", {**LIMITS, "SANDBOX_FAULTS": "rate_limit_headers_lie"},
                   why="X-RateLimit-Remaining always says the whole limit is left.",
                   failures={REFUSAL: Failure(REFUSAL_STEP, f"{LIMIT}: the remaining count does not go down by one "
                                                            "a request: 10, 10, 10")}),
    RateLimitFault("rate_limit_disabled", {**LIMITS, "SANDBOX_FAULTS": "rate_limit_disabled"},
                   why="The limiter is off: nothing is ever refused, and no check of a refusal can pass.",
                   failures={
                       ENFORCED: Failure(ENFORCED_STEP, f"{LIMIT}: not enforced at all, 12 requests in a row and none "
                                                        "refused"),
                       REFUSAL: Failure(REFUSAL_STEP, NOT_REFUSED),
                       IDENTITY: Failure(IDENTITY_STEP, "the quota was never spent"),
                       CONCURRENT: Failure(CONCURRENT_STEP, "12 of 12 requests sent at once went through"),
                       RESET: Failure(RESET_STEP, "no request was refused, so there is no window to wait out"),
                   }),
    RateLimitFault("limit_above_the_promise", {**LIMITS, "RATE_LIMIT_PER_MINUTE": "20"}, environment={"limit": 10},
                   why="The deployment allows 20 where it promised 10.",
                   failures={
                       ENFORCED: Failure(ENFORCED_STEP, f"{LIMIT}: enforced at the wrong number, 12 requests went "
                                                        "through (its headers say a limit of 20)"),
                       REFUSAL: Failure(REFUSAL_STEP, NOT_REFUSED),
                       IDENTITY: Failure(IDENTITY_STEP, "the quota was never spent"),
                       CONCURRENT: Failure(CONCURRENT_STEP, "12 of 12 requests sent at once went through"),
                       RESET: Failure(RESET_STEP, "no request was refused, so there is no window to wait out"),
                   }),
    RateLimitFault("rate_limit_no_reset", {**LIMITS, "SANDBOX_FAULTS": "rate_limit_no_reset"},
                   args=("-m", "rate_limit and slow"),
                   why="The window never ends (its headers say it does): only the reset scenario runs, as every "
                       "later burst would meet a spent quota.",
                   failures={RESET: Failure(RESET_STEP, f"{LIMIT}: still refused after waiting what the refusal said "
                                                        "(the window never resets)")}),
]
