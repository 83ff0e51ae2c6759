"""Helpers for the helpdesk target's own tests: real processes (MailDev, API, frontend), real HTTP, no mocks.

The module's instances (one healthy, one per fault group) are started at once, in threads: most of a start is
waiting for MailDev, and the waits overlap.
"""
from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from targets.helpdesk import launcher

# variables the helpdesk reads: removed from the inherited environment so the tests are deterministic
CONFIG_VARS = ("HELPDESK_FAULTS", "FIRST_SUPERUSER", "FIRST_SUPERUSER_PASSWORD", "HELPDESK_USER_EMAIL",
               "HELPDESK_USER_PASSWORD", "SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "FRONTEND_HOST",
               "EMAILS_FROM_EMAIL", "PROJECT_NAME")

# the instances the tests use: name -> faults
INSTANCES = {
    "healthy": "",
    "faulty": "reset_token_reusable,signup_email_missing,cors_reflect_any,token_in_url",
    "database_down": "database_down",
    "login_form_broken": "login_form_broken",
}


def base_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS and not k.startswith("HELPDESK_")}
    env.update(overrides)
    return env


class Helpdesk:
    """A started helpdesk and convenient clients for it."""

    def __init__(self, state: dict, secret_key: str):
        self.state = state
        self.secret_key = secret_key
        self.api = state["services"]["api"]["url"]
        self.frontend = state["services"]["frontend"]["url"]
        self.maildev = state["services"]["maildev"]["url"]
        self.accounts = state["accounts"]
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def login(self, email: str, password: str) -> httpx.Response:
        return self.http.post(f"{self.api}/api/v1/login/access-token", data={"username": email, "password": password})

    def auth(self, account: str = "user") -> dict[str, str]:
        a = self.accounts[account]
        r = self.login(a["email"], a["password"])
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def signup(self, full_name: str = "Test User") -> tuple[str, str, dict]:
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        password = "s3cret-" + uuid.uuid4().hex[:8]
        r = self.http.post(f"{self.api}/api/v1/users/signup",
                           json={"email": email, "password": password, "full_name": full_name})
        assert r.status_code == 200, r.text
        return email, password, r.json()

    def emails(self) -> list[dict]:
        r = self.http.get(f"{self.maildev}/api/email")
        r.raise_for_status()
        return r.json()

    def wait_for_email(self, match: Callable[[dict], bool], timeout: float = 10) -> dict | None:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.emails() if match(e)]
            if found or time.monotonic() > deadline:
                return found[0] if found else None
            time.sleep(0.1)


def to(address: str, subject_part: str) -> Callable[[dict], bool]:
    return lambda e: any(t["address"] == address for t in e.get("to", [])) and subject_part in e.get("subject", "")


@contextlib.contextmanager
def running_helpdesks(base: Path, instances: dict[str, str]) -> Iterator[dict[str, Helpdesk]]:
    secrets_ = {name: f"test-secret-{name}-{uuid.uuid4().hex}" for name in instances}

    def start(name: str) -> Helpdesk:
        env = base_env(HELPDESK_FAULTS=instances[name], SECRET_KEY=secrets_[name])
        return Helpdesk(launcher.start(base / name, env=env), secrets_[name])

    started: dict[str, Helpdesk] = {}
    try:
        with ThreadPoolExecutor(max_workers=len(instances)) as pool:
            futures = {name: pool.submit(start, name) for name in instances}
            errors = []
            for name, f in futures.items():
                try:
                    started[name] = f.result()
                except launcher.HelpdeskError as e:  # the others are stopped below
                    errors.append(f"{name}: {e}")
            if errors:
                raise RuntimeError("helpdesk did not start:\n" + "\n".join(errors))
        yield started
    finally:
        for name in instances:
            if name in started:
                started[name].close()
            launcher.stop(base / name)
