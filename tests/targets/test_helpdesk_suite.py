"""A suite of its own verifies the second reference target with YAML and Gherkin only (issue 14, item 8).

``examples/helpdesk/`` was made with ``postdeploy init`` and holds only an environment file and feature files. It
runs as a user runs it (``pytest --env=local`` in its directory, a subprocess) against real helpdesks: all green on a
healthy one, and under each bad release exactly the expected scenarios fail, each at its step, with its verdict kind
and a fragment of its message; every other scenario passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpdesk_harness import Helpdesk, running_helpdesks

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "examples" / "helpdesk"
sys.path.insert(0, str(ROOT / "tests" / "features"))
from faults import (  # the fault matrices' vocabulary, shared
    Failure,
    assert_fails_exactly,
)
from harness import Run, read_run  # the features' run reader, shared

pytestmark = pytest.mark.xdist_group("helpdesk")

SCENARIOS = {
    "test_every_service_answers_its_health_check", "test_the_api_serves_its_openapi_document",
    "test_the_interactive_api_documentation_is_off", "test_every_account_signs_in_and_is_recognised",
    "test_a_signedin_user_reads_their_own_profile_and_items", "test_anonymous_callers_are_turned_away",
    "test_a_created_item_can_be_read_back", "test_a_new_account_is_greeted_and_resets_its_password_once",
    "test_a_user_signs_in_and_reaches_their_dashboard", "test_the_password_field_is_the_one_next_to_its_showpassword_toggle",
    "test_a_forgotten_password_leads_to_its_recovery",
}
BROWSER = {s for s in SCENARIOS if s.startswith(("test_a_user_signs_in", "test_the_password_field", "test_a_forgotten"))}

#: fault -> scenario -> its failing step, a fragment of the first line of its message, its verdict kind
EXPECTED: dict[str, dict[str, Failure]] = {
    "database_down": {
        "test_every_service_answers_its_health_check": Failure(
            "Then every service answers its health check as the environment expects",
            "health check hides a dependency outage: 'api' answered healthy"),
        "test_every_account_signs_in_and_is_recognised": Failure("Then every account is signed in and accepted", "500"),
        "test_a_signedin_user_reads_their_own_profile_and_items": Failure('Given I am signed in as "user"', "500"),
        "test_a_created_item_can_be_read_back": Failure('Given I am signed in as "user"', "500"),
        "test_anonymous_callers_are_turned_away": Failure("Then the response status is 401", "expected status 401, got 500"),
        "test_a_new_account_is_greeted_and_resets_its_password_once": Failure('Given I am signed in as "admin"', "500"),
        "test_a_user_signs_in_and_reaches_their_dashboard": Failure(
            'When I sign in through the browser as "user"', "still at /login: the page shows 'Internal Server Error'"),
    },
    "signup_email_missing": {
        "test_a_new_account_is_greeted_and_resets_its_password_once": Failure(
            'When I wait for an email to "{{new_email}}" with "New account" in its subject',
            "with 'New account' in its subject arrived within 5 s"),
    },
    "token_in_url": {
        "test_a_user_signs_in_and_reaches_their_dashboard": Failure(
            "Then the page address carries no credentials", "expected no credentials in the page's address, found one "
                                                           "in http"),
    },
    "login_form_broken": {
        "test_a_user_signs_in_and_reaches_their_dashboard": Failure(
            'When I sign in through the browser as "user"', "expected sign-in as 'user' to leave /login for /, still at "
                                                            "/login: no error shown after 5 s"),
    },
    "reset_token_reusable": {
        "test_a_new_account_is_greeted_and_resets_its_password_once": Failure("Then the response status is 400", "expected status 400, got 200"),
    },
}


@pytest.fixture(scope="module")
def helpdesks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Helpdesk]]:
    with running_helpdesks(tmp_path_factory.mktemp("suite"), {"healthy": "", **{f: f for f in EXPECTED}}) as started:
        yield started


def run_suite(helpdesk: Helpdesk, reports: Path, *args: str, **variables: str) -> Run:
    accounts = helpdesk.accounts
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "POSTDEPLOY_", "HELPDESK_"))}
    env.update(HELPDESK_API_URL=helpdesk.api, HELPDESK_FRONTEND_URL=helpdesk.frontend,
               HELPDESK_MAILDEV_URL=helpdesk.maildev,
               HELPDESK_USER_EMAIL=accounts["user"]["email"], HELPDESK_USER_PASSWORD=accounts["user"]["password"],
               HELPDESK_ADMIN_EMAIL=accounts["superuser"]["email"],
               HELPDESK_ADMIN_PASSWORD=accounts["superuser"]["password"], **variables)
    proc = subprocess.run([sys.executable, "-m", "pytest", "--env=local", f"--reports-dir={reports}", "-p", "no:xdist",
                           *args],
                          cwd=SUITE, env=env, capture_output=True, text=True, timeout=240, check=False)
    return read_run(proc, reports)


def test_the_suite_holds_only_yaml_and_gherkin():
    made = sorted(p.relative_to(SUITE).as_posix() for p in SUITE.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    code = [p for p in made if p.endswith(".py")]
    # the three Python files are postdeploy init's, unchanged: the binding, the conftest and the steps package's docstring
    assert code == ["conftest.py", "features/test_scenarios.py", "steps/__init__.py"]
    template = ROOT / "src" / "postdeploy" / "templates" / "project"
    assert all((SUITE / p).read_text() == (template / p).read_text() for p in code)


def test_a_healthy_helpdesk_is_verified_green(helpdesks, tmp_path):
    run = run_suite(helpdesks["healthy"], tmp_path / "reports")
    assert set(run.outcomes) == SCENARIOS, run.output[-3000:]
    assert run.returncode == 0 and run.passed == SCENARIOS, run.output[-3000:]
    assert f"postdeploy verdict: VERIFIED: {len(SCENARIOS)} passed (exit code 0)" in run.output


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_bad_release_fails_exactly_its_steps(helpdesks, tmp_path, fault):
    run = run_suite(helpdesks[fault], tmp_path / "reports")
    assert_fails_exactly(EXPECTED[fault], run)
    assert run.passed == SCENARIOS - set(EXPECTED[fault]) and run.returncode == 1


def test_the_app_signed_in_through_local_storage_is_verified_green_too(helpdesks, tmp_path):
    """The same browser scenarios with the session the API sign-in gave put into the app's local storage."""
    run = run_suite(helpdesks["healthy"], tmp_path / "reports", "-m", "browser", HELPDESK_BROWSER_LOGIN="local_storage")
    assert run.returncode == 0 and run.passed == BROWSER, run.output[-3000:]
