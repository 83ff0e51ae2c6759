"""Benchmark: the @rate_limit family's wall time and request count against the sandbox (docs/performance.md,
docs/rate-limits.md).

One sandbox per limit setting; for each, ``pytest --env=local -m "rate_limit and not slow"`` and then
``pytest --env=local -m rate_limit`` (the @slow reset check included), each timed, with the requests the run sent
to the API as its summary line counts them (``requests sent: api=N``; the sign-ins included).

Usage: .venv/bin/python benchmarks/rate_limits.py [SETTINGS]   (prints Markdown)
SETTINGS: ``default`` (the sandbox's 100 requests per 60 s), ``short`` (10 per 2 s, as the fault matrix runs),
or both (the default).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import launcher  # the benchmark drives the sandbox directly

SETTINGS = {"default": {"RATE_LIMIT_PER_MINUTE": "100", "RATE_LIMIT_WINDOW_SECONDS": "60"},
            "short": {"RATE_LIMIT_PER_MINUTE": "10", "RATE_LIMIT_WINDOW_SECONDS": "2"}}
SELECTIONS = ("rate_limit and not slow", "rate_limit")


def environments(name: str) -> Path:
    """A copy of environments/ whose local.yaml promises the setting's limit and window."""
    target = Path(tempfile.mkdtemp(prefix="pd-bench-rate-env-")) / "environments"
    shutil.copytree(ROOT / "environments", target)
    local = yaml.safe_load((target / "local.yaml").read_text())
    local["rate_limits"][0].update(limit=int(SETTINGS[name]["RATE_LIMIT_PER_MINUTE"]),
                                   window=float(SETTINGS[name]["RATE_LIMIT_WINDOW_SECONDS"]))
    (target / "local.yaml").write_text(yaml.safe_dump(local, sort_keys=False))
    return target


def run(state: Path, env_dir: Path, selection: str) -> tuple[int, float, str, str]:
    env = {**os.environ, "POSTDEPLOY_SANDBOX_DIR": str(state)}
    reports = tempfile.mkdtemp(prefix="pd-bench-rate-")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "--env=local", f"--env-dir={env_dir}", "-m", selection,
                           "-p", "no:xdist", f"--reports-dir={reports}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", file=sys.stderr)
    sent = re.search(r"requests sent: (.*)", proc.stdout)
    outcome = re.search(r"=+ (.*(?:passed|failed).*) in ", proc.stdout)
    return proc.returncode, wall, sent.group(1) if sent else "?", outcome.group(1) if outcome else "?"


def main(names: list[str]) -> None:
    print("| limits | selection | exit | scenarios | wall (s) | requests sent |\n|---|---|---|---|---|---|")
    for name in names:
        state = Path(tempfile.mkdtemp(prefix=f"pd-bench-rate-{name}-"))
        launcher.start(state, env={**os.environ, **SETTINGS[name]})
        try:
            for selection in SELECTIONS:
                code, wall, sent, outcome = run(state, environments(name), selection)
                limit, window = SETTINGS[name].values()
                print(f"| {limit} per {window} s | `-m \"{selection}\"` | {code} | {outcome} | {wall:.1f} | {sent} |",
                      flush=True)
        finally:
            launcher.stop(state)


if __name__ == "__main__":
    main(sys.argv[1:] or ["short", "default"])
