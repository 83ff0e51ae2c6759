"""Faults of realistic bad releases that a smoke suite checking only the old routes, one account and
``/health`` passed (issue 12, "false greens"): each is a ``SANDBOX_FAULTS`` switch, and each fails
exactly one smoke scenario, at the step that checks what the release broke."""

from __future__ import annotations

from . import Failure, Fault

ROUTES = "test_every_route_of_the_release_answers_each_caller_as_the_environment_lists"
IDENTITY = "test_every_account_is_served_its_own_identity"
CONTENT_TYPES = "test_api_answers_are_labelled_json"
PAGE_CACHING = "test_pages_are_revalidated_never_cached_as_immutable"
ROUTES_LATENCY = "test_signedin_api_routes_answer_within_the_latency_objective"
TRANSLATIONS = "test_translation_files_load"
HEALTH = "test_every_service_answers_its_health_endpoint_and_reports_its_dependencies_up"
VERSION = "test_every_service_runs_the_release_that_should_be_live"

ROUTES_STEP = "Then every route answers each identity as the routes table says"


def _fault(name: str, why: str, scenario: str, step: str, message: str) -> Fault:
    return Fault(name, {"SANDBOX_FAULTS": name}, why=why, failures={scenario: Failure(step, message)})


FAULTS = [
    _fault("new_route_unprotected", "The release's new v2 history route answers anonymous callers (and customers).",
           ROUTES, ROUTES_STEP,
           "expected 401 for anonymous GET /api/v2/notifications/history (service 'api'), got 200"),
    _fault("customer_gets_admin_data", "An admin-only listing of every account answers customers (privilege "
           "escalation).", ROUTES, ROUTES_STEP,
           "expected 403 for 'customer' GET /api/v1/users (service 'api'), got 200"),
    _fault("wrong_identity", "The staff account is served the admin's record by /users/me.", IDENTITY,
           'Then every account sees its own username at "email" and role at "role"',
           "expected username 'staff@example.com' of 'staff' at 'email' of GET /api/v1/users/me (service 'api'), "
           'got "admin@example.com"'),
    _fault("json_as_text_plain", "The API's successful JSON answers are labelled text/plain.", CONTENT_TYPES,
           'Then every response has the content type its row expects',
           "expected content type application/json from GET /api/v1/health (service 'api'), got text/plain"),
    _fault("html_cached_immutable", "The pages are cached for a year as immutable: users keep the old release.",
           PAGE_CACHING,
           'Then no response is cached as immutable nor for more than 300 seconds',
           "expected a page cached at most 300 s and never immutable at GET /login (service 'frontend'), "
           "got Cache-Control 'public, max-age=31536000, immutable'"),
    _fault("slow_api_routes", "The order listings take 1.5 s more; health stays fast.", ROUTES_LATENCY,
           'Then every response arrived within the "api_latency_ms" objective',
           "expected GET /api/v1/orders (service 'api') within the 'api_latency_ms' objective of 1000 ms"),
    _fault("i18n_empty", "The translation files load, but empty ({}).", TRANSLATIONS,
           'Then every response is JSON with at least 10 entries',
           "expected JSON with at least 10 entries at GET /i18n/en.json (service 'frontend'), got 0"),
    _fault("frontend_api_unreachable", "The frontend's API URL is dead; its health still says ok, with the API "
           "check in error.", HEALTH, "Then every service answers its health check as the environment expects",
           "'checks.api' is \"error\", expected \"ok\""),
    _fault("stale_instance", "The worker still runs the previous release (1.1.0).", VERSION,
           "Then every service reports the release version",
           "expected release 2.0.0 (release.version) on service 'worker', got '1.1.0'"),
]
