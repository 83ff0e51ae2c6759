"""Building the HTML report with the Allure 3 CLI: one file that opens from disk, with a history kept across runs.

* Categories come from the ``categories`` key of the config handed to the CLI (:func:`load_categories`).
* History lives in one JSON-lines file (``historyPath`` in the config), one line per build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from postdeploy import runmarker

from .allure_cli import HOW_TO_INSTALL, ReportError, find_allure
from .categories import load_categories
from .metadata import read_properties

HISTORY_FILE = "history.jsonl"
HISTORY_LIMIT = 100
INCOMPLETE_LABEL = "INCOMPLETE RUN"
CLI_TIMEOUT_S = 180


_ANALYTICS = (
    re.compile(r"<script[^>]*googletagmanager[^>]*>\s*</script>\s*"),
    re.compile(r"<script>(?:(?!</script>)[\s\S])*?gtag\((?:(?!</script>)[\s\S])*</script>\s*"),
)


def _strip_analytics(index: Path) -> None:
    """The awesome template always embeds Google Analytics; a report of a deployment must not call home."""
    html = index.read_text(encoding="utf-8")
    stripped = html
    for pattern in _ANALYTICS:
        stripped = pattern.sub("", stripped)
    if stripped != html:
        index.write_text(stripped, encoding="utf-8")


def _has_results(results_dir: Path) -> bool:
    return results_dir.is_dir() and any(results_dir.glob("*-result.json"))


def _no_results(results_dir: Path) -> ReportError:
    return ReportError(
        f"No Allure results in {results_dir}. Run the suite first (`pytest --env=NAME`, which writes them "
        f"there by default, or pass `--alluredir={results_dir}`), then build the report again."
    )


def build_report(
    results_dir: Path,
    output_dir: Path,
    *,
    history_path: Path | None = None,
    single_file: bool = True,
    title: str = "postdeploy",
    allow_incomplete: bool = False,
) -> Path:
    """Build the HTML report from ``results_dir`` into ``output_dir`` and return its ``index.html``.

    ``history_path`` defaults to ``history.jsonl`` next to ``output_dir`` (``reports/history.jsonl``); each
    build appends one line, which gives the trend charts, "new"/"fixed"/"regressed" marks and flaky detection.
    With ``single_file`` the report is one self-contained HTML file that opens from ``file://``.

    Only results of a completed run are reported (see :mod:`postdeploy.runmarker`): results without a run
    marker, or from a run that did not complete, raise :class:`ReportError` saying so. With
    ``allow_incomplete`` they are built anyway, the report's name labelled "INCOMPLETE RUN", and the build
    reads the history without adding to it (a partial run would distort trends and flaky detection).
    """
    results_dir = Path(results_dir).resolve()
    output_dir = Path(output_dir).resolve()
    history = Path(history_path).resolve() if history_path else output_dir.parent / HISTORY_FILE
    if runmarker.read(results_dir) is None and not _has_results(results_dir):
        raise _no_results(results_dir)
    incomplete = runmarker.incomplete_reason(results_dir)
    if incomplete and not allow_incomplete:
        raise ReportError(incomplete[0].upper() + incomplete[1:])
    if not _has_results(results_dir):
        raise _no_results(results_dir)
    if incomplete:
        title = f"{title} [{INCOMPLETE_LABEL}]"
    command = find_allure()

    env_props = read_properties(results_dir / "environment.properties")
    awesome = {
        "reportName": title,
        "singleFile": bool(single_file),
        "defaultSortBy": "status,asc",
        "stepTreeExpansion": "expand_failed_only",
        "reportLanguage": "en",
    }
    config: dict = {
        "name": title,
        "historyPath": str(history),
        "historyLimit": HISTORY_LIMIT,
        "plugins": {"awesome": {"options": awesome}},
        "categories": load_categories(results_dir),
    }
    environment = env_props.get("environment", "").strip()
    if environment and re.fullmatch(r"[\w.-]{1,64}", environment):
        config["environment"] = environment

    history.parent.mkdir(parents=True, exist_ok=True)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".report-", dir=output_dir.parent) as tmp:
        tmp_path = Path(tmp)
        if incomplete:  # read the history, add nothing to it: the copy is thrown away with tmp
            scratch = tmp_path / HISTORY_FILE
            if history.is_file():
                shutil.copyfile(history, scratch)
            config["historyPath"] = str(scratch)
        config_file = tmp_path / "allurerc.json"
        config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
        staging = tmp_path / "html"
        env = dict(os.environ, ALLURE_NO_ANALYTICS="true", NO_COLOR="1")
        argv = [*command, "generate", "--config", str(config_file), "--output", str(staging), str(results_dir)]
        try:
            proc = subprocess.run(
                argv, check=False, cwd=tmp, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
            )
        except FileNotFoundError as exc:
            raise ReportError(f"Could not start the Allure command line ({exc}). {HOW_TO_INSTALL}") from None
        except subprocess.TimeoutExpired:
            raise ReportError(
                f"`allure generate` did not finish within {CLI_TIMEOUT_S} s for {results_dir}. Check that the "
                "results directory holds one run only (delete it before a new run) and that the disk is not full."
            ) from None
        index = staging / "index.html"
        if proc.returncode != 0 or not index.is_file():
            tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
            hint = (
                " Node.js was not found: install Node.js 20+ (the Allure 3 CLI is a Node program)."
                if proc.returncode == 127
                else ""
            )
            raise ReportError(
                f"`allure generate` failed (exit code {proc.returncode}) for {results_dir}.{hint} If the results "
                f"or the history file {history} are damaged, delete them and run again; if the CLI itself is "
                f"broken, reinstall it. {HOW_TO_INSTALL}\n--- allure output (last lines) ---\n{tail}"
            )
        _strip_analytics(index)
        output_dir.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            target = output_dir / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            shutil.move(str(item), str(target))
    return output_dir / "index.html"
