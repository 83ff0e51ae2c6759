"""Who is asking and what is sent: anonymous or signed in as an account, requests to a service.

A When step that sends a request makes its answer the ``response`` the Then steps of
:mod:`postdeploy.steps.responses` (and the CORS and metrics steps) judge.
"""

from __future__ import annotations

import json

import pytest
from pytest_bdd import given, parsers, when

from postdeploy.auth import Credentials, Sessions
from postdeploy.errors import SuiteError
from postdeploy.http import Exchange

from ._support import sender, table


@pytest.fixture
def response() -> Exchange:
    """The last response; a When step that sends a request replaces it."""
    raise SuiteError("this step checks the last response, but no request was sent yet: a 'When I send ...' step "
                     "must come before it in the scenario (the feature is wrong, not the target)")


# ---- who is asking ----------------------------------------------------------------------

@given("I am anonymous", target_fixture="credentials")
def _() -> None:
    """Send the next requests without credentials.

    Example: Given I am anonymous
    """


@given(parsers.parse('I am signed in as "{account}"'), target_fixture="credentials")
def _(sessions: Sessions, account: str) -> Credentials:
    """Sign in as an account of the environment (``accounts:``), the way ``auth:`` says; later requests carry its credentials.

    Example: Given I am signed in as "admin"
    """
    return sessions.credentials(account)


# ---- requests ----------------------------------------------------------------------------

@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service'), target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str) -> Exchange:
    """Send a request to a service of the environment, as the current identity.

    Example: When I send a GET request to "/api/v1/users/me" on the "api" service
    """
    return sender(service_client, credentials, service)(method, path)


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the JSON body:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, docstring: str) -> Exchange:
    """Send a JSON body (a docstring; ``{{name}}`` placeholders are filled from the environment).

    Example: When I send a POST request to "/api/v1/orders" on the "api" service with the JSON body:
    """
    return sender(service_client, credentials, service)(method, path, json=json.loads(docstring))


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the headers:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a request with extra headers, from a table with the columns ``name`` and ``value``.

    Example: When I send a GET request to "/api/v1/users/me" on the "api" service with the headers:
    """
    headers = [(row["name"], row["value"]) for row in table(datatable)]
    return sender(service_client, credentials, service)(method, path, headers=headers)
