"""Allure report: run metadata written next to the results, and the HTML report built by Allure 3.

What goes where (verified against the Allure 3 CLI from npm, ``allure@3``):

* ``environment.properties`` and ``executor.json`` in the results directory are read by Allure 3's
  results reader exactly as Allure 2 did: the first fills the *Metadata* block of the overview, the second
  the executor entry.
* The CI system is not detected here: Allure 3 detects it itself when it builds the report (``@allurereport/ci``:
  GitHub Actions, GitLab CI, Jenkins, Azure DevOps, Bitbucket Pipelines, CircleCI, Drone, AWS CodeBuild), adds
  the CI run's name to the report's title and links the CI job. ``executor.json`` says only what Allure 3 cannot
  know: which postdeploy run wrote the results.
* Categories are **not** read from ``categories.json`` by Allure 3's default (``awesome``) report; they must
  come from the ``categories`` key of the Allure config. :func:`write_run_metadata` still writes an
  Allure 2 style ``categories.json`` into the results (so Allure 2 and the ``classic`` plugin show them too),
  and :func:`build_report` turns that file into the config it hands to the CLI.
* History lives in one JSON-lines file (``historyPath`` in the config), one line per build.

allure-python writes a *failed* result (an ``AssertionError``) and a *broken* one (anything else) with
``statusDetails.message`` = ``traceback.format_exception_only``: ``AssertionError: ...`` for built-ins and the
dotted path for the rest, e.g. ``postdeploy.errors.ServiceUnreachable: billing did not answer``. The
``trace`` is pytest's long representation and ends with ``file.py:LINE: ServiceUnreachable``. The category
rules below match both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import webbrowser
from collections.abc import Mapping
from pathlib import Path

from postdeploy import errors, runmarker
from postdeploy.errors import (
    EnvironmentProblem,
    MissingSecret,
    PostdeployError,
    SuiteError,
)

__all__ = [
    "ReportError",
    "categories",
    "find_allure",
    "write_run_metadata",
    "build_report",
    "main",
]

DEFAULT_RESULTS = Path("reports/allure-results")
DEFAULT_OUTPUT = Path("reports/html")
HISTORY_FILE = "history.jsonl"
HISTORY_LIMIT = 100
INCOMPLETE_LABEL = "INCOMPLETE RUN"
CLI_TIMEOUT_S = 180

# One category per verdict kind (postdeploy.verdicts), plus flaky failures.
CATEGORY_TARGET = "Target defects"
CATEGORY_ENVIRONMENT = "Environment errors"
CATEGORY_OTHER_BROKEN = "Suite errors"
CATEGORY_INCONCLUSIVE = "Inconclusive"
CATEGORY_FLAKY = "Flaky (failed now, passed recently)"

# Always listed, even if a subclass module was not imported when the metadata is written.
_KNOWN_ENVIRONMENT_PROBLEMS = (
    "EnvironmentProblem",
    "MissingSecret",
    "ServiceUnreachable",
    "AlreadyReported",
    "SandboxStartError",
    "BrowserUnavailable",
)

_REPO_ROOT = Path(__file__).resolve().parents[2]


class ReportError(PostdeployError):
    """The HTML report could not be built (Allure CLI missing, failing, or no results)."""


# --------------------------------------------------------------------------------------------------
# categories, environment, executor
# --------------------------------------------------------------------------------------------------


def _environment_problem_names() -> list[str]:
    """Exceptions whose verdict is *environment error*: EnvironmentProblem's subclasses that are not also
    suite errors (a wrong environment file), except a missing secret, which is the environment's."""
    names = list(_KNOWN_ENVIRONMENT_PROBLEMS)
    for cls in errors.tree(EnvironmentProblem):
        if cls.__name__ not in names and (not issubclass(cls, SuiteError) or issubclass(cls, MissingSecret)):
            names.append(cls.__name__)
    return names


