"""Scenario values and cleanups: carry a value from one step to the next, undo what a scenario created.

A value remembered here is ``{{name}}`` in every later step of the scenario (any argument, table cell or
docstring); ``{{run_id}}`` is always there. A cleanup registered here runs when the scenario ends, however
it ends (:mod:`postdeploy.scenario`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from pytest_bdd import given, parsers, when

from postdeploy import checks, evidence, scenario
from postdeploy.checks import fail
from postdeploy.environment import Environment
from postdeploy.errors import SuiteError
from postdeploy.http import Exchange

from ._support import sender


@pytest.fixture
def cleanups() -> Iterator[scenario.Cleanups]:
    """What the scenario must undo; run at its end, last registered first, even when a step failed."""
    registered = scenario.Cleanups()
    yield registered
    registered.run()


def _keep(request: pytest.FixtureRequest, env: Environment, name: str, value: object, *, secret: bool = False) -> None:
    text = scenario.remember(request.node, name, value, secret=secret, taken=(*env.values, *env.secrets))
    evidence.text(f"remembered {name}", "(a secret)" if secret else text)


# ---- values ----------------------------------------------------------------------------------

@given(parsers.parse('the value "{name}" is "{value}"'))
def _(request: pytest.FixtureRequest, env: Environment, name: str, value: str) -> None:
    """Name a value for the rest of the scenario; placeholders in it are filled first, so it can build a test
    identity that carries the run id.

    Example: Given the value "email" is "qa+{{run_id}}@example.com"
    """
    _keep(request, env, name, value)


@when(parsers.parse('I remember the JSON at "{path}" as "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, response: Exchange, path: str, name: str) -> None:
    """Remember a value of the last response's JSON body (an RFC 9535 JSONPath such as ``$.id`` or ``$.data[0].id``);
    an object or a list is kept as JSON text.

    Example: When I remember the JSON at "$.id" as "item_id"
    """
    _keep(request, env, name, checks.json_value(response, path))


@when(parsers.parse('I remember the JSON at "{path}" as the secret "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, response: Exchange, path: str, name: str) -> None:
    """Like remembering a JSON value, but the value is a secret (a token, a reset code): masked in every report.

    Example: When I remember the JSON at "$.access_token" as the secret "token"
    """
    _keep(request, env, name, checks.json_value(response, path), secret=True)


@when(parsers.parse('I remember the response header "{header}" as "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, response: Exchange, header: str, name: str) -> None:
    """Remember a header of the last response (e.g. the ``Location`` of what a POST created).

    Example: When I remember the response header "Location" as "created"
    """
    _keep(request, env, name, checks.header_value(response, header))


@when(parsers.parse('I remember the text matching "{pattern}" in the response body as "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, response: Exchange, pattern: str, name: str) -> None:
    """Remember the part of the last response's body that a regular expression matches: its first group when it
    has one, else the whole match.

    Example: When I remember the text matching "order ([0-9]+) created" in the response body as "order_id"
    """
    _keep(request, env, name, _matching(response, pattern))


@when(parsers.parse('I remember the text matching "{pattern}" in the response body as the secret "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, response: Exchange, pattern: str, name: str) -> None:
    """Like remembering matching text, but the value is a secret (a reset token in an e-mail): masked in every report.

    Example: When I remember the text matching "token=([\\w.-]+)" in the response body as the secret "token"
    """
    _keep(request, env, name, _matching(response, pattern), secret=True)


def _matching(response: Exchange, pattern: str) -> str:
    __tracebackhide__ = True
    try:
        found = re.search(pattern, response.text)
    except re.error as exc:
        raise SuiteError(f"/{pattern}/ is not a valid regular expression ({exc}); fix it in the feature") from None
    if found is None:
        fail(f"expected the body of {response.where} to hold text matching /{pattern}/, but it does not "
             f"({response.summary()})")
    return found.group(1) if found.re.groups else found.group(0)


# ---- cleanups -------------------------------------------------------------------------------

@when(parsers.parse('I clean up afterwards with a {method:w} request to "{path}" on the "{service}" service'))
def _(cleanups: scenario.Cleanups, service_client, credentials, method: str, path: str, service: str) -> None:
    """Register how to undo what the scenario just created: the request is sent when the scenario ends (even when a
    later step fails), as the identity current now; a 2xx or a 404/410 (already gone) means undone. Write it right
    after the step that created the thing, with the value that names it.

    Example: When I clean up afterwards with a DELETE request to "/api/v1/items/{{item_id}}" on the "api" service
    """
    send = sender(service_client, credentials, service)
    what = f"{method.upper()} {path} on the '{service}' service"

    def undo() -> None:
        __tracebackhide__ = True
        answer = send(method.upper(), path)
        if not (200 <= answer.status < 300 or answer.status in (404, 410)):
            fail(f"answered {answer.summary()}, so what it removes may still be there")

    cleanups.add(what, undo)
