"""What a release must not show: stack traces in error answers, API documentation where the environment
says it is off (:mod:`postdeploy.checks.exposure`)."""

from __future__ import annotations

import pytest
from pytest_bdd import parsers, then, when

from postdeploy import checks
from postdeploy.environment import Environment
from postdeploy.http import Exchange


@then("no response reveals internals")
def _(answers: list[checks.Answer]) -> None:
    """No answer to ``When I send these requests`` (requests meant to provoke errors) carries a stack trace of a common back end (Python, Java, Node.js, Go, .NET, PHP, Ruby); every answer is judged.

    Example: Then no response reveals internals
    """
    checks.errors_without_internals(answers)


@when(parsers.parse('I look for API documentation on the "{service}" service'), target_fixture="docs_answers")
def _(env: Environment, service_client, service: str) -> list[Exchange]:
    """GET every path where API documentation is usually served: ``expect.docs_paths`` (by default ``/docs``, ``/redoc``, ``/openapi.json``, ``/swagger``, ``/swagger-ui.html``, ``/api-docs``, ``/v3/api-docs``, ``/graphql``).

    Example: When I look for API documentation on the "api" service
    """
    return checks.docs_answers(service_client(service), env.expect.docs_paths)


@then("API documentation is exposed as the environment expects")
def _(env: Environment, docs_answers: list[Exchange]) -> None:
    """With ``expect.api_docs: disabled``, none of the documentation paths may answer 200; with ``enabled``, one must; ``any`` is not applicable.

    Example: Then API documentation is exposed as the environment expects
    """
    policy = env.expect.api_docs
    if policy == "any":
        pytest.skip(f"not applicable: environment '{env.name}' does not constrain API documentation (expect.api_docs: any)")
    checks.api_docs(docs_answers, docs_answers[0].service if docs_answers else "", policy)
