"""The @rate_limit family proven against the sandbox, fault by fault (DESIGN principle 6).

The sandbox runs with 10 requests per 2 s (``faults.rate_limit.LIMITS``), so a window passes in a moment, and a copy
of local.yaml promises that (``PROMISE``). Faults
that fail different scenarios share one sandbox and one run of ``pytest --env=local -m rate_limit``; a fault may
change what the environment promises (``environment``) or run a narrower selection (``args``). Every scenario a
fault names fails at its step, with its verdict kind and message; every other one passes.
"""

from __future__ import annotations

import pytest
from faults import assert_fails_exactly, configuration, rounds
from faults.rate_limit import FAULTS, LIMITS, PROMISE, RateLimitFault
from harness import environments_with, run_features

ROUNDS = rounds(FAULTS)


def test_a_healthy_deployment_passes_every_rate_limit_scenario(sandbox_factory, tmp_path):
    env_dir = environments_with(tmp_path, lambda local: local["rate_limits"][0].update(PROMISE))
    run = run_features(sandbox_factory(**LIMITS), tmp_path / "reports", "--env=local", "-m", "rate_limit",
                       env_dir=env_dir)
    assert_fails_exactly({}, run)
    assert run.returncode == 0 and len(run.passed) == 5, run.output[-3000:]
    results = "".join(p.read_text() for p in (tmp_path / "reports" / "allure-results").glob("*-result.json"))
    assert "burst: GET /api/v1/users/me as legacy (at most 12 requests)" in results  # the timeline, and its chart:
    assert "burst: GET /api/v1/users/me as legacy, chart" in results


@pytest.mark.parametrize("faults", ROUNDS, ids=["+".join(f.id for f in group) for group in ROUNDS])
def test_each_fault_fails_exactly_its_steps(sandbox_factory, tmp_path, faults: list[RateLimitFault]):
    expected = {name: failure for fault in faults for name, failure in fault.failures.items()}
    fields = {**PROMISE, **{k: v for fault in faults for k, v in fault.environment.items()}}
    env_dir = environments_with(tmp_path, lambda local: local["rate_limits"][0].update(fields))
    args = faults[0].args
    run = run_features(sandbox_factory(**configuration(faults)), tmp_path / "reports", "--env=local", *args,
                       env_dir=env_dir)
    assert_fails_exactly(expected, run)
