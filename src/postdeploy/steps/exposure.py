"""What a release must not show: stack traces in error answers, API documentation where the environment
says it is off (:mod:`postdeploy.checks.exposure`)."""

from __future__ import annotations

import pytest
from pytest_bdd import parsers, then

from postdeploy import checks
from postdeploy.environment import Environment

from ._support import sender, table


@then(parsers.parse('these requests to the "{service}" service answer without revealing internals:'))
def _(service_client, credentials, service: str, datatable) -> None:
    """Provoke errors (table: ``method``, ``path``, optional ``body``, ``header``) and check no answer carries a stack trace.

    Example: Then these requests to the "api" service answer without revealing internals:
    """
    checks.errors_without_internals(sender(service_client, credentials, service), table(datatable))


@then(parsers.parse('API documentation on the "{service}" service is exposed as the environment expects'))
def _(env: Environment, service_client, service: str) -> None:
    """With ``expect.api_docs: disabled``, none of ``expect.docs_paths`` may answer 200; with ``enabled``, one must; ``any`` skips.

    Example: Then API documentation on the "api" service is exposed as the environment expects
    """
    policy = env.expect.api_docs
    if policy == "any":
        pytest.skip(f"not applicable: environment '{env.name}' does not constrain API documentation (expect.api_docs: any)")
    checks.api_docs(service_client(service), service, policy, env.expect.docs_paths)
