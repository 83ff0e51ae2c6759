"""The release's routes: who may call which route (the environment's ``routes:`` table), and tables of
requests judged by status, content type, JSON entries or latency (:mod:`postdeploy.checks.routes`)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from postdeploy import checks
from postdeploy.auth import Sessions
from postdeploy.environment import Environment

from ._support import sender, table


@then("every route of the release answers each identity as the environment's routes table says")
def _(env: Environment, sessions: Sessions, service_client) -> None:
    """Ask every route of the environment's ``routes:`` table as each caller its row names (``anonymous`` or an account, signed in the way ``auth:`` says) and expect the status given there; every cell is checked, then every difference reported.

    Example: Then every route of the release answers each identity as the environment's routes table says
    """
    checks.routes_and_roles(env, service_client, lambda account: sessions.credentials(account))


@then(parsers.parse('these requests to the "{service}" service answer:'))
def _(service_client, credentials, service: str, datatable) -> None:
    """Send each request of the table (``method``, ``path``, optional ``body``) as the current identity and expect its ``status`` (``401|403`` for either).

    Example: Then these requests to the "api" service answer:
    """
    checks.requests_answer(sender(service_client, credentials, service), table(datatable))


@then(parsers.parse('these requests to the "{service}" service answer with the content types:'))
def _(service_client, credentials, service: str, datatable) -> None:
    """Send each request of the table (``method``, ``path``) as the current identity and expect the media type of its ``content type`` column (``application/json``, ``text/html``; charset aside), whatever the status.

    Example: Then these requests to the "api" service answer with the content types:
    """
    checks.content_types(sender(service_client, credentials, service), table(datatable))


@then(parsers.parse('these requests to the "{service}" service answer JSON with at least {count:d} entries:'))
def _(service_client, credentials, service: str, count: int, datatable) -> None:
    """Each request of the table (``method``, ``path``) answers 2xx JSON holding at least this many values, nested ones counted one by one: a translation file or a configuration that loads as ``{}`` fails.

    Example: Then these requests to the "frontend" service answer JSON with at least 10 entries:
    """
    checks.entries_at_least(sender(service_client, credentials, service), table(datatable), count)


@then(parsers.parse('these requests to the "{service}" service answer within the "{objective}" objective:'))
def _(env: Environment, service_client, credentials, service: str, objective: str, datatable) -> None:
    """Time each request of the table (``method``, ``path``) as the current identity: each must succeed within an objective of the environment (``objectives:``, in ms or s: below its green limit), so real routes are measured, not only health.

    Example: Then these requests to the "api" service answer within the "api_latency_ms" objective:
    """
    checks.latencies(sender(service_client, credentials, service), table(datatable), objective,
                     env.objective_spec(objective))
