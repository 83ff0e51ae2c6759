"""Interruptions and leftovers: a signal stops a private sandbox; a run that stops early leaves no stale results.

The signal tests run ``pytest --env=local`` in a subprocess, in a throwaway project whose one slow scenario
waits, with no shared sandbox to reuse (an empty ``POSTDEPLOY_SANDBOX_DIR``) and its own ``TMPDIR``, so the
private sandbox it starts is found under that directory. Once the sandbox is up (or while it is starting),
the test sends the signal, then checks that nothing of the sandbox is left: no process, no listening port,
no temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from postdeploy import report, runmarker

ROOT = Path(__file__).resolve().parents[2]
WAIT_UP_S = 45  # a sandbox starts in ~5 s, ~10 s on a loaded 2-core machine
WAIT_EXIT_S = 30

FEATURE = """\
Feature: A run that is interrupted
  Scenario: A quick check
    Given the run is under way
    Then nothing is wrong

  Scenario: A slow check
    Given a check that takes a minute
    Then nothing is wrong
"""

STEPS = """\
import os
import time
from pathlib import Path

from pytest_bdd import given, scenarios, then

scenarios(".")


@given("the run is under way")
def under_way():
    pass


@given("a check that takes a minute")
def slow():
    Path(os.environ["INTERRUPT_FLAG"]).write_text("running")
    time.sleep(60)


@then("nothing is wrong")
def fine():
    pass
"""

LOCAL_YAML = """\
sandbox: {autostart: true}
safety: {read_only: true}
services:
  api: {base_url: "${SANDBOX_API_URL}", health: {path: /health}}
"""

# variables the sandbox reads: not inherited, so the private sandbox is a healthy default one
SANDBOX_CONFIG = ("SANDBOX_FAULTS", "CORS_ORIGINS", "ENABLE_DOCS", "DEBUG", "LOG_LEVEL", "ENVIRONMENT",
                  "MAINTENANCE_MODE", "RATE_LIMIT_PER_MINUTE", "TEST_EMAIL_RATE_LIMIT_PER_MINUTE", "SMTP_HOST",
                  "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_RETRY_ATTEMPTS",
                  "SMTP_RETRY_BACKOFF_MS", "FRONTEND_DOMAIN", "TEMPLATE_DIR", "JWT_SECRET", "SERVICE_TOKEN",
                  "API_BASE_URL")


def _project(base: Path) -> Path:
    project = base / "project"
    (project / "features").mkdir(parents=True)
    (project / "environments").mkdir()
    (project / "features" / "interrupted.feature").write_text(FEATURE)
    (project / "features" / "test_scenarios.py").write_text(STEPS)
    (project / "conftest.py").write_text('pytest_plugins = ["postdeploy.plugin"]\n')
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (project / "environments" / "local.yaml").write_text(LOCAL_YAML)
    return project


def _reset_signals() -> None:  # in the child: a SIGINT/SIGHUP ignored by whoever started this test is not inherited
    for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


class Run:
    """``pytest --env=local`` in the throwaway project, in its own session, with its own TMPDIR."""

    def __init__(self, base: Path, tmp: Path) -> None:
        self.base, self.tmp = base, tmp
        self.project = _project(base)
        self.flag = base / "scenario-running"
        self.reports = base / "reports"
        shared = base / "no-shared-sandbox"
        shared.mkdir()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTEST_", "POSTDEPLOY_")) and k not in SANDBOX_CONFIG}
        env.update(TMPDIR=str(tmp), POSTDEPLOY_SANDBOX_DIR=str(shared), INTERRUPT_FLAG=str(self.flag),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])))
        self.out = open(base / "output.txt", "wb")  # noqa: SIM115 - closed in finish()
        command = [sys.executable, "-m", "pytest", f"--rootdir={self.project}", "--env=local",
                   f"--reports-dir={self.reports}", "-p", "no:xdist", "-p", "no:randomly", "-q", "features"]
        self.proc = subprocess.Popen(command, cwd=self.project, env=env, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_reset_signals)  # noqa: PLW1509 - only resets dispositions

    def output(self) -> str:
        self.out.flush()
        return (self.base / "output.txt").read_text(errors="replace")

    def private_dir(self) -> Path | None:
        found = sorted(self.tmp.glob("postdeploy-sandbox-*"))
        return found[0] if found else None

    def wait_for(self, what: str, ready) -> object:
        deadline = time.monotonic() + WAIT_UP_S
        while time.monotonic() < deadline:
            got = ready()
            if got:
                return got
            if self.proc.poll() is not None:
                pytest.fail(f"pytest exited ({self.proc.returncode}) before {what}:\n{self.output()[-3000:]}")
            time.sleep(0.05)
        pytest.fail(f"no {what} after {WAIT_UP_S} s:\n{self.output()[-3000:]}")

    def finish(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.out.close()


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _ports(state: dict) -> list[int]:
    ports = [int(info["url"].rsplit(":", 1)[1]) for info in state["services"].values()]
    return [*ports, int(state["services"]["maildev"]["smtp_port"]), int(state["database"]["port"])]


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _processes_mentioning(texts: list[str]) -> list[str]:
    """Processes whose command line or environment mentions one of ``texts`` (the sandbox's paths)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            blob = Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        text = blob.decode(errors="replace")
        if any(t in text for t in texts):
            found.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()[:200]!r}")
    return found


