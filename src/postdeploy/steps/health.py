"""Is every service up and running the release: health checks as the environment expects them, and the
version each service reports (:mod:`postdeploy.checks.health`)."""

from __future__ import annotations

import pytest
from pytest_bdd import then, when

from postdeploy import checks
from postdeploy.environment import Environment

from ._support import asked_first


@pytest.fixture
def health_answers() -> list[checks.HealthAnswer]:
    asked_first("the health answers of every service", "When I ask every service for its health")


@pytest.fixture
def version_answers() -> list[checks.VersionAnswer]:
    asked_first("the versions the services report", "When I ask every service for the release it runs")


@when("I ask every service for its health", target_fixture="health_answers")
def _(env: Environment, service_client, sessions) -> list[checks.HealthAnswer]:
    """GET the health path of every service of the environment; for a service answering healthy, also make the calls of its ``health.depends_on`` (calls that need what the health vouches for), signed in as their ``account``.

    Example: When I ask every service for its health
    """
    return checks.ask_health(env, service_client, sessions.credentials)


@then("every service answers its health check as the environment expects")
def _(health_answers: list[checks.HealthAnswer]) -> None:
    """Each health answer is as the service's ``health:`` expectation says (status, ``body``, ``contains``, ``json`` fields); a service that answered healthy while a call of its ``health.depends_on`` failed is "health check hides a dependency outage".

    Example: Then every service answers its health check as the environment expects
    """
    checks.services_healthy(health_answers)


@when("I ask every service for the release it runs", target_fixture="version_answers")
def _(env: Environment, service_client) -> list[checks.VersionAnswer]:
    """Ask every service listed under ``release.services`` for the version it runs (its ``path``; ``samples`` times on fresh connections to reach every instance).

    Example: When I ask every service for the release it runs
    """
    return checks.ask_versions(env, service_client)


@then("every service reports the release version")
def _(env: Environment, version_answers: list[checks.VersionAnswer]) -> None:
    """Every answer reports the release that should be live (at the service's ``json`` path, its ``header`` or the whole body): ``$POSTDEPLOY_RELEASE_VERSION`` when set, else ``release.version``.

    Example: Then every service reports the release version
    """
    checks.release_version(env, version_answers)
