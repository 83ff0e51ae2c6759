"""Is every service up and running the release: health checks as the environment expects them, and the
version each service reports (:mod:`postdeploy.checks.health`)."""

from __future__ import annotations

from pytest_bdd import then

from postdeploy import checks
from postdeploy.environment import Environment


@then("every service answers its health check as the environment expects")
def _(env: Environment, service_client, sessions) -> None:
    """Ask every service of the environment its health path and judge the answer by its ``health:`` expectation;
    a service that answers healthy while a call of its ``health.depends_on`` fails hides a dependency outage.

    Example: Then every service answers its health check as the environment expects
    """
    checks.services_healthy(env, service_client, sessions.credentials)


@then("every service reports the release version")
def _(env: Environment, service_client) -> None:
    """Ask every service listed under ``release.services`` for the version it runs (its ``path``, then a ``json`` path, a ``header`` or the body; ``samples`` times on fresh connections to reach every instance) and expect the release: ``$POSTDEPLOY_RELEASE_VERSION`` when set, else ``release.version``.

    Example: Then every service reports the release version
    """
    checks.release_version(env, service_client)
