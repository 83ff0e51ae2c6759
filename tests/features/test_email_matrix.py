"""The @email_delivery family proven against the sandbox, fault by fault (DESIGN principle 6).

Every fault of ``faults/email_delivery.py`` is a sandbox configuration (a seed's variable or a ``SANDBOX_FAULTS``
switch). Faults that fail different scenarios and set different variables share one sandbox, started for the
round, and are proven by one run of ``pytest --env=local -m email_delivery``: every scenario a fault names fails
at its step, with its verdict kind and message; every other one passes. A fault may shorten the environment's
wait (``environment``) where no email will come. Before them, a healthy sandbox passes every scenario and removes
the test orders it created.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from faults import assert_fails_exactly, configuration, rounds
from faults.email_delivery import FAULTS, EmailFault
from harness import environments_with, run_features

ROUNDS = rounds(FAULTS)
# the test notification and the order routes are not the subject here: lift the sandbox's limits for the module
LIMITS = {"RATE_LIMIT_PER_MINUTE": "10000", "TEST_EMAIL_RATE_LIMIT_PER_MINUTE": "1000"}


def test_a_healthy_deployment_passes_every_email_scenario_and_leaves_no_test_order(sandbox_factory, tmp_path):
    state = sandbox_factory(**LIMITS)
    run = run_features(state, tmp_path / "reports", "--env=local", "-m", "email_delivery")
    assert_fails_exactly({}, run)
    assert run.returncode == 0 and len(run.passed) == 9, run.output[-3000:]
    dsn = json.loads((state / "state.json").read_text())["database"]["dsn"]
    with psycopg.connect(dsn) as conn:
        left = conn.execute("SELECT count(*) FROM order_items WHERE sku LIKE 'PD-%'").fetchone()[0]
        mails = conn.execute("SELECT count(*) FROM notifications WHERE recipient_email LIKE 'qa+%'").fetchone()[0]
        # the test notification (no order) is removed by its own cleanup
    assert (left, mails) == (0, 0), "the scenarios' cleanups left test orders or their notifications behind"


@pytest.mark.parametrize("faults", ROUNDS, ids=["+".join(f.id for f in group) for group in ROUNDS])
def test_each_fault_fails_exactly_its_steps(sandbox_factory, tmp_path, faults: list[EmailFault]):
    expected = {name: failure for fault in faults for name, failure in fault.failures.items()}
    fields = {k: v for fault in faults for k, v in fault.environment.items()}
    env_dir = environments_with(tmp_path, lambda local: local["email_delivery"].update(fields)) if fields else None
    run = run_features(sandbox_factory(**LIMITS, **configuration(faults)), tmp_path / "reports", "--env=local",
                       "-m", "email_delivery", env_dir=env_dir)
    assert_fails_exactly(expected, run)
