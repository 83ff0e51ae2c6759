"""Rate-limit steps (``@rate_limit``): every limit of the environment's ``rate_limits:`` table, from one table, not
one scenario per route (:mod:`postdeploy.ratelimit`). A When step sends the bursts and keeps their timelines
(``rate_limit_timelines``); the Then steps judge them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pytest_bdd import then, when

from postdeploy import ratelimit
from postdeploy.environment import ANONYMOUS, Environment
from postdeploy.errors import SuiteError

#: the xdist group of every @rate_limit scenario: they spend the same test identities' quotas, so under
#: ``-n N --dist loadgroup`` they run one after the other on one worker, never at the same time
XDIST_GROUP = "rate_limit"


@pytest.hookimpl(tryfirst=True)  # before xdist's loadgroup reads the groups (its hook is trylast)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):  # without xdist (-p no:xdist) there are no groups to keep
        return
    for item in items:
        if item.get_closest_marker("rate_limit") is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(XDIST_GROUP))


#: when the quotas a scenario's bursts spent are whole again (``time.monotonic()``), kept on its item
QUOTA_BACK = pytest.StashKey[float]()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last @rate_limit scenario before one of another family: wait until the spent quotas are whole
    again, so the next family's requests are not refused because of this one's bursts."""
    if nextitem is None or nextitem.get_closest_marker("rate_limit") is not None or QUOTA_BACK not in item.stash:
        return
    time.sleep(max(0.0, item.stash[QUOTA_BACK] - time.monotonic()))


def _spent(request: pytest.FixtureRequest, timelines: list[ratelimit.Timeline]) -> list[ratelimit.Timeline]:
    request.node.stash[QUOTA_BACK] = time.monotonic() + ratelimit.quota_back_in(timelines) + 0.2
    return timelines


@pytest.fixture
def rate_limit_timelines() -> list[ratelimit.Timeline]:
    raise SuiteError("this step judges rate-limit bursts, but none were sent: 'When I send a burst to every rate "
                     "limit of the environment' must come before it (the feature is wrong, not the target)")


def _limits(env: Environment) -> list[Any]:
    limits = env.section("rate_limits") or []
    if not limits:
        pytest.skip(f"not applicable: environment '{env.name}' lists no rate_limits")
    if env.safety.read_only and any(spec.method not in ("GET", "HEAD", "OPTIONS") for spec in limits):
        limits = [spec for spec in limits if spec.method in ("GET", "HEAD", "OPTIONS")]
        if not limits:
            pytest.skip(f"not applicable: environment '{env.name}' is read-only and every limit is on a method that "
                        "writes")
    return limits


def _asker(env: Environment, service_client, sessions, spec: Any, *identities: str):
    """``ask(identity)``: one request to the limit's route as that identity. The identities are signed in here,
    before any burst, so that no sign-in lands in a spent window (a global budget would refuse it)."""
    client = service_client(spec.service or env.auth.service)
    headers: dict[str, list[tuple[str, str]]] = {}
    for identity in (spec.identity, *identities):
        if identity == ANONYMOUS:
            headers[identity] = []
        elif identity.startswith("secrets."):
            headers[identity] = [(spec.api_key_header, str(env.secrets[identity.removeprefix("secrets.")]))]
        else:
            headers[identity] = list(sessions.credentials(identity).headers)

    def ask(identity: str):
        return client.request(spec.method, spec.path, headers=headers[identity], attach=False, rate_limit_check=True)

    return ask


def _others(env: Environment, identity: str) -> list[str]:
    """The identities to compare with: the first other account of the environment, and anonymous."""
    account = next((name for name in env.accounts if name != identity), None)
    return [name for name in (account, ANONYMOUS) if name is not None and name != identity]


@when("I send a burst to every rate limit of the environment", target_fixture="rate_limit_timelines")
def _(request: pytest.FixtureRequest, env: Environment, service_client, sessions) -> list[ratelimit.Timeline]:
    """For each limit of ``rate_limits:``: wait for a fresh window when its identity's headers say part of it is spent, send requests one after the other as its ``identity`` until the first 429 (never more than limit + 2), then one request as another account (the first of ``accounts:`` that is not the identity) and one anonymous. Read-only environments burst only limits on GET, HEAD or OPTIONS.

    Example: When I send a burst to every rate limit of the environment
    """
    return _spent(request, [ratelimit.burst(spec, _asker(env, service_client, sessions, spec, *_others(env, spec.identity)),
                                            spec.identity, others=_others(env, spec.identity)) for spec in _limits(env)])


@when("I send a concurrent burst to every rate limit of the environment", target_fixture="rate_limit_timelines")
def _(request: pytest.FixtureRequest, env: Environment, service_client, sessions) -> list[ratelimit.Timeline]:
    """For each limit of ``rate_limits:``, from a fresh window: limit + max(2, limit / 4) requests in flight at once as its identity.

    Example: When I send a concurrent burst to every rate limit of the environment
    """
    return _spent(request, [ratelimit.concurrent_burst(spec, _asker(env, service_client, sessions, spec),
                                                       spec.identity) for spec in _limits(env)])


@when("I wait out every rate limit's window")
def _(request: pytest.FixtureRequest, env: Environment, service_client, sessions,
      rate_limit_timelines: list[ratelimit.Timeline]) -> None:
    """After a burst: wait as long as each refusal said (``Retry-After``, else the reset header, else ``window``), then send one more request as the same identity.

    Example: When I wait out every rate limit's window
    """
    for timeline in rate_limit_timelines:
        ratelimit.after_window(timeline, _asker(env, service_client, sessions, timeline.spec))
    _spent(request, rate_limit_timelines)


@then("every rate limit let exactly its limit through and refused the next request with 429")
def _(rate_limit_timelines: list[ratelimit.Timeline]) -> None:
    """Each burst: exactly ``limit`` requests went through before the first 429. A limit that refused nothing is "not enforced at all", one that refused earlier or later "enforced at the wrong number". Each burst is attached as a table and a chart.

    Example: Then every rate limit let exactly its limit through and refused the next request with 429
    """
    ratelimit.enforced_at_its_number(rate_limit_timelines)


@then("every refusal says when to retry and the promised headers count down")
def _(rate_limit_timelines: list[ratelimit.Timeline]) -> None:
    """The 429 carries ``Retry-After`` within the window where ``retry_after`` is promised; where ``headers`` are promised (``x-ratelimit`` or ``ietf``) every answer carries them, with the limit of the table and a remaining count one lower a request.

    Example: Then every refusal says when to retry and the promised headers count down
    """
    ratelimit.says_when_to_retry(rate_limit_timelines)


@then("another identity is not refused once a limit is spent")
def _(rate_limit_timelines: list[ratelimit.Timeline]) -> None:
    """Right after a burst's 429, the requests as another account and as anonymous were not refused with 429: each identity has a budget of its own, and a signed-in one does not leak into the anonymous one.

    Example: Then another identity is not refused once a limit is spent
    """
    ratelimit.per_identity(rate_limit_timelines)


@then("no concurrent burst got more than its limit through")
def _(rate_limit_timelines: list[ratelimit.Timeline]) -> None:
    """Of the requests sent at once, at most ``limit`` went through (a counter that reads and writes in two steps lets more through).

    Example: Then no concurrent burst got more than its limit through
    """
    ratelimit.concurrency_held(rate_limit_timelines)


@then("every rate limit lets requests through again")
def _(rate_limit_timelines: list[ratelimit.Timeline]) -> None:
    """The request sent after waiting out the window went through.

    Example: Then every rate limit lets requests through again
    """
    ratelimit.lets_through_again(rate_limit_timelines)
