"""The local sandbox of an environment with ``sandbox: {autostart: true}``: reused or started at configure time,
stopped at unconfigure (and by a signal or the interpreter's exit)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from .state import EXPORTED_KEY, STOP_KEY


def sandbox_variables(config: pytest.Config, raw: dict[str, Any]) -> dict[str, str]:
    """For an environment with ``sandbox: {autostart: true}``: reuse or start the local sandbox."""
    spec = raw.get("sandbox") if isinstance(raw, dict) else None
    if not (spec is True or (isinstance(spec, dict) and spec.get("autostart", True))):
        return {}
    from .. import (
        local,  # imports the sandbox launcher: only for environments that ask for it
    )

    variables, stop = local.ensure_sandbox()
    if stop is not None:
        config.stash[STOP_KEY] = stop
        local.install_signal_cleanup(stop)  # SIGTERM/SIGINT/SIGHUP and interpreter exit stop it too
    os.environ.update(variables)  # xdist workers inherit them and never start a sandbox of their own
    config.stash[EXPORTED_KEY] = list(variables)
    return variables


def stop_sandbox(config: pytest.Config) -> None:
    stop = config.stash.get(STOP_KEY, None)
    if stop is not None:
        del config.stash[STOP_KEY]
        stop()
