"""What the family benchmarks share: N runs of one family against one sandbox, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def family_runs(state: Path, marker: str, runs: int) -> list[tuple[int, float]]:
    """(exit code, wall seconds) of ``runs`` runs of ``pytest --env=local -m MARKER`` reusing the sandbox in ``state``."""
    env = {**os.environ, "POSTDEPLOY_SANDBOX_DIR": str(state)}
    reports = tempfile.mkdtemp(prefix=f"pd-bench-{marker}-")
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "--env=local", "-m", marker, "-q",
                               f"--reports-dir={reports}"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
        out.append((proc.returncode, time.perf_counter() - started))
    return out
