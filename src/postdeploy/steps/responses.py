"""The last response: its status, JSON, body, headers and timing (:mod:`postdeploy.checks.responses`)."""

from __future__ import annotations

import re

from pytest_bdd import parsers, then

from postdeploy import checks
from postdeploy.environment import Environment
from postdeploy.errors import SuiteError
from postdeploy.http import Exchange

from ._support import table

# ---- status and body ---------------------------------------------------------------------


@then(parsers.parse("the response status is {status:d}"))
def _(response: Exchange, status: int) -> None:
    """The last response has this status.

    Example: Then the response status is 200
    """
    checks.status(response, status)


@then(parsers.parse("the response status is one of {statuses}"))
def _(response: Exchange, statuses: str) -> None:
    """The last response has one of these statuses (comma separated).

    Example: Then the response status is one of 200, 302
    """
    checks.status(response, {int(s) for s in re.split(r"[,\s]+(?:or\s+)?", statuses) if s})


@then(parsers.parse("the response status is not {status:d}"))
def _(response: Exchange, status: int) -> None:
    """The last response does not have this status.

    Example: Then the response status is not 503
    """
    checks.status_not(response, status)


@then("the response is JSON")
def _(response: Exchange) -> None:
    """The last response body parses as JSON.

    Example: Then the response is JSON
    """
    checks.json_body(response)


@then(parsers.parse('the JSON at "{path}" is {value}'))
def _(response: Exchange, path: str, value: str) -> None:
    """A value in the JSON body equals a typed value, written as in JSON: ``"ok"`` (text, always quoted), ``3`` (a number; ``"3"`` is text), ``true``, ``null``, ``[1, 2]``; a bare word is a feature error. The path is RFC 9535 JSONPath (``$.items[?@.status == 'sent'].id``) or the short form ``checks.database`` (``$`` alone is the whole body), and a query that can match several values compares the list of its matches (``[1, 3]``).

    Example: Then the JSON at "checks.database" is "ok"
    """
    checks.json_equals(response, path, checks.parse_literal(value))


@then(parsers.parse('the JSON at "{path}" exists'))
def _(response: Exchange, path: str) -> None:
    """The JSON body has a value at this path (RFC 9535 JSONPath or the short dotted form); a filter or wildcard must match at least one value.

    Example: Then the JSON at "user.role" exists
    """
    checks.json_value(response, path)


@then(parsers.parse('the response body contains "{text}"'))
def _(response: Exchange, text: str) -> None:
    """The body contains this text.

    Example: Then the response body contains "notification_email_sent"
    """
    checks.body_contains(response, text)


@then(parsers.parse('the response body does not contain "{text}"'))
def _(response: Exchange, text: str) -> None:
    """The body does not contain this text.

    Example: Then the response body does not contain "Traceback"
    """
    checks.body_lacks(response, text)


@then("the response does not reveal a stack trace")
def _(response: Exchange) -> None:
    """The body carries no stack trace (Python, Java, Node.js, Go, .NET, PHP, Ruby).

    Example: Then the response does not reveal a stack trace
    """
    checks.no_stack_trace(response)


# ---- headers -----------------------------------------------------------------------------

@then(parsers.parse('the response header "{name}" is present'))
def _(response: Exchange, name: str) -> None:
    """The header is present.

    Example: Then the response header "Retry-After" is present
    """
    checks.header_value(response, name)


@then(parsers.parse('the response header "{name}" is absent'))
def _(response: Exchange, name: str) -> None:
    """The header is absent.

    Example: Then the response header "Retry-After" is absent
    """
    checks.header_absent(response, name)


@then(parsers.parse('the response header "{name}" is "{value}"'))
def _(response: Exchange, name: str, value: str) -> None:
    """The header has exactly this value.

    Example: Then the response header "X-Frame-Options" is "DENY"
    """
    checks.header_matches(response, name, "^" + re.escape(value) + "$")


@then(parsers.parse('the response header "{name}" matches "{pattern}"'))
def _(response: Exchange, name: str, pattern: str) -> None:
    """The header matches a regular expression.

    Example: Then the response header "Strict-Transport-Security" matches "max-age=\\d+"
    """
    checks.header_matches(response, name, pattern)


@then("the response headers match:")
def _(response: Exchange, datatable) -> None:
    """Every header of the table (columns ``name`` and ``pattern``, a regular expression; ``header`` is accepted for ``name``) is present and matches; all are checked, then all problems reported.

    Example: Then the response headers match:
      | name                      | pattern        |
      | Strict-Transport-Security | max-age=\\d{6,} |
      | X-Content-Type-Options    | ^nosniff$      |
    """
    rows = table(datatable)
    if rows and ("pattern" not in rows[0] or not {"name", "header"} & set(rows[0])):
        raise SuiteError(f"the table of 'the response headers match:' has the columns 'name' and 'pattern', got "
                         f"{', '.join(rows[0])}")
    checks.headers_match(response, [(row.get("name") or row.get("header", ""), row["pattern"]) for row in rows])


# ---- timing ------------------------------------------------------------------------------

@then(parsers.parse("the response time is under {limit:d} ms"))
def _(response: Exchange, limit: int) -> None:
    """The last response arrived within this many milliseconds.

    Example: Then the response time is under 500 ms
    """
    checks.answered_within(response, limit)


@then(parsers.parse('the response time is within the "{objective}" objective'))
def _(env: Environment, response: Exchange, objective: str) -> None:
    """The last response arrived within an objective of the environment (``objectives:``, in ms or s): below its green limit.

    Example: Then the response time is within the "api_latency_ms" objective
    """
    checks.within_objective(response, objective, env.objective_spec(objective))