def _group_members(pgids: set[int]) -> list[int]:
    members = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X") and int(fields[2]) in pgids:
            members.append(int(pid))
    return members


@pytest.fixture
def run(tmp_path):
    # the sandbox's temporary directories go under this TMPDIR: outside pytest's 0700 tmp_path, because as root
    # the PostgreSQL cluster runs as the postgres user, which must reach its data directory
    tmp = Path(tempfile.mkdtemp(prefix="pd-interrupt-"))
    os.chmod(tmp, 0o755)
    started = Run(tmp_path, tmp)
    yield started
    started.finish()
    shutil.rmtree(tmp, ignore_errors=True)


def _assert_nothing_left(run: Run, private: Path, pids: list[int], pgids: set[int], ports: list[int]) -> None:
    leftovers = sorted(p.name for p in run.tmp.iterdir())
    assert leftovers == [], f"temporary files left in TMPDIR: {leftovers}\n{run.output()[-2000:]}"
    assert not private.exists()
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists() and
             Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")]
    assert alive == [], f"sandbox processes still running: {alive}"
    assert _group_members(pgids) == [], "members of the sandbox's process groups still running"
    assert _processes_mentioning([str(private), str(run.tmp)]) == []
    listening = [p for p in ports if _accepts(p)]
    assert listening == [], f"ports still accepting connections: {listening}"


pytestmark = pytest.mark.xdist_group("interrupts")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_during_the_scenarios_stops_the_private_sandbox(run, signum):
    private = run.wait_for("private sandbox", run.private_dir)
    state = run.wait_for("sandbox state.json", lambda: _read(private / "state.json"))
    run.wait_for("the slow scenario", run.flag.exists)
    pids = [rec["pid"] for rec in state["processes"].values()]
    pgids = {rec["pgid"] for rec in state["processes"].values()}
    ports = _ports(state)
    assert all(_accepts(p) for p in ports), "the sandbox is not listening before the signal"

    signalled = time.monotonic()
    run.proc.send_signal(signum)
    code = run.proc.wait(WAIT_EXIT_S)
    stopped_in = time.monotonic() - signalled
    output = run.output()

    assert code == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert f"{signum.name} received: the run was interrupted; its private sandbox was stopped" in output
    assert "1 passed" in output, output[-2000:]  # pytest still wrote its summary
    _assert_nothing_left(run, private, pids, pgids, ports)
    assert stopped_in < 20, f"stopping took {stopped_in:.1f} s"

    # the results say the run did not complete, and no report is built from them without asking
    marker = runmarker.read(run.reports / "allure-results")
    assert marker is not None and marker["completed"] is False and marker["exitstatus"] == 2
    with pytest.raises(report.ReportError, match="did not complete"):
        report.build_report(run.reports / "allure-results", run.base / "html")


