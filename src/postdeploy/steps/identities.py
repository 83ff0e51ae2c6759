"""The environment's accounts: each signs in, is accepted, and is told who it is
(:mod:`postdeploy.checks.identities`)."""

from __future__ import annotations

import pytest
from pytest_bdd import parsers, then, when

from postdeploy import checks
from postdeploy.auth import Sessions
from postdeploy.environment import Environment

from ._support import asked_first


@pytest.fixture
def account_answers() -> list[checks.AccountAnswer]:
    asked_first("what every account was answered", 'When every account signs in and calls "..." on the "..." service')


@when(parsers.parse('every account signs in and calls "{path}" on the "{service}" service'),
      target_fixture="account_answers")
def _(env: Environment, sessions: Sessions, service_client, path: str, service: str) -> list[checks.AccountAnswer]:
    """Sign in afresh as every account of the environment (``accounts:``, the way ``auth:`` says) and GET a protected endpoint with each; a failed sign-in is that account's answer.

    Example: When every account signs in and calls "/api/v1/users/me" on the "api" service
    """
    return checks.ask_as_every_account(env, lambda name: sessions.credentials(name, fresh=True),
                                       service_client(service), path)


@then("every account is signed in and accepted")
def _(account_answers: list[checks.AccountAnswer]) -> None:
    """Every account signed in, and the endpoint answered each 2xx.

    Example: Then every account is signed in and accepted
    """
    checks.accounts_accepted(account_answers)


@then(parsers.parse('every account sees its own username at "{username_path}" and role at "{role_path}"'))
def _(env: Environment, account_answers: list[checks.AccountAnswer], username_path: str, role_path: str) -> None:
    """Each account was answered its own ``username`` (case aside) and ``role`` from ``accounts:`` at these JSON paths: the endpoint called is a "who am I".

    Example: Then every account sees its own username at "email" and role at "role"
    """
    checks.accounts_see_themselves(env, account_answers, username_path, role_path)
