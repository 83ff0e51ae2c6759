"""Benchmark: the @data_integrity family (docs/performance.md, docs/data-integrity.md).

1. The family's wall time against the sandbox: `pytest --env=local -m data_integrity`, N runs against one
   sandbox.
2. The duplicate, orphan, NULL and freshness checks on tables of 10^4, 10^5 and 10^6 rows, through the
   read-only session exactly as the steps run them (statement timeout 5 s): each table is created by the
   sandbox's superuser with the indexes a team would have (a unique index is NOT there, so the duplicate
   check has to group), then read by the read-only role.

Usage: .venv/bin/python benchmarks/data_integrity.py [RUNS]   (prints Markdown)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))
from postdeploy.database import data  # noqa: E402
from postdeploy.environment import Database  # noqa: E402
from postdeploy.errors import CheckFailed  # noqa: E402
from postdeploy.sql import ReadOnlySession  # noqa: E402
from _family import family_runs  # noqa: E402
from sandbox import launcher  # noqa: E402  (the benchmark drives the sandbox directly)

SIZES = (10_000, 100_000, 1_000_000)


def build(admin: str, rows: int) -> str:
    """bench_<rows>: a parent table, a child with a reference, a key with some duplicates, a timestamp."""
    table = f"bench_{rows}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}_child, {table}")
        conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, key text, created_at timestamptz NOT NULL)")
        conn.execute(f"INSERT INTO {table} SELECT i, 'k' || (i % ({rows} - 10)), now() - (i || ' seconds')::interval "
                     f"FROM generate_series(1, {rows}) AS i")
        conn.execute(f"CREATE TABLE {table}_child (id bigint PRIMARY KEY, parent_id bigint)")
        conn.execute(f"INSERT INTO {table}_child SELECT i, CASE WHEN i % 100000 = 0 THEN -i ELSE i END "
                     f"FROM generate_series(1, {rows}) AS i")
        conn.execute(f"CREATE INDEX ON {table} (key)")
        conn.execute(f"CREATE INDEX ON {table} (created_at)")
        conn.execute(f"CREATE INDEX ON {table}_child (parent_id)")
        conn.execute(f"ANALYZE {table}")
        conn.execute(f"ANALYZE {table}_child")
        conn.execute(f"GRANT SELECT ON {table}, {table}_child TO postdeploy_readonly")
    return table


def timed(action) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        action()
        outcome = "passed"
    except CheckFailed as exc:
        outcome = "found: " + str(exc).splitlines()[0][:60]
    except Exception as exc:  # noqa: BLE001  (a benchmark reports what happened, whatever it is)
        outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"
    return time.perf_counter() - started, outcome


def main(runs: int) -> None:
    state = Path(tempfile.mkdtemp(prefix="pd-bench-di-"))
    launcher.start(state, env=dict(os.environ))
    try:
        database = json.loads((state / "state.json").read_text())["database"]
        results = family_runs(state, "data_integrity", runs)
        walls = [wall for _, wall in results]
        print(f"### `pytest --env=local -m data_integrity`, {runs} runs, one sandbox\n")
        print("| exit codes | median wall (s) | min (s) | max (s) |\n|---|---|---|---|")
        print(f"| {', '.join(str(code) for code, _ in results)} | {statistics.median(walls):.2f} | "
              f"{min(walls):.2f} | {max(walls):.2f} |\n")
        print("### The data checks on large tables (read-only session, statement timeout 5 s)\n")
        print("| rows | check | seconds | outcome |\n|---|---|---|---|")
        for rows in SIZES:
            table = build(database["dsn"], rows)
            with ReadOnlySession(Database(dsn=database["readonly_dsn"]), run_id="bench") as session:
                for label, action in (
                    ("no duplicates over key", lambda: data.check_no_duplicates(session, table, "key")),
                    ("no orphans (child.parent_id)", lambda: data.check_no_orphans(session, f"{table}_child",
                                                                                   "parent_id", table, "id")),
                    ("no NULL key", lambda: data.check_no_nulls(session, table, "key")),
                    ("newest created_at within 60 min", lambda: data.check_fresh(session, table, "created_at", 60)),
                ):
                    seconds, outcome = timed(action)
                    print(f"| {rows:,} | {label} | {seconds:.3f} | {outcome} |")
            with psycopg.connect(database["dsn"], autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {table}_child, {table}")
    finally:
        launcher.stop(state)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