def test_a_signal_while_the_private_sandbox_starts_stops_what_had_started(run):
    private = run.wait_for("private sandbox", run.private_dir)
    # the start is under way once PostgreSQL and MailDev are spawned (the launcher records them in pids.json)
    record = run.wait_for("a sandbox process",
                          lambda: (_read(private / "pids.json") or {}).get("processes", {}).get("maildev")
                          and _read(private / "pids.json"))
    pids = [rec["pid"] for rec in record["processes"].values()]
    pgids = {rec["pgid"] for rec in record["processes"].values()}

    run.proc.send_signal(signal.SIGTERM)
    code = run.proc.wait(WAIT_EXIT_S)
    output = run.output()

    assert code == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "SIGTERM received" in output, output[-3000:]
    _assert_nothing_left(run, private, pids, pgids, [])


# ---- a run that stops before its scenarios leaves no results a report could mistake for it ------------


@pytest.fixture
def stale(bdd_project):
    """A project whose reports/ holds a previous run's complete, green results."""
    pytester, results = bdd_project.pytester, bdd_project.results
    bdd_project.environment_file("dev", "services:\n  api: {base_url: 'http://127.0.0.1:9'}\n")
    bdd_project.environment_file("secret", "services:\n  api: {base_url: '${POSTDEPLOY_TEST_UNSET_URL}'}\n")
    results.mkdir(parents=True)
    results.joinpath("0a-result.json").write_text(json.dumps({"name": "old", "status": "passed"}))
    runmarker.start(results, run_id="old-run", environment="dev")
    runmarker.finish(results, exitstatus=0)
    junit = bdd_project.reports / "junit.xml"
    junit.write_text('<testsuites><testsuite name="pytest" tests="1"/></testsuites>')
    return pytester, results, junit


@pytest.mark.parametrize("args", [["--env=stagin"], ["--env=secret"]], ids=["unknown-env", "missing-variable"])
def test_a_usage_error_leaves_no_stale_results(stale, args, capsys):
    pytester, results, junit = stale
    assert runmarker.incomplete_reason(results) is None  # a report would have been built from them
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert not junit.exists()
    assert not results.exists() or list(results.iterdir()) == []
    assert report.main(["--results", str(results), "--output", str(pytester.path / "html")]) == 1
    assert "No Allure results" in capsys.readouterr().err


def test_a_usage_error_unmarks_an_explicit_results_directory(stale):
    """With --alluredir the old results stay (the user chose the directory), but without a marker."""
    pytester, results, junit = stale
    result = pytester.runpytest_subprocess("--env=stagin", f"--alluredir={results}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert results.joinpath("0a-result.json").exists() and runmarker.read(results) is None
    assert not junit.exists()
    with pytest.raises(report.ReportError, match="carry no run marker"):
        report.build_report(results, pytester.path / "html")


def test_a_killed_runs_private_sandbox_is_removed_by_the_next_run(run):
    """SIGKILL cannot be caught: the sandbox outlives the run, until the next run finds its owner gone."""
    from postdeploy import local

    private = run.wait_for("private sandbox", run.private_dir)
    state = run.wait_for("sandbox state.json", lambda: _read(private / "state.json"))
    run.wait_for("the slow scenario", run.flag.exists)
    os.killpg(run.proc.pid, signal.SIGKILL)  # pytest only: the sandbox runs in sessions of its own
    run.proc.wait(WAIT_EXIT_S)
    ports = _ports(state)
    assert all(_accepts(p) for p in ports) and private.exists()  # left behind, as expected

    assert local.reap_orphans(run.tmp) == [private]
    pids = [rec["pid"] for rec in state["processes"].values()]
    _assert_nothing_left(run, private, pids, {rec["pgid"] for rec in state["processes"].values()}, ports)
