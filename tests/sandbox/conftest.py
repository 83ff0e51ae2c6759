"""Fixtures for the sandbox's own tests: real PostgreSQL, MailDev and platform processes, no mocks.

One session-scoped sandbox serves most tests; tests of faults and configuration start their own (keep them few).
"""
from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import httpx
import psycopg
import pytest

from sandbox import config, launcher


def base_env(**overrides: str) -> dict[str, str]:
    """The inherited environment without the sandbox's configuration variables (tests are deterministic), plus
    ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}
    env.update(overrides)
    return env


class Sandbox:
    """A started sandbox and convenient clients for it."""

    def __init__(self, state: dict):
        self.state = state
        self.api = state["services"]["api"]["url"]
        self.worker = state["services"]["worker"]["url"]
        self.frontend = state["services"]["frontend"]["url"]
        self.maildev = state["services"]["maildev"]["url"]
        self.http = httpx.Client(timeout=10)
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def login(self, account: str) -> dict:
        a = self.state["accounts"][account]
        r = self.http.post(f"{self.api}/api/v1/auth/login", json={"email": a["email"], "password": a["password"]})
        assert r.status_code == 200, r.text
        return r.json()

    def auth(self, account: str) -> dict[str, str]:
        if account not in self._tokens:
            self._tokens[account] = self.login(account)["access_token"]
        return {"Authorization": f"Bearer {self._tokens[account]}"}

    def get(self, path: str, account: str | None = None, **kw) -> httpx.Response:
        return self.http.get(self.api + path, headers={**(self.auth(account) if account else {}),
                                                        **kw.pop("headers", {})}, **kw)

    def request(self, method: str, path: str, account: str | None = None, **kw) -> httpx.Response:
        return self.http.request(method, self.api + path,
                                 headers={**(self.auth(account) if account else {}), **kw.pop("headers", {})}, **kw)

    # -- mailbox
    def emails(self) -> list[dict]:
        return self.http.get(f"{self.maildev}/api/email").json()

    def wait_for_emails(self, match: Callable[[dict], bool], count: int = 1, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.emails() if match(e)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    # -- database
    def db(self, which: str = "dsn", **kw) -> psycopg.Connection:
        return psycopg.connect(self.state["database"][which], **kw)

    def wait_for(self, sql: str, args=(), predicate=lambda row: row is not None, timeout: float = 10):
        deadline = time.monotonic() + timeout
        with self.db(autocommit=True) as c:
            while True:
                row = c.execute(sql, args).fetchone()
                if predicate(row) or time.monotonic() > deadline:
                    return row
                time.sleep(0.1)

    def log(self, component: str) -> str:
        return Path(self.state["logs"][component]).read_text()

    def place_paid_order(self, account: str = "customer", tx: str | None = None, email: str | None = None):
        email = email or f"buyer-{uuid.uuid4().hex[:8]}@example.com"
        r = self.request("POST", "/api/v1/orders", account, json={
            "items": [{"sku": "SKU-1", "name": "Widget", "quantity": 2, "unit_price": 12.5}],
            "customer_email": email})
        assert r.status_code == 201, r.text
        order = r.json()
        tx = tx or f"tx-{uuid.uuid4().hex[:12]}"
        r = self.request("POST", f"/api/v1/orders/{order['id']}/pay", account, json={"transaction_id": tx})
        assert r.status_code == 200, r.text
        return order, tx, email


@contextlib.contextmanager
def running_sandbox(path: Path, **env: str) -> Iterator[Sandbox]:
    state = launcher.start(path, env=base_env(**env))
    sb = Sandbox(state)
    try:
        yield sb
    finally:
        sb.close()
        launcher.stop(path)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    # a high general rate limit so the many test requests of one account never trip it; tests of the default
    # limit start their own sandbox
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), RATE_LIMIT_PER_MINUTE="100000",
                         SMTP_RETRY_BACKOFF_MS="50") as sb:
        yield sb


@pytest.fixture
def start_sandbox(tmp_path) -> Callable[..., contextlib.AbstractContextManager[Sandbox]]:
    """Start a private sandbox with extra environment: `with start_sandbox(SANDBOX_FAULTS="x") as sb: ...`."""
    counter = iter(range(100))

    def _start(**env: str):
        return running_sandbox(tmp_path / f"sb{next(counter)}", **env)

    return _start


def pids_alive(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    alive.append(pid)
        except OSError:
            pass
    return alive
