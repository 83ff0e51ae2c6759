"""The release's routes: who may call which route (the environment's ``routes:`` table), and the answers to a
table of requests (``When I send these requests``) judged by status, content type, JSON entries or latency
(:mod:`postdeploy.checks.routes`)."""

from __future__ import annotations

import pytest
from pytest_bdd import parsers, then, when

from postdeploy import checks
from postdeploy.auth import Sessions
from postdeploy.environment import Environment
from postdeploy.errors import SuiteError

from ._support import asked_first


@when("every identity calls the routes of the environment's routes table", target_fixture="route_answers")
def _(env: Environment, sessions: Sessions, service_client) -> checks.RouteAnswers:
    """Call every route of the environment's ``routes:`` table as each caller its row names (``anonymous`` or an account, signed in the way ``auth:`` says); an account whose credentials are refused on its first protected route is not sent its other cells.

    Example: When every identity calls the routes of the environment's routes table
    """
    return checks.ask_routes(env, service_client, lambda account: sessions.credentials(account))


@then("every route answers each identity as the routes table says")
def _(route_answers: checks.RouteAnswers) -> None:
    """Every route/caller cell got the status the table gives it; every cell is judged, then every difference reported (the table of all cells attached).

    Example: Then every route answers each identity as the routes table says
    """
    checks.routes_and_roles(route_answers)


@pytest.fixture
def route_answers() -> checks.RouteAnswers:
    asked_first("the answers to the routes table", "When every identity calls the routes of the environment's "
                "routes table")


@then("every response has the status its row expects")
def _(answers: list[checks.Answer]) -> None:
    """Each answer to ``When I send these requests`` has the ``status`` of its row (``200``, ``401 or 403``, ``2xx``); every row is judged, then every difference reported.

    Example: Then every response has the status its row expects
    """
    checks.statuses_as_listed(answers)


@then("every response has the content type its row expects")
def _(answers: list[checks.Answer]) -> None:
    """Each answer has the media type of its row's ``content type`` (``application/json``, ``text/html``; charset aside), whatever the status.

    Example: Then every response has the content type its row expects
    """
    checks.content_types_as_listed(answers)


@then(parsers.re(r"every response is JSON with at least (?P<count>\d+) (?:entry|entries)"),
      converters={"count": int})
def _(answers: list[checks.Answer], count: int) -> None:
    """Each answer is 2xx JSON holding at least this many values, nested ones counted one by one: a translation file or a configuration that loads as ``{}`` fails.

    Example: Then every response is JSON with at least 10 entries
    """
    checks.entries_at_least(answers, count)


@then(parsers.parse('every response arrived within the "{objective}" objective'))
def _(env: Environment, answers: list[checks.Answer], objective: str) -> None:
    """Each answer succeeded within an objective of the environment (``objectives:``, in ms or s: below its green limit), so real routes are measured, not only health.

    Example: Then every response arrived within the "api_latency_ms" objective
    """
    checks.latencies(answers, objective, env.objective_spec(objective))


@pytest.fixture
def answers() -> list[checks.Answer]:
    """The answers to the last table of requests; ``When I send these requests`` replaces them."""
    raise SuiteError("this step judges the answers to a table of requests, but none was sent: a 'When I send these "
                     "requests to the ... service:' step must come before it (the feature is wrong, not the target)")
