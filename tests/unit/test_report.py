"""The report module against the real Allure 3 CLI and real allure-pytest-bdd results.

A tiny pytest-bdd project runs in a subprocess three times (the login scenario fails, passes, fails) and
each run is turned into a report with the same history file; the report's embedded data is decoded and
checked: scenario names, categories, environment metadata, executor, history growth, flaky detection.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from postdeploy import report, runmarker
from postdeploy.report import (
    CATEGORY_ENVIRONMENT,
    CATEGORY_FLAKY,
    CATEGORY_OTHER_BROKEN,
    CATEGORY_TARGET,
    ReportError,
    build_report,
    write_run_metadata,
)

FEATURE = """\
Feature: Demo deployment
  Scenario: Health endpoint answers
    Given the service is up
    Then it answers

  Scenario: Login returns a token
    Given the service is up
    Then the token is accepted

  Scenario: Billing service answers
    Given the billing service is reachable
    Then it answers

  Scenario: Search service answers
    Given the search service is reachable
    Then it answers

  Scenario: Step with a suite bug
    Given a step with a bug
    Then it answers
"""

STEPS = """\
import os
from pytest_bdd import scenarios, given, then
from postdeploy.errors import ServiceUnreachable
scenarios("demo.feature")

@given("the service is up")
def up():
    pass

@given("the billing service is reachable")
def billing():
    raise ServiceUnreachable("billing at http://127.0.0.1:9 did not answer: connection refused")

@given("the search service is reachable")
def search():
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except OSError as exc:
        raise ServiceUnreachable("search at http://127.0.0.1:10 did not answer") from exc

@given("a step with a bug")
def bug():
    return {}["missing"]

@then("it answers")
def answers():
    pass

@then("the token is accepted")
def token():
    status = 200 if os.environ.get("DEMO_LOGIN_OK") == "1" else 401
    assert status == 200, f"expected status 200 from POST /auth/login, saw {status}"
