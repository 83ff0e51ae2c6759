"""The @security family proven against the sandbox, fault by fault (DESIGN principle 6).

Every fault of ``faults/security.py`` is a sandbox configuration: a seed's variable set to a default or a debug
value (``JWT_SECRET=secret``, ``SERVICE_TOKEN=changeme``, ``ENVIRONMENT=staging`` ...) or a ``SANDBOX_FAULTS``
switch. Faults that fail different scenarios and set different variables share one sandbox, started for the round
(switches joined with commas), and are proven by one run of ``pytest --env=local -m security``: every scenario a
fault names fails at its step, with its verdict kind and message; every other one passes. A healthy sandbox of
the module's own (its rate limit is not shared with other tests) passes every scenario first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import Fault, assert_fails_exactly
from faults.security import FAULTS
from harness import run_features

from sandbox import config, launcher


def rounds(faults: list[Fault]) -> list[list[Fault]]:
    """Faults grouped so that no two of a group fail the same scenario or set the same variable (switches aside)."""
    groups: list[list[Fault]] = []
    for fault in faults:
        for group in groups:
            scenarios = {name for f in group for name in f.failures}
            variables = {key for f in group for key in f.config if key != "SANDBOX_FAULTS"}
            if not scenarios & set(fault.failures) and not variables & (set(fault.config) - {"SANDBOX_FAULTS"}):
                group.append(fault)
                break
        else:
            groups.append([fault])
    return groups


def configuration(faults: list[Fault]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for fault in faults:
        for key, value in fault.config.items():
            merged[key] = f"{merged[key]},{value}" if key == "SANDBOX_FAULTS" and key in merged else value
    return merged


ROUNDS = rounds(FAULTS)


@pytest.fixture
def sandbox_of() -> Iterator:
    """``sandbox_of(**variables)``: a sandbox started with this configuration; all stopped after the test."""
    started: list[Path] = []

    def start(**overrides: str) -> Path:
        state = Path(tempfile.mkdtemp(prefix="pd-security-"))
        started.append(state)
        environ = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}
        launcher.start(state, env={**environ, **overrides})
        return state

    yield start
    for state in started:
        launcher.stop(state)
        shutil.rmtree(state, ignore_errors=True)


def test_a_healthy_deployment_passes_every_security_scenario(sandbox_of, tmp_path):
    run = run_features(sandbox_of(), tmp_path / "reports", "--env=local", "-m", "security")
    assert_fails_exactly({}, run)
    assert run.returncode == 0 and len(run.passed) >= 18, run.output[-3000:]


@pytest.mark.parametrize("faults", ROUNDS, ids=["+".join(f.id for f in group) for group in ROUNDS])
def test_each_fault_fails_exactly_its_steps(sandbox_of, tmp_path, faults: list[Fault]):
    expected = {name: failure for fault in faults for name, failure in fault.failures.items()}
    run = run_features(sandbox_of(**configuration(faults)), tmp_path / "reports", "--env=local", "-m", "security")
    assert_fails_exactly(expected, run)
    assert run.returncode == 1


def test_every_security_step_is_failed_by_a_fault():
    """No Then step of the family goes unproven: each is the failing step of some fault."""
    import re

    features = Path(__file__).resolve().parents[2] / "features" / "security"
    thens = {re.sub(r"<[^>]+>", "", line.strip()).split('"')[0]
             for f in features.glob("*.feature") for line in f.read_text().splitlines()
             if line.strip().startswith("Then ")}
    proven = {failure.step.split('"')[0] for fault in FAULTS for failure in fault.failures.values()}
    assert thens <= proven, f"Then steps no fault fails: {sorted(thens - proven)}"
