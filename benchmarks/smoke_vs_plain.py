"""Benchmark: `pytest --env=local -m smoke` next to a plain script doing the same work, same sandbox, same run.

Also: pytest start-up for an API-only selection (Playwright is not imported then).
Usage: .venv/bin/python benchmarks/smoke_vs_plain.py [ROUNDS]   (prints a Markdown table)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sandbox import launcher  # noqa: E402  (the benchmark drives the sandbox directly)


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    state = Path(tempfile.mkdtemp(prefix="pd-bench-"))
    # the rounds send far more than 100 anonymous requests a minute from one address: lift the general limit,
    # which is the sandbox's real behaviour but not what this measures
    launcher.start(state, env={**os.environ, "RATE_LIMIT_PER_MINUTE": "100000"})
    env = {**os.environ, "POSTDEPLOY_SANDBOX_DIR": str(state)}
    reports = tempfile.mkdtemp(prefix="pd-bench-reports-")
    py = sys.executable
    cases = {
        "pytest --env=local -m smoke (21 scenarios, with Allure results)":
            [py, "-m", "pytest", "--env=local", "-m", "smoke", "-q", f"--reports-dir={reports}"],
        "plain script, same requests and page visits": [py, str(ROOT / "benchmarks" / "plain_smoke.py"), str(state / "state.json")],
        "pytest --env=local -m 'smoke and not browser' (API only)":
            [py, "-m", "pytest", "--env=local", "-m", "smoke and not browser", "-q", f"--reports-dir={reports}"],
        "pytest start-up, API-only selection (--collect-only)":
            [py, "-m", "pytest", "--env=local", "-m", "smoke and not browser", "--collect-only", "-q", "--no-preflight",
             f"--reports-dir={reports}"],
    }
    try:
        results = {name: [] for name in cases}
        for _ in range(rounds):
            for name, command in cases.items():  # interleaved, so machine load hits every case alike
                results[name].append(timed(command, env))
    finally:
        launcher.stop(state)
    print(f"| measurement | median of {rounds} (s) | min (s) |\n|---|---|---|")
    for name, times in results.items():
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} |")
    suite, plain = (statistics.median(results[n]) for n in list(cases)[:2])
    print(f"\nratio suite / plain script: {suite / plain:.2f}x")


if __name__ == "__main__":
    main()