"""


def _run_suite(project: Path, results: Path, *, login_ok: bool) -> None:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", DEMO_LOGIN_OK="1" if login_ok else "0")
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_bdd.plugin",
         "-p", "allure_pytest_bdd.plugin", f"--alluredir={results}", "test_demo.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # some scenarios fail on purpose
    assert len(list(results.glob("*-result.json"))) == 5, proc.stdout + proc.stderr


def _report_data(index: Path) -> dict[str, object]:
    html = index.read_text(encoding="utf-8")
    data = {}
    for name, blob in re.findall(r'd\("([^"]+)","([^"]*)"\)', html):
        raw = base64.b64decode(blob)
        data[name] = json.loads(raw) if name.endswith(".json") else raw
    return data


def _categories_by_test(data: dict) -> dict[str, str]:
    """Scenario name -> name of the category it is filed under (from the categories widget)."""
    nodes = data["widgets/categories.json"]["nodes"]
    out: dict[str, str] = {}

    def walk(node_id: str, category: str, test_name: str | None) -> None:
        node = nodes[node_id]
        if node["type"] == "history":  # one node per test, its runs (per environment) below it
            test_name = node["name"]
        if node["type"] == "tr":
            out[test_name or node["name"]] = category
        for child in node.get("childrenIds", []):
            walk(child, category, test_name)

    for root in data["widgets/categories.json"]["roots"]:
        walk(root, nodes[root]["name"], None)
    return out


def _results_by_name(data: dict) -> dict[str, dict]:
    return {v["name"]: v for k, v in data.items() if k.startswith("data/test-results/")}


def _mark(results: Path, *, run_id: str, exitstatus: int | None) -> None:
    """The run marker the plugin writes (start, and finish unless ``exitstatus`` is None: a run cut short)."""
    runmarker.start(results, run_id=run_id, environment="staging")
    if exitstatus is not None:
        runmarker.finish(results, exitstatus=exitstatus)


def _copy_results(results: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in results.iterdir():
        if path.name != runmarker.MARKER_FILE:
            (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """Three runs (login fails, passes, fails), each built into a report with one shared history file."""
    base = tmp_path_factory.mktemp("report")
    project = base / "project"
    project.mkdir()
    (project / "demo.feature").write_text(FEATURE)
    (project / "test_demo.py").write_text(STEPS)
    (project / "pytest.ini").write_text("[pytest]\n")
    reports = base / "reports"
    history = reports / "history.jsonl"
    builds = []
    for run, login_ok in enumerate((False, True, False), start=1):
        results = reports / f"allure-results-{run}"
        _run_suite(project, results, login_ok=login_ok)
        _mark(results, run_id=f"run-{run}", exitstatus=1)
        write_run_metadata(
            results,
            environment="staging",
            properties={"API base URL": "https://api.staging.example", "Suite version": "0.1.0"},
            executor={"buildName": f"run {run}"} if run == 1 else None,
        )
        index = build_report(results, reports / f"html-{run}", history_path=history, title="postdeploy demo")
        history_lines = len(history.read_text().splitlines())
        builds.append((results, index, history_lines))
    return reports, builds


def test_first_report_is_one_self_contained_file(three_runs):
    _, builds = three_runs
    results, index, _ = builds[0]
    assert index.name == "index.html" and index.is_file()
    html = index.read_text(encoding="utf-8")
    # single file: no separate data or script files next to it, nothing loaded from the network
    assert sorted(p.name for p in index.parent.iterdir()) == ["index.html", "summary.json", "test-results.json"]
    assert not re.search(r'<script[^>]+src="(?!data:)', html)
    assert "googletagmanager" not in html
    data = _report_data(index)
    names = set(_results_by_name(data))
    assert names == {
        "Health endpoint answers",
        "Login returns a token",
        "Billing service answers",
        "Search service answers",
        "Step with a suite bug",
    }
    assert "<title>postdeploy demo</title>" in html or "postdeploy demo" in html


def test_categories_separate_target_defects_from_environment_errors(three_runs):
    _, builds = three_runs
    data = _report_data(builds[0][1])
    by_test = _categories_by_test(data)
    assert by_test == {
        "Login returns a token": CATEGORY_TARGET,
        "Billing service answers": CATEGORY_ENVIRONMENT,
        "Search service answers": CATEGORY_ENVIRONMENT,
        "Step with a suite bug": CATEGORY_OTHER_BROKEN,
    }
    statuses = {name: r["status"] for name, r in _results_by_name(data).items()}
    assert statuses["Login returns a token"] == "failed"
    assert statuses["Billing service answers"] == "broken"


def test_environment_and_executor_metadata(three_runs):
    _, builds = three_runs
    results, index, _ = builds[0]
    data = _report_data(index)
    env = {item["name"]: item["values"] for item in data["widgets/allure_environment.json"]}
    assert env["environment"] == ["staging"]
    assert env["API base URL"] == ["https://api.staging.example"]
    assert env["Suite version"] == ["0.1.0"]
    executor = json.loads((results / "executor.json").read_text())
    assert executor["buildName"] == "run 1"
    html = index.read_text(encoding="utf-8")
    options = json.loads(re.search(r"window\.allureReportOptions = (\{.*\})", html).group(1))
    assert options["executor"]["buildName"] == "run 1"
    assert options["reportName"] == "postdeploy demo"


def test_history_grows_and_flaky_failure_is_its_own_category(three_runs):
    reports, builds = three_runs
    assert [lines for _, _, lines in builds] == [1, 2, 3]
    data = _report_data(builds[2][1])
    login = _results_by_name(data)["Login returns a token"]
    assert login["flaky"] is True
    assert _categories_by_test(data)["Login returns a token"] == CATEGORY_FLAKY
    # the second run, where login passed, files nothing under target defects
    assert "Login returns a token" not in _categories_by_test(_report_data(builds[1][1]))


def test_category_regexes_match_what_allure_python_writes(three_runs):
    _, builds = three_runs
    results = builds[0][0]
    rules = {r["name"]: r for r in json.loads((results / "categories.json").read_text())
             if "messageRegex" in r and r["matchedStatuses"] == ["broken"]}
    message_re = re.compile(rules[CATEGORY_ENVIRONMENT]["messageRegex"])
    messages = {}
    for path in results.glob("*-result.json"):
        result = json.loads(path.read_text())
        messages[result["name"]] = (result.get("statusDetails") or {}).get("message", "")
    assert messages["Billing service answers"].startswith("postdeploy.errors.ServiceUnreachable: billing")
    assert message_re.search(messages["Billing service answers"])
    assert message_re.fullmatch(messages["Search service answers"])
    assert not message_re.search(messages["Login returns a token"])
    assert not message_re.search(messages["Step with a suite bug"])


def _fake_cli(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "allure"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_missing_cli_gives_a_how_to_fix(three_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("POSTDEPLOY_ALLURE", str(tmp_path / "no-such-allure"))
    with pytest.raises(ReportError, match=r"npm install"):
        build_report(three_runs[1][0][0], tmp_path / "html")


def test_failing_cli_reports_its_stderr(three_runs, tmp_path, monkeypatch):
    cli = _fake_cli(tmp_path, 'echo "boom: cannot read results" >&2\nexit 3\n')
    monkeypatch.setenv("POSTDEPLOY_ALLURE", str(cli))
    with pytest.raises(ReportError) as info:
        build_report(three_runs[1][0][0], tmp_path / "html")
    assert "exit code 3" in str(info.value)
    assert "boom: cannot read results" in str(info.value)
    assert not (tmp_path / "html" / "index.html").exists()


def test_no_results_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match=r"No Allure results"):
        build_report(tmp_path / "empty", tmp_path / "html")


def test_main_prints_the_report_path(three_runs, tmp_path, capsys):
    reports, builds = three_runs
    results = builds[0][0]
    out_dir = tmp_path / "html"
    code = report.main(["--results", str(results), "--output", str(out_dir)])
    assert code == 0
    printed = capsys.readouterr().out.strip()
    assert Path(printed) == out_dir.resolve() / "index.html"
    assert Path(printed).is_file()
    assert (tmp_path / "history.jsonl").is_file()


def test_main_reports_errors_without_traceback(tmp_path, capsys):
    code = report.main(["--results", str(tmp_path / "nothing"), "--output", str(tmp_path / "html")])
    assert code == 1
    err = capsys.readouterr().err
    assert "No Allure results" in err and "Traceback" not in err


# ---- results of a run that did not complete ------------------------------------------------------------------


def test_run_marker_says_whether_the_run_completed(tmp_path):
    results = tmp_path / "allure-results"
    runmarker.start(results, run_id="20260101-abc", environment="prod")
    marker = runmarker.read(results)
    assert marker["run_id"] == "20260101-abc" and marker["environment"] == "prod"
    assert marker["completed"] is False and marker["started"]
    assert "did not complete" in runmarker.incomplete_reason(results)
    for exitstatus, completed in [(0, True), (1, True), (5, True), (8, True), (10, True),
                                  (pytest.ExitCode.INTERRUPTED, False), (3, False), (4, False)]:
        runmarker.finish(results, exitstatus=exitstatus)
        marker = runmarker.read(results)
        assert (marker["completed"], marker["exitstatus"]) == (completed, int(exitstatus))
        assert marker["run_id"] == "20260101-abc" and marker["finished"]
        assert (runmarker.incomplete_reason(results) is None) is completed
    runmarker.forget_previous(results, tmp_path / "junit.xml")
    assert runmarker.read(results) is None


def test_results_without_a_marker_are_refused(three_runs, tmp_path):
    results = _copy_results(three_runs[1][0][0], tmp_path / "unmarked")
    with pytest.raises(ReportError) as info:
        build_report(results, tmp_path / "html")
    message = str(info.value)
    assert message.startswith(f"The results in {results} carry no run marker")
    assert "--allow-incomplete" in message and "\n" not in message
    assert not (tmp_path / "html").exists()


def test_results_of_an_interrupted_run_are_refused_with_its_run_id(three_runs, tmp_path, capsys):
    results = _copy_results(three_runs[1][0][0], tmp_path / "interrupted")
    _mark(results, run_id="20260101-cut", exitstatus=pytest.ExitCode.INTERRUPTED)
    with pytest.raises(ReportError, match=r"are from a run that did not complete \(.*run id 20260101-cut"):
        build_report(results, tmp_path / "html")
    _mark(results, run_id="20260101-killed", exitstatus=None)  # killed: the marker still says not completed
    assert report.main(["--results", str(results), "--output", str(tmp_path / "html")]) == 1
    err = capsys.readouterr().err
    assert "did not complete" in err and "20260101-killed" in err and "--allow-incomplete" in err
    assert "Traceback" not in err and not (tmp_path / "html").exists()


def test_allow_incomplete_builds_a_report_labelled_incomplete_without_touching_history(three_runs, tmp_path, capsys):
    results = _copy_results(three_runs[1][0][0], tmp_path / "interrupted")
    _mark(results, run_id="20260101-cut", exitstatus=2)
    history = tmp_path / "history.jsonl"
    history.write_bytes((three_runs[0] / "history.jsonl").read_bytes())
    before = history.read_bytes()
    code = report.main(["--results", str(results), "--output", str(tmp_path / "html"), "--history", str(history),
                        "--title", "postdeploy demo", "--allow-incomplete"])
    assert code == 0, capsys.readouterr().err
    index = Path(capsys.readouterr().out.strip())
    html = index.read_text(encoding="utf-8")
    options = json.loads(re.search(r"window\.allureReportOptions = (\{.*\})", html).group(1))
    assert options["reportName"] == "postdeploy demo [INCOMPLETE RUN]"
    assert history.read_bytes() == before  # a partial run adds nothing to the trends
    assert set(_results_by_name(_report_data(index))) >= {"Health endpoint answers"}
