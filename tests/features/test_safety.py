"""Safety by construction, with real components (DESIGN principle 4; issue 13, point 3).

A browser scenario that clicks "Save preferences" and is not tagged ``@mutating`` runs against a private
sandbox (``data/safety/save_preferences.feature``). In a read-only environment the browser's PATCH is blocked
before it leaves the browser: the scenario is the blocked-by-read-only suite error, the API never saw a PATCH
(its ``/metrics``), and the database row is untouched. In the read-write environment the same click saves.

The environment is ``local.yaml`` without its ``sandbox:`` section (so the run uses exactly this sandbox), with
the sandbox's addresses as the variables ``local.yaml`` is written with, and ``safety`` as each test needs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import psycopg
from harness import ROOT, run_features

from postdeploy import local

FEATURE = Path(__file__).parent / "data" / "safety" / "bind_save_preferences.py"
SCENARIO = "test_an_admin_saves_the_notification_preferences"
CLICK = 'When I click the "Save preferences" button'


def environment(tmp_path: Path, safety: str) -> Path:
    """``local.yaml`` without ``sandbox:`` and with this ``safety:`` section."""
    env_dir = tmp_path / "environments"
    env_dir.mkdir()
    text = (ROOT / "environments" / "local.yaml").read_text()
    text = re.sub(r"(?m)^sandbox:\n(  .*\n)+", "", text)
    text = re.sub(r"(?m)^safety:\n((  .*)?\n)+?(?=\S)", safety.rstrip("\n") + "\n", text)
    assert "sandbox:" not in text and safety.splitlines()[1] in text, text[:800]
    (env_dir / "local.yaml").write_text(text)
    return env_dir


def admin_preferences(state: dict) -> tuple:
    """The admin's preferences row, as the database holds it."""
    with psycopg.connect(state["database"]["dsn"], connect_timeout=5) as conn:
        return conn.execute(
            "SELECT staff_notifications_enabled, email_notifications_enabled, updated_at FROM users WHERE email = %s",
            (state["accounts"]["admin"]["email"],)).fetchone()


def patches_seen_by_the_api(state: dict) -> float:
    """PATCH requests the API has answered so far (its http_requests_total counter)."""
    text = httpx.get(state["services"]["api"]["url"] + "/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("http_requests_total{") and 'method="PATCH"' in line)


def run(sandbox_factory, tmp_path: Path, safety: str):
    state_dir = sandbox_factory()
    state = json.loads((state_dir / "state.json").read_text())
    before = admin_preferences(state), patches_seen_by_the_api(state)
    result = run_features(None, tmp_path / "reports", "--env=local", str(FEATURE.relative_to(ROOT)),
                          env_dir=environment(tmp_path, safety), env_extra=local.variables(state))
    after = admin_preferences(state), patches_seen_by_the_api(state)
    return result, before, after


def test_a_save_in_a_read_only_environment_is_blocked_in_the_browser_and_nothing_is_written(sandbox_factory, tmp_path):
    result, (row_before, patches_before), (row_after, patches_after) = run(
        sandbox_factory, tmp_path, "safety:\n  read_only: true\n  rate_limit_wait_s: 60\n")
    seen = result.details.get(SCENARIO)
    assert seen is not None, result.output[-3000:]
    assert (seen.verdict, seen.step) == ("suite_error", CLICK), (seen, result.output[-3000:])
    assert "the browser tried PATCH http://127.0.0.1:" in seen.message, seen.message
    assert "/notification-preferences, which read-only environment 'local' forbids" in seen.message
    assert "tag the scenario @mutating" in seen.message
    assert "failed request" not in result.output, result.output  # the read-only message, not what the page did
    assert result.returncode == 9, result.output[-3000:]
    assert patches_after == patches_before  # the PATCH never reached the API
    assert row_after == row_before  # nothing was written: not even updated_at moved
    attachments = [p.read_text() for p in (result.reports / "allure-results").glob("*-attachment.txt")]
    blocked = [a for a in attachments if a.startswith("PATCH http://")]
    assert blocked and "blocked: environment 'local' allows only GET, HEAD, OPTIONS" in blocked[0], attachments


def test_the_same_save_goes_through_in_a_read_write_environment(sandbox_factory, tmp_path):
    result, (row_before, patches_before), (row_after, patches_after) = run(
        sandbox_factory, tmp_path, "safety:\n  read_only: false\n  rate_limit_wait_s: 60\n")
    assert result.details[SCENARIO].verdict == "passed", result.output[-3000:]
    assert result.returncode == 0
    assert patches_after == patches_before + 1
    assert row_after[2] > row_before[2]  # the save wrote the row
