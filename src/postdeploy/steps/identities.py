"""The environment's accounts: each signs in, is accepted, and is told who it is
(:mod:`postdeploy.checks.identities`)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from postdeploy import checks
from postdeploy.auth import Sessions
from postdeploy.environment import Environment


@then(parsers.parse('every account can sign in and "{path}" on the "{service}" service accepts its credentials'))
def _(env: Environment, sessions: Sessions, service_client, path: str, service: str) -> None:
    """Sign in as every account of the environment, then call a protected endpoint with each; all must answer 2xx.

    Example: Then every account can sign in and "/api/v1/users/me" on the "api" service accepts its credentials
    """
    checks.accounts_accepted(env, lambda name: sessions.credentials(name, fresh=True), service_client(service), path)


@then(parsers.parse('every account sees its own username at "{username_path}" and role at "{role_path}" '
                    'in "{path}" on the "{service}" service'))
def _(env: Environment, sessions: Sessions, service_client, username_path: str, role_path: str, path: str,
      service: str) -> None:
    """Sign in as every account of the environment and ask a "who am I" endpoint: each must get its own ``username`` and ``role`` (from ``accounts:``) back at these JSON paths.

    Example: Then every account sees its own username at "email" and role at "role" in "/api/v1/users/me" on the "api" service
    """
    checks.accounts_see_themselves(env, sessions.credentials, service_client(service), path, username_path, role_path)
