"""Who is asking and what is sent: anonymous or signed in as an account, requests to a service.

A When step that sends a request makes its answer the ``response`` the Then steps of
:mod:`postdeploy.steps.responses` (and the CORS and metrics steps) judge; ``When I send these requests``
keeps every answer of a table (``answers``) for the Then steps of :mod:`postdeploy.steps.routes`. Every
request is described in one vocabulary (:mod:`postdeploy.request_spec`): method, path, query, headers,
body, body type, redirects.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from pytest_bdd import given, parsers, when

from postdeploy import checks, request_spec
from postdeploy.auth import Credentials, Sessions
from postdeploy.errors import SuiteError
from postdeploy.http import Exchange

from ._support import named, sender


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
    '''Send a JSON body (a doc string; ``{{name}}`` placeholders are filled first).

    Example: When I send a POST request to "/api/v1/orders" on the "api" service with the JSON body:
      """
      {"items": [{"sku": "TEST-{{run_id}}", "quantity": 1}]}
      """
    '''
    return _send(service_client, credentials, service, method, path, body=docstring)


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the headers:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a request with extra headers, from a table with the columns ``name`` and ``value``.

    Example: When I send a GET request to "/api/v1/users/me" on the "api" service with the headers:
      | name          | value              |
      | Accept        | application/json   |
      | X-Request-Id  | postdeploy-{{run_id}} |
    """
    return _send(service_client, credentials, service, method, path, headers=_lines(named(datatable, "header")))


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the query:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a request with query parameters from a table with the columns ``name`` and ``value`` (URL-encoded for you; a name may repeat).

    Example: When I send a GET request to "/api/v1/orders" on the "api" service with the query:
      | name   | value            |
      | status | paid             |
      | q      | café & croissant |
    """
    return _send(service_client, credentials, service, method, path, query=_form(named(datatable, "query parameter")))


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the form:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a URL-encoded form (``application/x-www-form-urlencoded``, as an OAuth2 password login expects) from a table with the columns ``name`` and ``value``.

    Example: When I send a POST request to "/api/token" on the "api" service with the form:
      | name       | value                            |
      | grant_type | password                         |
      | username   | {{accounts.admin.username}}      |
      | password   | {{accounts.admin.password}}      |
    """
    return _send(service_client, credentials, service, method, path, **{"body": _form(named(datatable, "form field")),
                                                                          "body type": "form"})


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the multipart form:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a ``multipart/form-data`` body from a table with the columns ``name`` and ``value``; a value ``@name.ext`` (or ``@name.ext;type=image/png``) is a small file part of that name.

    Example: When I send a POST request to "/api/v1/attachments" on the "api" service with the multipart form:
      | name    | value                      |
      | comment | uploaded by {{run_id}}     |
      | file    | @report.csv;type=text/csv  |
    """
    return _send(service_client, credentials, service, method, path,
                 **{"body": _form(named(datatable, "form field")), "body type": "multipart"})


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with the "{media_type}" body:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, media_type: str, docstring: str) -> Exchange:
    '''Send a doc string as the body, exactly as written, with this ``Content-Type``.

    Example: When I send a POST request to "/api/v1/import" on the "api" service with the "text/csv" body:
      """
      email,role
      qa+{{run_id}}@example.com,customer
      """
    '''
    return _send(service_client, credentials, service, method, path,
                 **{"body": docstring, "body type": "raw", "headers": f"Content-Type: {media_type}"})


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service following redirects'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str) -> Exchange:
    """Send a request and follow its redirects (the other steps do not: a 3xx is their answer); the response is the last one.

    Example: When I send a GET request to "/old-dashboard" on the "frontend" service following redirects
    """
    return _send(service_client, credentials, service, method, path, redirects="follow")


@when(parsers.parse('I send a {method:w} request to "{path}" on the "{service}" service with:'),
      target_fixture="response")
def _(service_client, credentials, method: str, path: str, service: str, datatable) -> Exchange:
    """Send a request of any shape, described by the fields every request table uses, one per row: ``query``, ``headers`` (``Name: value``, several separated by ``\\n``), ``body``, ``body type`` (``json``, ``form``, ``multipart``, ``raw``) and ``redirects`` (``follow`` or ``no``).

    Example: When I send a POST request to "/api/token" on the "api" service with:
      | body type | form                                   |
      | body      | username={{accounts.admin.username}}&password={{accounts.admin.password}} |
      | headers   | Accept: application/json               |
      | redirects | no                                     |
    """
    spec = request_spec.from_pairs(datatable, where=f"the table of 'I send a {method} request to \"{path}\"'",
                                   defaults={"method": method, "path": path})
    return sender(service_client, credentials, service)(spec.method, spec.path, **spec.options())


def _send(service_client, credentials, service: str, method: str, path: str, **fields: str) -> Exchange:
    spec = request_spec.from_fields({"method": method, "path": path, **fields},
                                    where=f"'I send a {method} request to \"{path}\"'")
    return sender(service_client, credentials, service)(spec.method, spec.path, **spec.options())


def _lines(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in pairs)


def _form(pairs: list[tuple[str, str]]) -> str:
    return urlencode(pairs)


# ---- tables of requests ------------------------------------------------------------------

@when(parsers.parse('I send these requests to the "{service}" service:'), target_fixture="answers")
def _(service_client, credentials, service: str, datatable) -> list[checks.Answer]:
    """Send each request of the table in turn, as the current identity; the Then steps judge every answer. The columns are those of every request table: ``method`` (GET by default), ``path``, ``query``, ``headers``, ``body``, ``body type``, ``redirects``, and what the answer must be: ``status`` (``200``, ``401 or 403``, ``2xx``; in a table ``401\\|403`` too) and ``content type``.

    Example: When I send these requests to the "api" service:
      | method | path                | body             | status     | content type     |
      | GET    | /api/v1/users/me    |                  | 401        | application/json |
      | POST   | /api/v1/auth/login  | {"email": "x"}   | 400 or 422 | application/json |
    """
    specs = request_spec.from_table(datatable, step=f'I send these requests to the "{service}" service:')
    return checks.send_requests(sender(service_client, credentials, service), specs)
