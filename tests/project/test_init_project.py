"""``postdeploy init``: a suite of a team's own for another system, run with the installed product only.

The generated project is run as a user runs it (``pytest --env=staging -m smoke`` in its directory, in a
subprocess) against a real HTTP server on loopback: green when the server is healthy, a target defect when its
health answers 503, and only its own features are collected (not the reference platform's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from postdeploy.scaffold import Answers, InitError, init

POSTDEPLOY = Path(sys.executable).with_name("postdeploy")


class _App(BaseHTTPRequestHandler):
    health_status = 200

    def do_GET(self) -> None:
        if self.path == "/health":
            status, body = type(self).health_status, b'{"status": "ok"}'
        elif self.path == "/":
            status, body = 200, b"<!doctype html><title>demo</title><h1>Demo</h1>"
        else:
            status, body = 404, b"not found"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def app() -> Iterator[tuple[str, type[_App]]]:
    handler = type("App", (_App,), {"health_status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def run_suite(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "POSTDEPLOY_", "APP_URL"))}
    return subprocess.run([sys.executable, "-m", "pytest", "--env=staging", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_creates_a_project_that_verifies_a_healthy_system_green(tmp_path, app):
    url, _ = app
    project = tmp_path / "helpdesk-suite"
    made = subprocess.run([str(POSTDEPLOY), "init", str(project), "--name", "Help Desk", "--base-url", url],
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    assert "pytest --env=staging -m smoke" in made.stdout
    for name in ("conftest.py", "pyproject.toml", "environments/staging.yaml", "features/test_scenarios.py",
                 "features/smoke/health.feature", "steps/__init__.py", ".gitignore", "README.md"):
        assert (project / name).is_file(), name
    assert url in (project / "environments" / "staging.yaml").read_text()

    result = run_suite(project, "-m", "smoke", "-p", "no:xdist")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "postdeploy verdict: VERIFIED: 2 passed" in result.stdout


def test_the_project_runs_only_its_own_features_and_reports_a_broken_health_as_a_defect(tmp_path, app):
    url, handler = app
    project = tmp_path / "suite"
    init(project, Answers(name="demo", base_url=url))
    handler.health_status = 503
    result = run_suite(project, "-p", "no:xdist")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed, 1 passed" in result.stdout  # its two scenarios, none of the reference platform's
    assert "postdeploy verdict: DEFECTS FOUND: 1 target defect, 1 passed (exit code 1)" in result.stdout


def test_init_never_overwrites_and_writes_nothing_when_a_file_is_in_the_way(tmp_path):
    project = tmp_path / "p"
    (project / "features").mkdir(parents=True)
    (project / "features" / "test_scenarios.py").write_text("# ours\n")
    with pytest.raises(InitError, match=r"already has features/test_scenarios.py; .* nothing was written"):
        init(project, Answers(name="x"))
    assert sorted(p.relative_to(project).as_posix() for p in project.rglob("*")) == [
        "features", "features/test_scenarios.py"]
    assert (project / "features" / "test_scenarios.py").read_text() == "# ours\n"


@pytest.mark.parametrize(("answers", "message"), [
    (Answers(name="x", env="prod/eu"), "becomes a file name"),
    (Answers(name="x", base_url="staging.example.com"), r"is not an http\(s\) address"),
])
def test_bad_answers_are_refused_before_anything_is_written(tmp_path, answers, message):
    with pytest.raises(InitError, match=message):
        init(tmp_path / "p", answers)
    assert not (tmp_path / "p").exists()


def test_the_projects_own_tags_need_no_configuration_and_a_mistyped_tag_stops_the_run(tmp_path, app):
    url, _ = app
    project = tmp_path / "suite"
    init(project, Answers(name="demo", base_url=url))
    (project / "features" / "nightly.feature").write_text(
        "@nightly\nFeature: Nightly\n  Scenario: The home page answers at night\n"
        '    When I send a GET request to "/" on the "app" service\n    Then the response status is 200\n')
    ran = run_suite(project, "-m", "nightly", "-p", "no:xdist")  # --strict-markers is on in the project
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert "VERIFIED: 1 passed" in ran.stdout

    typo = run_suite(project, "-m", "nightlly", "-p", "no:xdist")
    assert typo.returncode == 4, typo.stdout[-2000:] + typo.stderr[-2000:]
    assert "-m 'nightlly' names the tag 'nightlly', which no feature and no family has (did you mean 'nightly'?)" \
        in typo.stderr

    (project / "features" / "smoky.feature").write_text(
        "@smok\nFeature: Mistyped\n  Scenario: A scenario\n    Then the response status is 200\n")
    mistyped = run_suite(project, "-m", "smoke", "-p", "no:xdist")
    assert mistyped.returncode == 4
    assert "look like mistyped family tags: @smok (did you mean @smoke?)" in mistyped.stderr
