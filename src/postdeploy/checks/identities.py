"""The environment's accounts: each can sign in and is accepted, and each is told who it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import paths
from ..environment import Environment
from ..errors import Inconclusive
from ..http import Exchange
from ._base import asked, every, problems_first, show


def accounts_accepted(env: Environment, sign_in: Callable[[str], Any], client: Any, path: str) -> None:
    """Sign in as every account (``sign_in(name)`` gives its credentials, fresh), then call a protected
    endpoint with each: all must answer 2xx."""
    __tracebackhide__ = True
    rows, problems = [], []
    for name in env.accounts:
        try:
            creds = sign_in(name)
        except AssertionError as exc:
            rows.append({"account": name, "sign-in": "failed", "accepted": ""})
            problems.append(str(exc))
            continue
        exchange = client.request("GET", path, headers=list(creds.headers))
        accepted = 200 <= exchange.status < 300
        rows.append({"account": name, "sign-in": "ok", "accepted": f"{exchange.status}"})
        if not accepted:
            problems.append(f"'{name}' signed in but {exchange.where} answered {exchange.summary()}")
    every("accounts", rows, problems, "every account to sign in and be accepted")


def identity_problems(exchange: Exchange, account: str, expected: dict[str, tuple[str, str]]) -> list[str]:
    """What is wrong with an account's "who am I" answer: ``expected`` maps a field (``username``,
    ``role``) to (its JSON path, the value the account must see there); usernames compare case-blind."""
    where = asked(exchange)
    if exchange.status != 200:
        return [f"expected 200 for '{account}' at {where}, got {exchange.summary(120)}"]
    try:
        document = exchange.json()
    except ValueError:
        return [f"expected a JSON answer for '{account}' at {where}, got {exchange.summary(120)}"]
    problems = []
    for field, (path, want) in expected.items():
        try:
            seen = paths.resolve(document, path)
        except paths.PathNotFound as exc:
            problems.append(f"expected {field} {want!r} of '{account}' at '{path}' of {where}, but {exc.reason}")
            continue
        same = str(seen).casefold() == want.casefold() if field == "username" else seen == want
        if not same:
            problems.append(f"expected {field} {want!r} of '{account}' at '{path}' of {where}, got {show(seen)}")
    return problems


def accounts_see_themselves(env: Environment, credentials_for: Callable[[str], Any], client: Any, path: str,
                            username_path: str, role_path: str) -> None:
    """Ask a "who am I" endpoint as every account: each must get its own ``username`` and ``role`` (from
    ``accounts:``) back at these JSON paths (:func:`identity_problems`)."""
    __tracebackhide__ = True
    rows, problems, compared = [], [], 0
    for name in env.accounts:
        account = env.account(name)
        expected = {field: (at, value) for field, at, value in (("username", username_path, account.username),
                                                                 ("role", role_path, account.role)) if value}
        compared += len(expected)
        exchange = client.request("GET", path, headers=list(credentials_for(name).headers))
        found = identity_problems(exchange, name, expected)
        rows.append({"account": name, "expected": ", ".join(f"{f}={v}" for f, (_, v) in expected.items()),
                     "status": exchange.status, "verdict": "its own" if not found else "; ".join(found)})
        problems += found
    if not compared:
        raise Inconclusive(f"the accounts of environment '{env.name}' have neither a username nor a role to compare")
    problems_first("identity of every account", rows, problems, "accounts")
