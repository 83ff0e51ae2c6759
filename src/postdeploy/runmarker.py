"""The run marker: which run wrote a results directory, and whether that run completed.

``allure-results/postdeploy-run.json`` is written by the plugin on the controller (never by xdist workers):

* at session start: ``{"run_id", "environment", "started", "completed": false}``;
* at session finish, rewritten with ``"completed"``, ``"exitstatus"`` and ``"finished"``. A run completed when
  pytest ran its session to the end: any exit status but interrupted (2: Ctrl-C, SIGTERM, SIGHUP, collection
  errors), internal error (3) and usage error (4).

A run killed outright keeps ``"completed": false``; a run that stopped before its session (a bad environment
file, an unknown ``--env``, a missing variable) writes no marker and, as soon as it knew its environment, removed
the previous run's marker and JUnit file. ``postdeploy report`` refuses results without a marker or with
``"completed": false`` unless given ``--allow-incomplete`` (then the report is labelled INCOMPLETE RUN).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

MARKER_FILE = "postdeploy-run.json"
INCOMPLETE_EXIT_STATUSES = frozenset({2, 3, 4})  # pytest's INTERRUPTED, INTERNAL_ERROR, USAGE_ERROR


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _write(results_dir: Path, marker: dict[str, Any]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / MARKER_FILE
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read(results_dir: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The marker in ``results_dir``; None when there is none (or it is not a marker)."""
    if not results_dir:
        return None
    try:
        marker = json.loads((Path(results_dir) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and "completed" in marker else None


def start(results_dir: str | os.PathLike[str] | None, *, run_id: str, environment: str) -> None:
    """Session start: these results are the run ``run_id``'s against ``environment``, not completed yet."""
    if results_dir:
        _write(Path(results_dir), {"run_id": run_id, "environment": environment, "started": _now(),
                                   "completed": False})


def finish(results_dir: str | os.PathLike[str] | None, *, exitstatus: int) -> None:
    """Session finish: record the exit status and whether the run completed."""
    if not results_dir:
        return
    marker = read(results_dir) or {"run_id": "", "environment": "", "started": None}
    status = int(exitstatus)
    marker.update(completed=status not in INCOMPLETE_EXIT_STATUSES, exitstatus=status, finished=_now())
    _write(Path(results_dir), marker)


def forget_previous(results_dir: str | os.PathLike[str] | None, junit: str | os.PathLike[str] | None) -> None:
    """A new run against an environment begins: the previous run's marker and JUnit file no longer describe it.

    (The default results directory itself is emptied by allure-pytest-bdd's ``--clean-alluredir``, which the
    plugin turns on for it; an explicit ``--alluredir`` keeps its results unless ``--clean-alluredir`` is given,
    but without a marker no report is built from them as if they were this run's.)
    """
    for path in (Path(results_dir) / MARKER_FILE if results_dir else None, Path(junit) if junit else None):
        if path is not None:
            try:
                path.unlink(missing_ok=True)
            except IsADirectoryError:
                pass


def incomplete_reason(results_dir: str | os.PathLike[str]) -> str | None:
    """Why the results in ``results_dir`` are not a completed run's (one paragraph), or None when they are."""
    results_dir = Path(results_dir)
    marker = read(results_dir)
    how = (
        "Rerun the suite (`pytest --env=NAME ...`) and let it finish, or pass --allow-incomplete to build a report "
        "labelled INCOMPLETE RUN from them anyway."
    )
    if marker is None:
        return (
            f"the results in {results_dir} carry no run marker ({MARKER_FILE}), so nothing says they come from a "
            "completed run: they were written by a run that stopped before its scenarios, by an older postdeploy, "
            f"or by something else than `pytest --env=NAME`. {how}"
        )
    if marker.get("completed") is True:
        return None
    run_id = marker.get("run_id") or "unknown"
    if "exitstatus" in marker:
        what = f"it ended with exit status {marker['exitstatus']}: interrupted, or stopped by an error"
    else:
        what = "it was interrupted or killed before it finished"
    return (
        f"the results in {results_dir} are from a run that did not complete ({what}; run id {run_id}, "
        f"environment {marker.get('environment') or 'unknown'}, started {marker.get('started') or 'unknown'}), "
        f"so they may miss scenarios and must not be read as that run's verdict. {how}"
    )