def categories() -> list[dict]:
    """The category rules, in the Allure 2 ``categories.json`` format (Allure 3 accepts it as config).

    Allure 3 puts a result in the *first* category that matches, and lists categories in this order:
    flaky failures before the other failed results (target defects: the plugin turns every target defect
    into a failed result), then environment errors (broken results raised by the environment's problems,
    and scenarios skipped because a service was reported unreachable), then every other broken result
    (suite errors), then inconclusive scenarios (skipped with a reason that starts ``inconclusive:``).
    Skips by policy (``not applicable:``) are in no category.
    Regexes are written so that they work both as a search (Allure 3, JavaScript) and as a full match
    (Allure 2, Java).
    """
    alternatives = "|".join(re.escape(n) for n in _environment_problem_names())
    message_regex = rf"^(?:[A-Za-z_][\w.]*\.)?(?:{alternatives})(?:[:\s][\s\S]*)?$"
    trace_regex = rf"^[\s\S]*:\d+: (?:[A-Za-z_][\w.]*\.)?(?:{alternatives})\s*$"
    environment_description = (
        "The suite could not reach or authenticate to what it needs before anything answered: a service did "
        "not answer the preflight, a secret is missing, the browser or the sandbox did not start. Not a defect "
        "of the deployment; fix the environment and re-run."
    )
    flaky = {
        "name": CATEGORY_FLAKY,
        "description": "Failed in this run but passed in one of the recent runs (from history): an intermittent "
        "defect or an unstable check.",
        "matchedStatuses": ["failed"],
        "flaky": True,
    }
    target = {
        "name": CATEGORY_TARGET,
        "description": "A check ran and saw the deployment misbehave (a failed assertion).",
        "matchedStatuses": ["failed"],
    }
    environment_by_message = {
        "name": CATEGORY_ENVIRONMENT,
        "description": environment_description,
        "matchedStatuses": ["broken"],
        "messageRegex": message_regex,
    }
    # Same name: Allure 3 merges the two rules into one category (message OR trace matches).
    environment_by_trace = {**environment_by_message, "traceRegex": trace_regex}
    del environment_by_trace["messageRegex"]
    environment_skipped = {**environment_by_message, "matchedStatuses": ["skipped"],
                           "messageRegex": r"^(?:Skipped: )?environment error: [\s\S]*$"}
    other = {
        "name": CATEGORY_OTHER_BROKEN,
        "description": "A feature or environment file is wrong (an undefined step, a Then with nothing to check, "
        "an unknown service, a Gherkin syntax error, a writing step outside @mutating), or a step has a bug: "
        "read the message and the trace.",
        "matchedStatuses": ["broken"],
    }
    inconclusive = {
        "name": CATEGORY_INCONCLUSIVE,
        "description": "No verdict could be reached: the target rate-limited a check that is not about rate "
        "limits, a dependency of the check is not configured, or a service it needs stopped answering earlier "
        "(that was reported as a target defect).",
        "matchedStatuses": ["skipped"],
        "messageRegex": r"^(?:Skipped: )?inconclusive: [\s\S]*$",
    }
    return [flaky, target, environment_by_message, environment_by_trace, environment_skipped, other, inconclusive]


