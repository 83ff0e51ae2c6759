"""CORS: the browser's preflight, the origins the environment allows, and the ones it must refuse
(:mod:`postdeploy.checks.cors`)."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from postdeploy import checks
from postdeploy.environment import Environment
from postdeploy.http import Exchange


@when(parsers.parse('I send a CORS preflight for {method:w} "{path}" to the "{service}" service from the origin "{origin}"'),
      target_fixture="response")
def _(service_client, method: str, path: str, service: str, origin: str) -> Exchange:
    """Send the browser's CORS preflight (OPTIONS with Origin and Access-Control-Request-Method).

    Example: When I send a CORS preflight for GET "/api/v1/users/me" to the "api" service from the origin "https://evil.example"
    """
    return checks.preflight(service_client(service), path, method, origin)


@then(parsers.parse('the "{service}" service allows CORS on "{path}" from every origin the environment allows'))
def _(env: Environment, service_client, service: str, path: str) -> None:
    """Preflight from each of ``expect.cors.allowed_origins``: each must be allowed (echoed, with credentials if expected).

    Example: Then the "api" service allows CORS on "/api/v1/users/me" from every origin the environment allows
    """
    checks.allows_configured_origins(env, service_client(service), path)


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


@then(parsers.parse('the "{service}" service refuses CORS on "{path}" from foreign origins'))
def _(env: Environment, service_client, service: str, path: str) -> None:
    """Send a preflight and a simple cross-origin GET from each foreign origin: an unrelated site, ``null``, each allowed origin followed by ``.evil.example`` and over the other scheme, and ``expect.cors.refused_origins``; each must be refused wholly (no Access-Control-Allow-Origin for it, no Allow-Credentials).

    Example: Then the "api" service refuses CORS on "/api/v1/users/me" from foreign origins
    """
    checks.refuses_foreign_origins(env, service_client(service), path, service)
