"""Verdicts: every outcome is one kind (``postdeploy.verdicts``); the tally adds them up on the controller (xdist
workers' reports included) into the terminal summary, the exit code and the run's metadata."""

from __future__ import annotations

import os
import platform
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from .. import __version__, errors, redact, runmarker, verdicts
from ..errors import PostdeployError
from ..verdicts import Kind
from .state import ENV_KEY, EXIT_KEY, REQUESTS_KEY, RUN_ID_VAR, TALLY_KEY, is_worker

_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(\w+): ")


def counts(tally: dict[str, tuple[Kind, str]]) -> Counter[Kind]:
    return Counter(kind for kind, _ in tally.values())


def _first_line(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2]).removeprefix("Skipped: ")
    else:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr or "")
    named = _EXCEPTION_PREFIX.match(text)  # "postdeploy.errors.CheckFailed: expected ..." -> "expected ..."
    if named and named.group(1) in {c.__name__ for c in errors.tree(PostdeployError)} | {"AssertionError", "Failed"}:
        text = text[named.end():]
    return redact.redact(text.strip().splitlines()[0] if text.strip() else "")


class VerdictTally:
    """One verdict per selected item, tallied on the controller (xdist workers' reports included)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        config.stash[TALLY_KEY] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # the item's verdict so far, its heaviest phase's (outcomes.pytest_runtest_makereport)
        kind = next((Kind(v) for k, v in reversed(report.user_properties) if k == "verdict"), None)
        if kind is None:
            return
        tally = self.config.stash[TALLY_KEY]
        seen = tally.get(report.nodeid)
        if seen is None or kind.rank > seen[0].rank:
            tally[report.nodeid] = (kind, "" if kind is Kind.PASSED else _first_line(report))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:  # xdist: a worker's request counts
        requests = self.config.stash.setdefault(REQUESTS_KEY, {})
        for name, n in (getattr(node, "workeroutput", {}) or {}).get("postdeploy_requests", {}).items():
            requests[name] = requests.get(name, 0) + n


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if config.stash.get(ENV_KEY, None) is None or is_worker(config):
        return
    tally = config.stash.get(TALLY_KEY, None)
    if tally is None:
        return
    titles = {Kind.TARGET_DEFECT: "target defects (the deployment is wrong)",
              Kind.SUITE_ERROR: "suite errors (a feature or environment file is wrong)",
              Kind.ENVIRONMENT_ERROR: "environment errors (not defects of the target)",
              Kind.INCONCLUSIVE: "inconclusive (no verdict could be reached)"}
    for kind, title in titles.items():
        entries = [(nodeid, line) for nodeid, (seen, line) in tally.items() if seen is kind]
        if entries:
            terminalreporter.section(title, red=kind is not Kind.INCONCLUSIVE, yellow=kind is Kind.INCONCLUSIVE)
            by_line: dict[str, list[str]] = {}
            for nodeid, line in entries:
                by_line.setdefault(line, []).append(nodeid.rsplit("::", 1)[-1])
            for line, names in by_line.items():  # one cause, said once: "... (9 scenarios)"
                more = ", ..." if len(names) > 3 else ""
                who = names[0] if len(names) == 1 else f"{len(names)} scenarios ({', '.join(names[:3])}{more})"
                terminalreporter.line(f"{who}: {line}")
    requests = config.stash.get(REQUESTS_KEY, {})
    if requests:
        terminalreporter.line("requests sent: " + ", ".join(f"{k}={v}" for k, v in sorted(requests.items())))
    line = verdicts.summary_line(counts(tally))
    final = int(config.stash.get(EXIT_KEY, exitstatus))
    if final in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):  # not everything ran
        line = re.sub(r"^(postdeploy verdict: )[A-Z ]+(: .*)$", r"\1NOT VERIFIED (run interrupted)\2", line)
    line = re.sub(r"\(exit code \d+\)$", f"(exit code {final})", line)  # pytest's own codes (5: nothing ran) stay
    terminalreporter.write_line(line, bold=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    env = config.stash.get(ENV_KEY, None)
    if env is not None and is_worker(config):
        config.workeroutput["postdeploy_requests"] = config.stash.get(REQUESTS_KEY, {})
        return
    if env is None:
        return
    tallied = counts(config.stash.get(TALLY_KEY, {}))
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = verdicts.exit_code(tallied)
    config.stash[EXIT_KEY] = int(session.exitstatus)
    results = config.option.allure_report_dir
    if not results:
        return
    from .. import report

    properties = {
        "environment": env.name,
        "postdeploy": __version__,
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "run_id": os.environ.get(RUN_ID_VAR, ""),
        "markers": config.getoption("markexpr") or "(all)",
        "verdict": verdicts.summary_line(tallied).split(": ", 1)[1],
        **{f"service.{n}": s.base_url for n, s in env.services.items()},
        **{f"requests.{n}": str(c) for n, c in sorted(config.stash.get(REQUESTS_KEY, {}).items())},
    }
    report.write_run_metadata(Path(results), environment=env.name, properties=properties,
                              executor={"buildName": f"run {properties['run_id']}"})
    runmarker.finish(results, exitstatus=session.exitstatus)
