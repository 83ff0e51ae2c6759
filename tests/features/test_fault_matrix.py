"""Every smoke check is proven by a sandbox fault that makes it fail (DESIGN principle 6).

Each case starts a sandbox misconfigured one way (an environment variable named as the seeds
name it, or a fault switch from SANDBOX_FAULTS, or a dependency taken down), runs
``pytest --env=local -m smoke`` against it exactly as a user would, and asserts that exactly the
expected scenarios fail and every other scenario passes.
"""

from __future__ import annotations

import json
import os
import re
import signal

import pytest

from harness import ROOT, run_features
from postdeploy import local

HEADERS = {"test_service_sends_the_security_headers[api-/api/v1/health]",
           "test_service_sends_the_security_headers[frontend-/login]"}
SETTINGS_PAGE = "test_an_admin_signs_in_and_opens_the_notification_settings"
HISTORY_PAGE = "test_the_notification_history_shows_status_badges"
SIGNED_IN = {"test_every_test_account_signs_in_and_its_token_is_accepted",
             "test_the_signedin_user_is_who_the_token_says",
             "test_a_customer_cannot_reach_admin_endpoints"}

# the API answers 503 for its health and cannot sign anyone in; the rest does not need the database
DATABASE_OUTAGE = SIGNED_IN | {
    SETTINGS_PAGE, HISTORY_PAGE, "test_every_service_answers_its_health_endpoint_and_reports_its_dependencies_up",
    "test_the_api_reports_its_database_check_in_the_documented_shape", "test_maintenance_mode_is_off",
    "test_the_api_answers_within_its_latency_objective"}

# (id, sandbox configuration, scenarios that must fail)
CASES = [
    ("no_security_headers", {"SANDBOX_FAULTS": "no_security_headers"}, HEADERS),
    ("cors_reflect_any", {"SANDBOX_FAULTS": "cors_reflect_any"}, {"test_cors_does_not_let_an_unknown_origin_in"}),
    ("CORS_ORIGINS=*", {"CORS_ORIGINS": "*"},
     {"test_cors_allows_the_configured_origins", "test_cors_does_not_let_an_unknown_origin_in"}),
    ("auth_bypass", {"SANDBOX_FAULTS": "auth_bypass"},
     {"test_protected_endpoints_reject_anonymous_calls", "test_a_forged_token_is_rejected"}),
    ("jwt_secret_mismatch", {"SANDBOX_FAULTS": "jwt_secret_mismatch"}, SIGNED_IN | {SETTINGS_PAGE, HISTORY_PAGE}),
    ("metrics_disabled", {"SANDBOX_FAULTS": "metrics_disabled"}, {"test_the_api_exposes_prometheus_metrics"}),
    ("worker_metrics_missing", {"SANDBOX_FAULTS": "worker_metrics_missing"},
     {"test_the_notification_worker_exposes_the_delivery_metrics_the_alerts_use"}),
    ("no_cache_headers", {"SANDBOX_FAULTS": "no_cache_headers"},
     {"test_scripts_and_styles_are_contenthashed_and_cached_for_a_long_time"}),
    # the pages load their translations, so a missing i18n file also breaks them in the browser
    ("i18n_missing", {"SANDBOX_FAULTS": "i18n_missing"}, {"test_translation_files_load", SETTINGS_PAGE, HISTORY_PAGE}),
    ("frontend_js_error", {"SANDBOX_FAULTS": "frontend_js_error"}, {SETTINGS_PAGE}),
    ("frontend_broken_asset", {"SANDBOX_FAULTS": "frontend_broken_asset"}, {SETTINGS_PAGE, HISTORY_PAGE}),
    ("slow_api", {"SANDBOX_FAULTS": "slow_api"}, {"test_the_api_answers_within_its_latency_objective"}),
    ("ENABLE_DOCS=true", {"ENABLE_DOCS": "true"}, {"test_api_documentation_is_exposed_only_where_the_environment_allows_it"}),
    ("DEBUG=true", {"DEBUG": "true"}, {"test_error_answers_carry_no_stack_traces"}),
    # maintenance answers 503 everywhere on the API: every scenario that needs an API answer fails
    ("MAINTENANCE_MODE=true", {"MAINTENANCE_MODE": "true"}, SIGNED_IN | {
        SETTINGS_PAGE, HISTORY_PAGE, "test_maintenance_mode_is_off", "test_a_forged_token_is_rejected",
        "test_every_service_answers_its_health_endpoint_and_reports_its_dependencies_up",
        "test_protected_endpoints_reject_anonymous_calls", "test_the_api_answers_within_its_latency_objective",
        "test_the_api_exposes_prometheus_metrics", "test_the_api_reports_its_database_check_in_the_documented_shape"}),
    ("SMTP_PORT=1", {"SMTP_PORT": "1"}, {"test_every_service_answers_its_health_endpoint_and_reports_its_dependencies_up"}),
]


@pytest.mark.parametrize(("config", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fault_fails_exactly_the_expected_scenarios(sandbox_factory, tmp_path, config, expected):
    state = sandbox_factory(**config)
    run = run_features(state, tmp_path / "reports", "--env=local", "-m", "smoke")
    assert run.outcomes, f"no scenario ran:\n{run.output[-3000:]}"
    assert run.failed == expected, run.output[-4000:]
    assert run.passed == set(run.outcomes) - expected
    assert run.returncode == 1


def test_database_outage_fails_the_checks_that_need_the_database(sandbox_factory, tmp_path):
    """The database dies under a running deployment: health says so, and everything that needs it fails.

    The sandbox's own crash detection would replace a sandbox with a dead process, so this run does not
    reuse it through ``sandbox: autostart``: it gets ``local.yaml`` without that section, and the sandbox's
    addresses as the variables ``local.yaml`` is written with.
    """
    state_dir = sandbox_factory()
    state = json.loads((state_dir / "state.json").read_text())
    env_dir = tmp_path / "environments"
    env_dir.mkdir()
    text = (ROOT / "environments" / "local.yaml").read_text()
    (env_dir / "local.yaml").write_text(re.sub(r"(?m)^sandbox:\n(  .*\n)+", "", text))
    os.killpg(state["database"]["pid"], signal.SIGKILL)
    run = run_features(None, tmp_path / "reports", "--env=local", "-m", "smoke", env_dir=env_dir,
                       env_extra=local.variables(state))
    assert run.outcomes, run.output[-3000:]
    assert run.failed == DATABASE_OUTAGE, sorted(run.failed)
    assert run.passed == set(run.outcomes) - DATABASE_OUTAGE
