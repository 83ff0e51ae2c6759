"""The healthy sandbox: every smoke scenario passes, with its evidence, and no secret reaches any artifact."""

from __future__ import annotations

import base64
import json
import re
import zipfile
from pathlib import Path

import pytest
from harness import ROOT, run_features

from postdeploy import report

pytestmark = pytest.mark.xdist_group("healthy")

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def secrets_of(state_dir: Path) -> set[bytes]:
    """Every secret the sandbox run used: account passwords, the service token, database passwords."""
    state = json.loads((state_dir / "state.json").read_text())
    values = {a["password"] for a in state["accounts"].values()} | {state["service_token"]}
    for key in ("dsn", "readonly_dsn", "app_dsn"):
        match = re.match(r"^[a-z]+://[^:]+:([^@]+)@", state["database"].get(key, ""))
        if match:
            values.add(match.group(1))
    return {v.encode() for v in values if v}


def artifact_blobs(directory: Path):
    """Every file under ``directory``, with zip members and the HTML report's embedded base64 data opened up."""
    for path in directory.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield str(path), data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path}!{member}", archive.read(member)
        if path.suffix == ".html":
            for blob in re.findall(rb'"([A-Za-z0-9+/]{40,}={0,2})"', data):
                try:
                    yield f"{path} (embedded)", base64.b64decode(blob)
                except ValueError:
                    continue


def public_tokens() -> set[bytes]:
    """JWT-shaped literals written in the feature files themselves (a forged token): not secrets."""
    return {m for f in (ROOT / "features").rglob("*.feature") for m in JWT.findall(f.read_bytes())}


def leaks(directory: Path, secrets: set[bytes]) -> list[str]:
    found = []
    public = public_tokens()
    for where, data in artifact_blobs(directory):
        for secret in secrets:
            if secret in data:
                found.append(f"{where}: a secret value")
        if any(token not in public for token in JWT.findall(data)):
            found.append(f"{where}: a JWT")
    return found


@pytest.fixture(scope="module")
def healthy_run(healthy_sandbox, tmp_path_factory):
    reports = tmp_path_factory.mktemp("healthy-reports")
    run = run_features(healthy_sandbox, reports, "--env=local", "-m", "smoke")
    html = report.build_report(reports / "allure-results", reports / "html", history_path=reports / "history.jsonl")
    return run, html


def test_every_smoke_scenario_passes_against_the_healthy_sandbox(healthy_run):
    run, _ = healthy_run
    assert run.returncode == 0, run.output[-4000:]
    assert len(run.outcomes) >= 21
    assert run.passed == set(run.outcomes)


def test_a_second_run_against_the_same_deployment_is_green_too(healthy_run, healthy_sandbox, tmp_path):
    """Synthetic monitoring runs the same checks every minute: what one run leaves behind must not break the next."""
    run = run_features(healthy_sandbox, tmp_path / "reports", "--env=local", "-m", "smoke and not browser")
    assert run.returncode == 0, run.output[-4000:]
    assert run.passed == set(run.outcomes) and len(run.outcomes) >= 19


def test_results_carry_gherkin_steps_and_their_evidence(healthy_run):
    run, html = healthy_run
    results = [json.loads(p.read_text()) for p in (run.reports / "allure-results").glob("*-result.json")]
    assert len(results) == len(run.outcomes)
    by_name = {r["name"]: r for r in results}
    health = by_name["Every service answers its health endpoint and reports its dependencies up"]
    asking, judging = health["steps"][:2]
    assert asking["name"] == "When I ask every service for its health"
    assert judging["name"].startswith("Then every service answers its health check")
    assert any(a["name"].startswith("GET /health") for a in asking.get("attachments", []))  # the exchanges
    assert "health of every service" in [a["name"] for a in judging.get("attachments", [])]  # the verdict table
    badges = by_name["The notification history shows status badges"]
    attachments = [a for s in badges["steps"] for a in s.get("attachments", [])] + badges.get("attachments", [])
    assert any(a["type"] == "image/png" for a in attachments), "a browser scenario attaches a screenshot"
    tags = {label["value"] for r in results for label in r["labels"] if label["name"] == "tag"}
    assert {"smoke", "browser"} <= tags
    properties = (run.reports / "allure-results" / "environment.properties").read_text()
    assert "environment=local" in properties and "service.api=http://127.0.0.1:" in properties
    assert (run.reports / "junit.xml").exists() and html.exists()


def test_no_secret_reaches_any_report_artifact(healthy_run, healthy_sandbox):
    run, _ = healthy_run
    secrets = secrets_of(healthy_sandbox)
    assert len(secrets) >= 4
    assert leaks(run.reports, secrets) == []


def test_failure_evidence_is_redacted_too(sandbox_factory, tmp_path):
    """A failing browser scenario attaches a Playwright trace (which records the typed password): redacted."""
    state = sandbox_factory(SANDBOX_FAULTS="jwt_secret_mismatch")
    reports = tmp_path / "reports"
    run = run_features(state, reports, "--env=local", "-m", "smoke")
    assert run.failed, run.output[-2000:]
    traces = list((reports / "allure-results").glob("*.zip"))
    assert traces, "failed browser scenarios attach a Playwright trace"
    assert leaks(reports, secrets_of(state)) == []
