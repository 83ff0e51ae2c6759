"""CORS: the browser's preflight, the origins the environment allows, and the ones it must refuse
(:mod:`postdeploy.checks.cors`)."""

from __future__ import annotations

import pytest
from pytest_bdd import parsers, then, when

from postdeploy import checks
from postdeploy.environment import Environment
from postdeploy.http import Exchange

from ._support import asked_first


@when(parsers.parse('I send a CORS preflight for {method:w} "{path}" to the "{service}" service from the origin "{origin}"'),
      target_fixture="response")
def _(service_client, method: str, path: str, service: str, origin: str) -> Exchange:
    """Send the browser's CORS preflight (OPTIONS with Origin and Access-Control-Request-Method).

    Example: When I send a CORS preflight for GET "/api/v1/users/me" to the "api" service from the origin "https://evil.example"
    """
    return checks.preflight(service_client(service), path, method, origin)


@when(parsers.parse('I send CORS requests to "{path}" on the "{service}" service from every allowed origin'),
      target_fixture="cors_answers")
def _(env: Environment, service_client, path: str, service: str) -> checks.CorsProbe:
    """Send a preflight from each of ``expect.cors.allowed_origins`` (inconclusive when it lists none).

    Example: When I send CORS requests to "/api/v1/users/me" on the "api" service from every allowed origin
    """
    return checks.ask_allowed_origins(env, service_client(service), path)


@then("CORS allows every allowed origin")
def _(env: Environment, cors_answers: checks.CorsProbe) -> None:
    """Each allowed origin was let in: echoed in Access-Control-Allow-Origin, with Allow-Credentials when ``expect.cors.credentials``.

    Example: Then CORS allows every allowed origin
    """
    checks.allows_configured_origins(env, cors_answers)


@then(parsers.parse('CORS does not allow the origin "{origin}"'))
def _(response: Exchange, origin: str) -> None:
    """The last (preflight) response does not let this origin in: no matching or wildcard Access-Control-Allow-Origin.

    Example: Then CORS does not allow the origin "https://evil.example"
    """
    checks.refuses_origin(response, origin)


@then("CORS does not combine a wildcard origin with credentials")
def _(response: Exchange) -> None:
    """``Access-Control-Allow-Origin: *`` never appears together with ``Access-Control-Allow-Credentials: true``.

    Example: Then CORS does not combine a wildcard origin with credentials
    """
    checks.no_wildcard_with_credentials(response)


@when(parsers.parse('I send CORS requests to "{path}" on the "{service}" service from foreign origins'),
      target_fixture="cors_answers")
def _(env: Environment, service_client, path: str, service: str) -> checks.CorsProbe:
    """Send a preflight and a simple cross-origin GET from each foreign origin: an unrelated site, ``null``, each allowed origin followed by ``.evil.example`` and over the other scheme, and ``expect.cors.refused_origins``.

    Example: When I send CORS requests to "/api/v1/users/me" on the "api" service from foreign origins
    """
    return checks.ask_foreign_origins(env, service_client(service), path)


@then("CORS refuses every foreign origin")
def _(cors_answers: checks.CorsProbe) -> None:
    """Each foreign origin was refused wholly, on the preflight and the simple request: no Access-Control-Allow-Origin for it, no Allow-Credentials; every one let in is listed.

    Example: Then CORS refuses every foreign origin
    """
    checks.refuses_foreign_origins(cors_answers)


@pytest.fixture
def cors_answers() -> checks.CorsProbe:
    asked_first("answers to cross-origin requests", 'When I send CORS requests to "..." on the "..." service from ...')
