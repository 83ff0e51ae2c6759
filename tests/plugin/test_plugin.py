"""The plugin's behaviour, through pytester: a throwaway project with its own environments and features."""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

FEATURE = """\
Feature: Tiny target
  @smoke
  Scenario: Health is ok
    When I send a GET request to "/health" on the "api" service
    Then the response status is 200
    And the JSON at "status" is "ok"

  @smoke @mutating
  Scenario: Something that writes
    When I send a POST request to "/things" on the "api" service with the JSON body:
      \"\"\"
      {"name": "x"}
      \"\"\"
    Then the response status is 201

  @smoke
  Scenario: Worker is healthy
    When I send a GET request to "/health" on the "worker" service
    Then the response status is 200
"""


class Target(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self._answer(200, {"status": "ok"})

    def do_POST(self):  # noqa: N802
        self._answer(201, {"created": True})

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def target_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def project(bdd_project, target_url: str) -> pytest.Pytester:
    bdd_project.feature("tiny.feature", FEATURE)

    def environment(name: str, *, read_only: bool, worker_url: str | None = None) -> None:
        bdd_project.environment_file(name,
            f"safety: {{read_only: {str(read_only).lower()}}}\n"
            f"services:\n  api: {{base_url: '{target_url}'}}\n  worker: {{base_url: '{worker_url or target_url}'}}\n"
        )

    environment("dev", read_only=False)
    environment("prod", read_only=True)
    environment("broken", read_only=False, worker_url=f"http://127.0.0.1:{bdd_project.closed_port()}")
    return bdd_project.pytester


def test_features_need_an_environment(project):
    result = project.runpytest_subprocess("features")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*choose the target environment with --env=NAME (available: broken, dev, prod)*"])


def test_unknown_environment_is_a_usage_error_without_traceback(project):
    result = project.runpytest_subprocess("features", "--env=stagin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: postdeploy: unknown environment 'stagin'*available: broken, dev, prod*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_schema_error_names_the_field_and_is_a_usage_error(project):
    project.path.joinpath("environments", "typo.yaml").write_text("services:\n  api: {base_ur: 'http://x'}\n")
    result = project.runpytest_subprocess("features", "--env=typo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'services.api.base_ur' is not a known field (did you mean 'base_url'?)*"])


def test_read_write_environment_runs_everything(project):
    result = project.runpytest_subprocess("features", "--env=dev")
    result.assert_outcomes(passed=3)


def test_read_only_environment_skips_mutating_scenarios_with_the_reason(project):
    result = project.runpytest_subprocess("features", "--env=prod", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*@mutating scenario not run: environment 'prod' is read-only*"])


def test_read_only_environment_refuses_unsafe_methods_even_when_not_tagged(project):
    feature = project.path / "features" / "tiny.feature"
    feature.write_text(feature.read_text().replace("@smoke @mutating", "@smoke"))
    result = project.runpytest_subprocess("features", "--env=prod")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*UnsafeOperation: refused POST*allows only GET, HEAD, OPTIONS*"])


def test_unreachable_service_is_one_environment_error_and_its_scenarios_skip(project):
    result = project.runpytest_subprocess("features", "--env=broken", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*environment error: service 'worker' does not answer at http://127.0.0.1:*",
        "*service 'worker' is unreachable (reported once as an environment error)*",
    ])
    assert result.stdout.str().count("does not answer at") == 2  # the failure itself and the summary section
    reported = [json.loads(p.read_text()) for p in (project.path / "reports" / "allure-results").glob("*-result.json")]
    environment = [r for r in reported if r["name"] == "Environment: service 'worker' answers"]
    assert len(environment) == 1 and environment[0]["status"] == "broken"
    assert environment[0]["statusDetails"]["message"].startswith("postdeploy.errors.ServiceUnreachable: ")


def test_a_service_that_accepts_but_never_answers_ends_the_run_quickly(project):
    with socket.socket() as silent:  # the kernel accepts connections, nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        env = project.path / "environments" / "hung.yaml"
        env.write_text((project.path / "environments" / "broken.yaml").read_text().replace(
            re.search(r"http://127.0.0.1:\d+'\}\n$", env.with_name("broken.yaml").read_text()).group(0),
            f"http://127.0.0.1:{port}'}}\n"))
        result = project.runpytest_subprocess("features", "--env=hung", timeout=60)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*environment error: service 'worker' does not answer at*ReadTimeout*"])


def test_undeclared_tag_fails_instead_of_selecting_nothing(project):
    feature = project.path / "features" / "tiny.feature"
    feature.write_text(feature.read_text().replace("@smoke\n  Scenario: Worker", "@smok\n  Scenario: Worker"))
    result = project.runpytest_subprocess("features", "--env=dev")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the features use tags that look like mistyped family tags: @smok (did you mean "
                                 "@smoke?)*"])


def test_playwright_is_not_imported_when_no_browser_scenario_runs(project, bdd_project):
    bdd_project.write_conftest(  # the browser steps are registered, as they are in every project
        'import sys\n'
        'def pytest_sessionfinish(session):\n'
        '    print("PLAYWRIGHT_IMPORTED=%s" % any(m.startswith("playwright") for m in sys.modules))\n'
    )
    result = project.runpytest_subprocess("features", "--env=dev", "-s")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*PLAYWRIGHT_IMPORTED=False*"])


def test_parallel_run_writes_every_result_and_one_junit_file(project):
    result = project.runpytest_subprocess("features", "--env=dev", "-n", "2")
    result.assert_outcomes(passed=3)
    reports = project.path / "reports"
    assert len(list((reports / "allure-results").glob("*-result.json"))) == 3
    assert (reports / "allure-results" / "environment.properties").exists()
    assert (reports / "junit.xml").read_text().count("<testcase ") == 3


def test_tags_with_values_become_allure_labels_without_a_marker_per_value(project):
    feature = project.path / "features" / "tiny.feature"
    feature.write_text(feature.read_text().replace("  @smoke\n  Scenario: Health is ok",
                                                   "  @smoke @severity:critical @checklist:v2-health-ok\n  Scenario: Health is ok"))
    dev = project.path / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + "release: {checklist_url: 'https://wiki.example/deploy-v2#{id}'}\n")
    result = project.runpytest_subprocess("features", "--env=dev", "-m", "checklist")  # --strict-markers is on
    result.assert_outcomes(passed=1)
    labels, links = {}, {}
    for path in (project.path / "reports" / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        labels[data["name"]] = {(l["name"], l["value"]) for l in data["labels"]}
        links[data["name"]] = [(l["type"], l["name"], l["url"]) for l in data.get("links", [])]
    assert {("severity", "critical"), ("checklist", "v2-health-ok")} <= labels["Health is ok"]
    # the item links to where the environment says checklist items live
    assert links["Health is ok"] == [("checklist", "v2-health-ok", "https://wiki.example/deploy-v2#v2-health-ok")]


def test_a_severity_tag_with_an_unknown_level_is_a_usage_error(project):
    feature = project.path / "features" / "tiny.feature"
    feature.write_text(feature.read_text().replace("  @smoke\n  Scenario: Health is ok",
                                                   "  @smoke @severity:urgent\n  Scenario: Health is ok"))
    result = project.runpytest_subprocess("features", "--env=dev")
    assert result.ret == 9  # a suite error; the other scenarios still run
    result.assert_outcomes(passed=2, errors=1)
    assert "Traceback" not in result.stdout.str()
    assert "@severity:urgent needs a value: @severity:<blocker|critical|normal|minor|trivial>" in (
        result.stdout.str() + result.stderr.str())