def _escape_property(text: str, *, key: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch in "=:#!" and (key or i == 0):
            out.append("\\" + ch)
        elif ch == " " and (key or i == 0):
            out.append("\\ ")
        else:
            out.append(ch)
    return "".join(out)


def write_run_metadata(
    results_dir: Path,
    *,
    environment: str,
    properties: Mapping[str, str],
    executor: Mapping | None = None,
) -> None:
    """Write ``environment.properties``, ``executor.json`` and ``categories.json`` into ``results_dir``.

    ``properties`` are shown in the report's metadata block in the given order, after the environment name
    (target base URLs, suite version, Python/pytest versions, browser...). The executor is postdeploy; ``executor``
    entries are added to it (the plugin gives the run id as ``buildName``). The CI system is Allure 3's to detect
    when the report is built (module docstring).
    """
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)

    lines = [f"environment={_escape_property(environment, key=False)}"]
    for name, value in properties.items():
        if name == "environment":
            continue
        lines.append(f"{_escape_property(str(name), key=True)}={_escape_property(str(value), key=False)}")
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")

    info = {"name": "postdeploy", "type": "postdeploy"}
    if executor:
        info.update({k: v for k, v in executor.items() if v is not None})
    (results_dir / "executor.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    (results_dir / "categories.json").write_text(json.dumps(categories(), indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# building the report
# --------------------------------------------------------------------------------------------------

_HOW_TO_INSTALL = (
    "Install the Allure 3 command line (it needs Node.js 20+, no Java): run `npm install` in the repository "
    "(package.json pins `allure@3`), or `npm install -g allure@3`, or point POSTDEPLOY_ALLURE at an `allure` "
    "3.x executable. The raw results stay usable meanwhile: `npx allure generate <results>`."
)


def find_allure() -> list[str]:
    """The command that runs the Allure 3 CLI; raises :class:`ReportError` when there is none."""
    explicit = os.environ.get("POSTDEPLOY_ALLURE")
    if explicit:
        path = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if not path:
            raise ReportError(
                f"POSTDEPLOY_ALLURE={explicit!r} does not name an executable file. {_HOW_TO_INSTALL}"
            )
        return [path]
    for base in (_REPO_ROOT, Path.cwd()):
        candidate = base / "node_modules" / ".bin" / "allure"
        if candidate.is_file():
            return [str(candidate)]
    on_path = shutil.which("allure")
    if on_path:
        try:
            version = subprocess.run(
                [on_path, "--version"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            version = ""
        if version and not version.startswith("3"):
            raise ReportError(
                f"The `allure` on PATH ({on_path}) is version {version}, but postdeploy needs Allure 3 "
                f"(single-file report, history file, categories from config). {_HOW_TO_INSTALL}"
            )
        return [on_path]
    raise ReportError(f"The Allure command line was not found. {_HOW_TO_INSTALL}")


def _read_properties(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        out[key.replace("\\", "")] = value
    return out


def _load_categories(results_dir: Path) -> list[dict]:
    path = results_dir / "categories.json"
    rules = categories()
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, list) and loaded:
                rules = loaded
        except ValueError:
            pass
    keep = ("name", "matchedStatuses", "messageRegex", "traceRegex", "flaky")
    out = []
    for rule in rules:
        if isinstance(rule, dict) and rule.get("name"):
            entry = {k: rule[k] for k in keep if k in rule}
            entry["expand"] = rule["name"] in (CATEGORY_TARGET, CATEGORY_ENVIRONMENT)
            out.append(entry)
    return out


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

    env_props = _read_properties(results_dir / "environment.properties")
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
        "categories": _load_categories(results_dir),
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
                argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
            )
        except FileNotFoundError as exc:
            raise ReportError(f"Could not start the Allure command line ({exc}). {_HOW_TO_INSTALL}") from None
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
                f"broken, reinstall it. {_HOW_TO_INSTALL}\n--- allure output (last lines) ---\n{tail}"
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


# --------------------------------------------------------------------------------------------------
# `postdeploy report`
# --------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``postdeploy report [--results DIR] [--output DIR] [--open] [--allow-incomplete]``: build the HTML report,
    print its path."""
    parser = argparse.ArgumentParser(
        prog="postdeploy report",
        description="Build the HTML report (one file that opens from disk) from the Allure results of a run.",
    )
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="Allure results (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="report directory (default: %(default)s)")
    parser.add_argument(
        "--history",
        type=Path,
        default=None,
        help="history file kept across runs (default: history.jsonl next to the report directory)",
    )
    parser.add_argument("--title", default="postdeploy", help="report title (default: %(default)s)")
    parser.add_argument("--open", action="store_true", help="open the report in the default browser")
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="build a report from the results of a run that did not complete (interrupted, or stopped before its "
        f"scenarios), its name labelled {INCOMPLETE_LABEL}; without it such results are refused",
    )
    args = parser.parse_args(argv)
    try:
        index = build_report(args.results, args.output, history_path=args.history, title=args.title,
                             allow_incomplete=args.allow_incomplete)
    except ReportError as exc:
        print(f"postdeploy report: {exc}", file=sys.stderr)
        return 1
    print(index)
    if args.open:
        webbrowser.open(index.resolve().as_uri())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
