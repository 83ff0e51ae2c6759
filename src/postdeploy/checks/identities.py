"""The environment's accounts: each can sign in and is accepted, and each is told who it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import paths
from ..environment import Environment
from ..errors import Inconclusive
from ..http import Exchange
from ._base import asked, every, problems_first, show


@dataclass(frozen=True)
class AccountAnswer:
    """What one account got: its sign-in failure, or the answer to the call made with its credentials."""

    account: str
    exchange: Exchange | None = None
    sign_in_failure: str = ""


def ask_as_every_account(env: Environment, sign_in: Callable[[str], Any], client: Any, path: str) -> list[AccountAnswer]:
    """Sign in as every account (``sign_in(name)`` gives its credentials) and call ``path`` with each; a sign-in
    that fails is kept as that account's answer."""
    answers = []
    for name in env.accounts:
        try:
            creds = sign_in(name)
        except AssertionError as exc:
            answers.append(AccountAnswer(name, sign_in_failure=str(exc)))
            continue
        answers.append(AccountAnswer(name, client.request("GET", path, headers=list(creds.headers))))
    return answers


def accounts_accepted(answers: list[AccountAnswer]) -> None:
    """Every account signed in and its call answered 2xx."""
    __tracebackhide__ = True
    rows, problems = [], []
    for answer in answers:
        if answer.exchange is None:
            rows.append({"account": answer.account, "sign-in": "failed", "accepted": ""})
            problems.append(answer.sign_in_failure)
            continue
        exchange = answer.exchange
        rows.append({"account": answer.account, "sign-in": "ok", "accepted": f"{exchange.status}"})
        if not 200 <= exchange.status < 300:
            problems.append(f"'{answer.account}' signed in but {exchange.where} answered {exchange.summary()}")
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


def accounts_see_themselves(env: Environment, answers: list[AccountAnswer], username_path: str,
                            role_path: str) -> None:
    """Each account's "who am I" answer holds its own ``username`` and ``role`` (from ``accounts:``) at these JSON
    paths (:func:`identity_problems`)."""
    __tracebackhide__ = True
    rows, problems, compared = [], [], 0
    for answer in answers:
        name = answer.account
        account = env.account(name)
        expected = {field: (at, value) for field, at, value in (("username", username_path, account.username),
                                                                 ("role", role_path, account.role)) if value}
        compared += len(expected)
        if answer.exchange is None:
            found = [answer.sign_in_failure]
            status = "sign-in failed"
        else:
            found = identity_problems(answer.exchange, name, expected)
            status = answer.exchange.status
        rows.append({"account": name, "expected": ", ".join(f"{f}={v}" for f, (_, v) in expected.items()),
                     "status": status, "verdict": "its own" if not found else "; ".join(found)})
        problems += found
    if not compared:
        raise Inconclusive(f"the accounts of environment '{env.name}' have neither a username nor a role to compare")
    problems_first("identity of every account", rows, problems, "accounts")
