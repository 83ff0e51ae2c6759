"""Sessions: how an account of the environment gets credentials the target accepts.

Real systems differ (a JSON login returning a token at some path, an OAuth2 password form, a
static bearer token, an API key header, a cookie session); the environment file says which.
Tokens obtained here are registered with the redactor at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import evidence, paths
from .environment import Environment
from .errors import CheckFailed, EnvironmentFileError
from .http import Clients, Exchange
from .redact import register


@dataclass(frozen=True)
class Credentials:
    account: str
    headers: tuple[tuple[str, str], ...]
    token: str | None = None
    login: Exchange | None = None

    def __repr__(self) -> str:  # never the token: step arguments are shown by their repr
        return f"Credentials(account={self.account!r})"


class Sessions:
    """Signs accounts in on first use and caches their credentials for the session."""

    def __init__(self, env: Environment, clients: Clients):
        self.env = env
        self.clients = clients
        self._cache: dict[str, Credentials] = {}

    def credentials(self, account: str, *, fresh: bool = False) -> Credentials:
        if fresh or account not in self._cache:
            self._cache[account] = self._sign_in(account)
        return self._cache[account]

    def _sign_in(self, name: str) -> Credentials:
        account = self.env.account(name)
        auth = self.env.auth
        if auth.kind in ("bearer", "api_key"):
            if not account.token:
                raise EnvironmentFileError(
                    f"account '{name}' needs a 'token' for auth kind '{auth.kind}' (write token: ${{VAR}} in the environment file)."
                )
            register(account.token)
            value = f"{auth.scheme} {account.token}" if auth.kind == "bearer" and auth.scheme else account.token
            return Credentials(name, ((auth.header, value),), token=account.token)
        if not (account.username and account.password):
            raise EnvironmentFileError(
                f"account '{name}' needs 'username' and 'password' for auth kind '{auth.kind}'."
            )
        client = self.clients[auth.service]
        form = {auth.username_field: account.username, auth.password_field: account.password}
        # attached only after the token it returns is registered, so that no token reaches the report
        if auth.kind == "form_login":
            exchange = client.request("POST", auth.path, data=form, attach=False)
        else:
            exchange = client.request("POST", auth.path, json=form, attach=False)
        try:
            return self._credentials_from(name, exchange)
        finally:
            evidence.text(f"POST {auth.path} -> {exchange.status} (sign-in as '{name}')", exchange.as_text())

    def _credentials_from(self, name: str, exchange: Exchange) -> Credentials:
        auth = self.env.auth
        if exchange.status >= 400:
            raise CheckFailed(
                f"login as '{name}' failed: expected a 2xx answer, got {exchange.summary()} from {exchange.where}"
            )
        if auth.kind == "cookie_login":
            cookie_name = auth.cookie
            cookies = exchange.headers.get_list("set-cookie")
            pairs = [c.split(";", 1)[0] for c in cookies if not cookie_name or c.startswith(cookie_name + "=")]
            if not pairs:
                raise CheckFailed(f"login as '{name}' set no session cookie{f' {cookie_name!r}' if cookie_name else ''} at {exchange.where}")
            register(*(p.split("=", 1)[1] for p in pairs if "=" in p))
            return Credentials(name, (("Cookie", "; ".join(pairs)),), login=exchange)
        try:
            token = paths.resolve(exchange.json(), auth.token_path)
        except (ValueError, paths.PathNotFound) as exc:
            raise CheckFailed(
                f"login as '{name}' answered {exchange.status} but no token at '{auth.token_path}': {exc} ({exchange.where})"
            ) from None
        if not isinstance(token, str) or not token:
            raise CheckFailed(f"login as '{name}': the token at '{auth.token_path}' is empty or not a string ({exchange.where})")
        register(token)
        value = f"{auth.scheme} {token}" if auth.scheme else token
        return Credentials(name, ((auth.header, value),), token=token, login=exchange)
