"""The @email_delivery family proven against the sandbox, fault by fault (DESIGN principle 6).

Every fault of ``faults/email_delivery.py`` is a sandbox configuration (a seed's variable or a ``SANDBOX_FAULTS``
switch). Faults that fail different scenarios and set different variables share one sandbox, started for the
round, and are proven by one run of ``pytest --env=local -m email_delivery``: every scenario a fault names fails
at its step, with its verdict kind and message; every other one passes. A fault may shorten the environment's
wait (``environment``) where no email will come. Before them, a healthy sandbox passes every scenario, removes
the test orders it created, and the detection delay after delivery is measured against the mailbox's own clock.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from faults import assert_fails_exactly, configuration, rounds
from faults.email_delivery import FAULTS, EmailFault
from harness import ROOT, run_features

from sandbox import config, launcher

ROUNDS = rounds(FAULTS)
# the test notification and the order routes are not the subject here: lift the sandbox's limits for the module
LIMITS = {"RATE_LIMIT_PER_MINUTE": "10000", "TEST_EMAIL_RATE_LIMIT_PER_MINUTE": "1000"}


@pytest.fixture
def sandbox_of() -> Iterator:
    """``sandbox_of(**variables)``: a sandbox started with this configuration; all stopped after the test."""
    started: list[Path] = []

    def start(**overrides: str) -> Path:
        state = Path(tempfile.mkdtemp(prefix="pd-email-"))
        started.append(state)
        environ = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}
        launcher.start(state, env={**environ, **LIMITS, **overrides})
        return state

    yield start
    for state in started:
        launcher.stop(state)
        shutil.rmtree(state, ignore_errors=True)


def environment_dir(tmp_path: Path, faults: list[EmailFault]) -> Path | None:
    """A copy of environments/ whose local.yaml carries the faults' email_delivery fields, when they set any."""
    fields = {k: v for fault in faults for k, v in fault.environment.items()}
    if not fields:
        return None
    directory = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", directory)
    local = yaml.safe_load((directory / "local.yaml").read_text())
    local["email_delivery"].update(fields)
    (directory / "local.yaml").write_text(yaml.safe_dump(local, sort_keys=False))
    return directory


def test_a_healthy_deployment_passes_every_email_scenario_and_leaves_no_test_order(sandbox_of, tmp_path):
    state = sandbox_of()
    run = run_features(state, tmp_path / "reports", "--env=local", "-m", "email_delivery")
    assert_fails_exactly({}, run)
    assert run.returncode == 0 and len(run.passed) == 8, run.output[-3000:]
    dsn = json.loads((state / "state.json").read_text())["database"]["dsn"]
    with psycopg.connect(dsn) as conn:
        left = conn.execute("SELECT count(*) FROM order_items WHERE sku LIKE 'PD-%'").fetchone()[0]
        mails = conn.execute("SELECT count(*) FROM notifications WHERE recipient_email LIKE 'qa+%'").fetchone()[0]
    assert (left, mails) == (0, 0), "the scenarios' cleanups left test orders or their notifications behind"


@pytest.mark.parametrize("faults", ROUNDS, ids=["+".join(f.id for f in group) for group in ROUNDS])
def test_each_fault_fails_exactly_its_steps(sandbox_of, tmp_path, faults: list[EmailFault]):
    expected = {name: failure for fault in faults for name, failure in fault.failures.items()}
    run = run_features(sandbox_of(**configuration(faults)), tmp_path / "reports", "--env=local", "-m",
                       "email_delivery", env_dir=environment_dir(tmp_path, faults))
    assert_fails_exactly(expected, run)
