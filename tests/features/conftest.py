"""Fixtures for running the features against real sandboxes (healthy and broken)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import config, launcher


def _platform_env(**overrides: str) -> dict[str, str]:
    """The configuration a sandbox starts with: this process's environment minus the sandbox's configuration
    variables (config.CONFIG_VARIABLES: any fault, any misconfiguration), plus overrides."""
    env = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}
    env.update(overrides)
    return env


class SandboxFactory:
    def __init__(self) -> None:
        self.started: list[Path] = []

    def __call__(self, **overrides: str) -> Path:
        state = Path(tempfile.mkdtemp(prefix="pd-fault-"))
        launcher.start(state, env=_platform_env(**overrides))
        self.started.append(state)
        return state

    def close(self) -> None:
        for state in self.started:
            launcher.stop(state)
            shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes configured like a (mis)configured deployment; all stopped after the test."""
    factory = SandboxFactory()
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def healthy_sandbox() -> Iterator[Path]:
    """One healthy sandbox shared by the tests that only read from it."""
    factory = SandboxFactory()
    yield factory()
    factory.close()
