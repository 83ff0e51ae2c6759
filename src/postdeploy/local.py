"""The local environment's sandbox: reuse a running one, or start a private one for the run.

This module and the CLI are the only places in the library that import the sandbox, and only
its launcher: the checks reach the sandbox over HTTP, SQL and SMTP like any deployment.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import SandboxStartError
from .redact import register


def variables(status: dict[str, Any]) -> dict[str, str]:
    """The ``${SANDBOX_*}`` variables ``environments/local.yaml`` is written with."""
    services = status["services"]
    found = {f"SANDBOX_{name.upper()}_URL": info["url"] for name, info in services.items()}
    found["SANDBOX_SMTP_PORT"] = str(services.get("maildev", {}).get("smtp_port", ""))
    database = status.get("database", {})
    found["SANDBOX_DATABASE_DSN"] = database.get("readonly_dsn", "")
    for role, account in status.get("accounts", {}).items():
        found[f"SANDBOX_{role.upper()}_EMAIL"] = account["email"]
        found[f"SANDBOX_{role.upper()}_PASSWORD"] = account["password"]
        register(account["password"])
    register(status.get("service_token"))
    for key in ("dsn", "readonly_dsn", "app_dsn"):
        if database.get(key):
            register(database[key])
    return found


def shared_state_dir() -> Path:
    from sandbox import launcher

    default = getattr(launcher, "default_state_dir", None)
    return Path(default()) if callable(default) else Path(os.environ.get("POSTDEPLOY_SANDBOX_DIR", ".postdeploy/sandbox"))


def ensure_sandbox() -> tuple[dict[str, str], Callable[[], None] | None]:
    """Variables of a running sandbox, starting a private one (and its stopper) if none runs."""
    try:
        from sandbox import launcher
    except ImportError as exc:
        raise SandboxStartError(
            f"the local environment needs the sandbox, which is not importable ({exc}); "
            "install the project with `pip install -e .` from the repository root."
        ) from None
    running = launcher.status(shared_state_dir())
    if running:
        return variables(running), None
    private = Path(tempfile.mkdtemp(prefix="postdeploy-sandbox-"))
    try:
        status = launcher.start(private, env=dict(os.environ))
    except launcher.SandboxError as exc:
        shutil.rmtree(private, ignore_errors=True)
        raise SandboxStartError(f"the local sandbox did not start: {exc}") from None

    def stop() -> None:
        launcher.stop(private)
        shutil.rmtree(private, ignore_errors=True)

    return variables(status), stop
