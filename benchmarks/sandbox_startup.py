"""Measure `sandbox up` to all-healthy: one cold start (no cached template cluster) and warm starts.

Usage: .venv/bin/python benchmarks/sandbox_startup.py [--warm N] [--keep-cache]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox import config, launcher  # noqa: E402


def one(env: dict) -> float:
    d = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    try:
        t = time.perf_counter()
        launcher.start(d, env=env)
        elapsed = time.perf_counter() - t
        launcher.stop(d)
        return elapsed
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--keep-cache", action="store_true", help="do not clear the template cluster cache first")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in config.CONFIG_VARIABLES}  # a default sandbox
    if not args.keep_cache:
        for p in launcher._cache_dir().glob("pg-template-*"):
            shutil.rmtree(p, ignore_errors=True)
        print(f"cold start (initdb + cache): {one(env):.2f} s")
    warm = [one(env) for _ in range(args.warm)]
    print(f"warm starts: {', '.join(f'{w:.2f}' for w in warm)} s (median {statistics.median(warm):.2f} s)")


if __name__ == "__main__":
    main()
