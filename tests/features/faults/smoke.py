"""Faults of the smoke family's configuration checks: the seeds' variables and the sandbox's fault switches."""

from __future__ import annotations

from . import Failure, Fault

HEADERS_API = "test_service_sends_the_security_headers[api-/api/v1/health]"
HEADERS_FRONTEND = "test_service_sends_the_security_headers[frontend-/login]"
SOFTWARE_API = "test_answers_do_not_reveal_the_server_software[api-/api/v1/health]"
SOFTWARE_FRONTEND = "test_answers_do_not_reveal_the_server_software[frontend-/login]"
SETTINGS_PAGE = "test_an_admin_signs_in_and_opens_the_notification_settings"
HISTORY_PAGE = "test_the_notification_history_shows_status_badges"
SIGN_IN = "test_every_test_account_signs_in_and_its_token_is_accepted"
WHO = "test_the_signedin_user_is_who_the_token_says"
CUSTOMER = "test_a_customer_cannot_reach_admin_endpoints"
ANONYMOUS = "test_protected_endpoints_reject_anonymous_calls"
FORGED = "test_a_forged_token_is_rejected"
LATENCY = "test_the_api_answers_within_its_latency_objective"
ROUTES_LATENCY = "test_signedin_api_routes_answer_within_the_latency_objective"
HEALTH = "test_every_service_answers_its_health_endpoint_and_reports_its_dependencies_up"
DATABASE_SHAPE = "test_the_api_reports_its_database_check_in_the_documented_shape"
MAINTENANCE = "test_maintenance_mode_is_off"
METRICS = "test_the_api_exposes_prometheus_metrics"
WORKER_METRICS = "test_the_notification_worker_exposes_the_delivery_metrics_the_alerts_use"
ASSETS = "test_scripts_and_styles_are_contenthashed_and_cached_for_a_long_time"
TRANSLATIONS = "test_translation_files_load"
CORS_ALLOWED = "test_cors_allows_the_configured_origins"
CORS_UNKNOWN = "test_cors_does_not_let_an_unknown_origin_in"
CORS_FOREIGN = "test_cors_refuses_lookalike_and_foreign_origins"
FOREIGN_STEP = "Then CORS refuses every foreign origin"
DOCS = "test_api_documentation_is_exposed_only_where_the_environment_allows_it"
TRACES = "test_error_answers_carry_no_stack_traces"

CONTENT_TYPES = "test_api_answers_are_labelled_json"
RELEASE = "test_every_service_runs_the_release_that_should_be_live"
ROUTES = "test_every_route_of_the_release_answers_each_caller_as_the_environment_lists"
IDENTITY = "test_every_account_is_served_its_own_identity"

HEADERS_STEP = "Then the response headers match:"
NO_CONSOLE_ERRORS = "Then the page has no console errors"
NO_FAILED_REQUESTS = "Then the page made no failed requests"
TABLE_STEP = "Then every response has the status its row expects"
EVIL = 'Then CORS does not allow the origin "https://evil.example"'
WILDCARD_CREDENTIALS = "Then CORS does not combine a wildcard origin with credentials"
SIGN_IN_STEP = "Then every account is signed in and accepted"
HEALTH_STEP = "Then every service answers its health check as the environment expects"
ROUTES_STEP = "Then every route answers each identity as the routes table says"
IDENTITY_STEP = 'Then every account sees its own username at "email" and role at "role"'
ROUTES_LATENCY_STEP = 'Then every response arrived within the "api_latency_ms" objective'
STATUS_OK = 'Then the JSON at "status" is "ok"'
MAINTENANCE_503 = "got 503 '{\"status\":\"maintenance\""
LOGIN_503 = "failed: expected a 2xx answer, got 503"
BROWSER_503 = "the page shows 'The service is unreachable, try again later'"

FAULTS = [
    Fault("no_security_headers", {"SANDBOX_FAULTS": "no_security_headers"}, why="No security header on any answer.",
          failures={
              HEADERS_API: Failure(HEADERS_STEP, "5 of 5 did not, first: Strict-Transport-Security"),
              HEADERS_FRONTEND: Failure(HEADERS_STEP, "5 of 5 did not, first: Strict-Transport-Security"),
          }),
    Fault("cors_reflect_any", {"SANDBOX_FAULTS": "cors_reflect_any"},
          why="CORS echoes any Origin back, with credentials.",
          failures={CORS_UNKNOWN: Failure(EVIL, "got Access-Control-Allow-Origin 'https://evil.example'"),
                    CORS_FOREIGN: Failure(FOREIGN_STEP, "5 of 5 did not, first: https://evil.example (an unrelated "
                                          "site; preflight: Access-Control-Allow-Origin: https://evil.example with "
                                          "credentials")}),
    Fault("CORS_ORIGINS=*", {"CORS_ORIGINS": "*"}, why="CORS opened to every origin by configuration.",
          failures={
              CORS_ALLOWED: Failure("Then CORS allows every allowed origin", "1 of 1 did not, first: origin"),
              CORS_UNKNOWN: Failure(WILDCARD_CREDENTIALS, "expected no wildcard origin with credentials, got "
                                    "Access-Control-Allow-Origin '*' and Access-Control-Allow-Credentials 'true'"),
              CORS_FOREIGN: Failure(FOREIGN_STEP, "5 of 5 did not, first: https://evil.example (an unrelated site; "
                                    "preflight: Access-Control-Allow-Origin: * with credentials"),
          }),
    Fault("cors_wildcard_credentials", {"SANDBOX_FAULTS": "cors_wildcard_credentials"},
          why="CORS answers the origins it does not list with '*' and credentials (the listed ones still work).",
          failures={CORS_UNKNOWN: Failure(WILDCARD_CREDENTIALS, "expected no wildcard origin with credentials, got "
                                          "Access-Control-Allow-Origin '*' and Access-Control-Allow-Credentials "
                                          "'true'"),
                    CORS_FOREIGN: Failure(FOREIGN_STEP, "5 of 5 did not, first: https://evil.example (an unrelated "
                                          "site; preflight: Access-Control-Allow-Origin: * with credentials")}),
    Fault("cors_allow_null", {"SANDBOX_FAULTS": "cors_allow_null"},
          why="The origin null (sandboxed frames, file: pages) is allowed, with credentials.",
          failures={CORS_FOREIGN: Failure(FOREIGN_STEP, "1 of 5 did not, first: null (the null origin; preflight: "
                                                        "Access-Control-Allow-Origin: null with credentials")}),
    Fault("cors_suffix_match", {"SANDBOX_FAULTS": "cors_suffix_match"},
          why="Origins are matched by prefix: the allowed origin followed by .evil.example gets in.",
          failures={CORS_FOREIGN: Failure(FOREIGN_STEP, "1 of 5 did not, first: http://127.0.0.1:")}),
    Fault("CORS_ORIGINS=+attacker", {"CORS_ORIGINS": "${SANDBOX_FRONTEND_URL},https://attacker.example"},
          why="One origin too many configured: an origin the environment says must be refused is allowed.",
          failures={CORS_FOREIGN: Failure(FOREIGN_STEP, "1 of 5 did not, first: https://attacker.example (listed in "
                                                        "expect.cors.refused_origins")}),
    Fault("cors_credentials_without_origin", {"SANDBOX_FAULTS": "cors_credentials_without_origin"},
          why="A refused origin gets no Access-Control-Allow-Origin but still Access-Control-Allow-Credentials: true.",
          failures={CORS_UNKNOWN: Failure(EVIL, "got no Access-Control-Allow-Origin for it but "
                                                "Access-Control-Allow-Credentials 'true' (half a refusal)"),
                    CORS_FOREIGN: Failure(FOREIGN_STEP, "Access-Control-Allow-Credentials: true without its origin "
                                                        "(half a refusal)")}),
    Fault("auth_bypass", {"SANDBOX_FAULTS": "auth_bypass"},
          why="Protected endpoints answer without checking the token.",
          failures={
              ANONYMOUS: Failure(TABLE_STEP, "5 of 5 did not, first: GET"),
              FORGED: Failure("Then the response status is 401", "expected status 401, got 200"),
              ROUTES: Failure(ROUTES_STEP,
                              "expected 401 for anonymous GET /api/v1/users/me (service 'api'), got 200"),
          }),
    Fault("jwt_secret_mismatch", {"SANDBOX_FAULTS": "jwt_secret_mismatch"},
          why="Tokens are signed with one secret and verified with another: every signed-in call is refused.",
          failures={
              SIGN_IN: Failure(SIGN_IN_STEP, "4 of 4 did not, first: 'admin' signed in but GET"),
              WHO: Failure("Then the response status is 200", "expected status 200, got 401"),
              CUSTOMER: Failure(TABLE_STEP, "2 of 2 did not, first: GET"),
              SETTINGS_PAGE: Failure('Then the page path is "/dashboard"', "expected the browser at /dashboard"),
              HISTORY_PAGE: Failure('Then the page shows the heading "Notification history"',
                                    "expected a heading 'Notification history'"),
              ROUTES: Failure(ROUTES_STEP,
                              "expected 200 for 'customer' GET /api/v1/users/me (service 'api'), got 401"),
              IDENTITY: Failure(IDENTITY_STEP,
                                "expected 200 for 'admin' at GET /api/v1/users/me (service 'api'), got 401"),
              ROUTES_LATENCY: Failure(ROUTES_LATENCY_STEP,
                                      "expected a successful answer to time against the 'api_latency_ms' objective"),
          }),
    Fault("metrics_disabled", {"SANDBOX_FAULTS": "metrics_disabled"}, why="The API's /metrics is gone.",
          failures={
              METRICS: Failure("Then the response status is 200", "expected status 200, got 404"),
              ROUTES: Failure(ROUTES_STEP, "expected 200 for anonymous GET /metrics (service 'api'), got 404"),
          }),
    Fault("worker_metrics_missing", {"SANDBOX_FAULTS": "worker_metrics_missing"},
          why="The worker's /metrics lacks the delivery metrics the alerts use.",
          failures={WORKER_METRICS: Failure("Then the response is Prometheus text exposing the metrics:",
                                            "expected the metrics notification_email_sent")}),
    Fault("no_cache_headers", {"SANDBOX_FAULTS": "no_cache_headers"}, why="Static assets are served uncacheable.",
          failures={ASSETS: Failure("Then every asset answers 200 with a Cache-Control max-age of at least 86400 "
                                    "seconds", "expected long-lived caching (max-age >= 86400) for every asset")}),
    Fault("i18n_missing", {"SANDBOX_FAULTS": "i18n_missing"},
          why="The translation files are missing; the pages that load them log the 404s.",
          failures={
              TRANSLATIONS: Failure(TABLE_STEP, "2 of 2 did not"),
              SETTINGS_PAGE: Failure(NO_FAILED_REQUESTS, "expected no failed requests on"),
              HISTORY_PAGE: Failure(NO_FAILED_REQUESTS, "expected no failed requests on"),
          }),
    Fault("frontend_js_error", {"SANDBOX_FAULTS": "frontend_js_error"},
          why="The settings page throws an uncaught JavaScript error.",
          failures={SETTINGS_PAGE: Failure(NO_CONSOLE_ERRORS, "uncaught: Cannot read properties of undefined")}),
    Fault("frontend_broken_asset", {"SANDBOX_FAULTS": "frontend_broken_asset"},
          why="The signed-in pages reference a style sheet that is not there (a 404 JSON answer the browser aborts).",
          failures={
              SETTINGS_PAGE: Failure(NO_FAILED_REQUESTS, "/static/settings.3f2a9c1d.css"),
              HISTORY_PAGE: Failure(NO_FAILED_REQUESTS, "/static/settings.3f2a9c1d.css"),
          }),
    Fault("unhashed_assets", {"SANDBOX_FAULTS": "unhashed_assets"},
          why="The pages reference /static/app.js and /static/app.css, cached for a year: users keep stale code.",
          failures={ASSETS: Failure("Then every script and style sheet name carries a content hash",
                                    "expected content-hashed asset names, these are not")}),
    Fault("health_degraded_200", {"SANDBOX_FAULTS": "health_degraded_200"},
          why="The API's health says \"degraded\" but answers 200, so a load balancer keeps it in rotation.",
          failures={
              HEALTH: Failure(HEALTH_STEP, "1 of 3 did not, first: 'api' at"),
              DATABASE_SHAPE: Failure(STATUS_OK, "expected JSON 'status' to be \"ok\", got \"degraded\""),
              MAINTENANCE: Failure(STATUS_OK, "expected JSON 'status' to be \"ok\", got \"degraded\""),
          }),
    Fault("history_badges_missing", {"SANDBOX_FAULTS": "history_badges_missing"},
          why="The history page shows the statuses as plain text, without their badges.",
          failures={HISTORY_PAGE: Failure('Then the page shows at least 1 element matching ".badge-sent"',
                                          "expected at least 1 element matching '.badge-sent' on")}),
    Fault("x_powered_by", {"SANDBOX_FAULTS": "x_powered_by"},
          why="Both services announce their framework (X-Powered-By: Express), a default left on.",
          failures={
              SOFTWARE_API: Failure('Then the response header "X-Powered-By" is absent',
                                    "expected no header 'X-Powered-By', got 'Express'"),
              SOFTWARE_FRONTEND: Failure('Then the response header "X-Powered-By" is absent',
                                         "expected no header 'X-Powered-By', got 'Express'"),
          }),
    Fault("slow_api", {"SANDBOX_FAULTS": "slow_api"}, why="Every API answer takes 1.5 s.",
          failures={
              LATENCY: Failure('Then the response time is within the "api_latency_ms" objective',
                               "expected a response within the 'api_latency_ms' objective of 1000 ms"),
              ROUTES_LATENCY: Failure(ROUTES_LATENCY_STEP, "within the 'api_latency_ms' objective of 1000 ms"),
          }),
    Fault("ENABLE_DOCS=true", {"ENABLE_DOCS": "true"}, why="The API serves its documentation in production.",
          failures={DOCS: Failure("Then API documentation is exposed as the environment expects",
                                  "but /docs, /redoc, /openapi.json answer 200")}),
    Fault("DEBUG=true", {"DEBUG": "true"}, why="A debug build: error answers carry Python tracebacks.",
          failures={TRACES: Failure("Then no response reveals internals",
                                    "first: expected an error without internals, got a Python traceback")}),
    Fault("MAINTENANCE_MODE=true", {"MAINTENANCE_MODE": "true"},
          why="The API answers 503 everywhere: every check that needs an API answer fails, and says it got 503.",
          failures={
              METRICS: Failure("Then the response status is 200", MAINTENANCE_503),
              CONTENT_TYPES: Failure('Given I am signed in as "customer"', LOGIN_503),
              HEALTH: Failure("Then every service answers its health check as the environment expects",
                              "2 of 3 did not, first: 'api' at"),
              DATABASE_SHAPE: Failure("Then the response status is 200", MAINTENANCE_503),
              LATENCY: Failure("Then the response status is 200", MAINTENANCE_503),
              MAINTENANCE: Failure("Then the response status is not 503", "expected any status but 503, got 503"),
              ROUTES_LATENCY: Failure('Given I am signed in as "staff"', LOGIN_503),
              RELEASE: Failure("Then every service reports the release version", "got 503"),
              SIGN_IN: Failure(SIGN_IN_STEP, LOGIN_503),
              WHO: Failure('Given I am signed in as "admin"', LOGIN_503),
              ANONYMOUS: Failure(TABLE_STEP, "5 of 5 did not, first: GET"),
              FORGED: Failure("Then the response status is 401", MAINTENANCE_503),
              CUSTOMER: Failure('Given I am signed in as "customer"', LOGIN_503),
              ROUTES: Failure(ROUTES_STEP, LOGIN_503),
              IDENTITY: Failure(IDENTITY_STEP, LOGIN_503),
              SETTINGS_PAGE: Failure('When I sign in through the browser as "admin"', BROWSER_503),
              HISTORY_PAGE: Failure('Given I am signed in to the browser as "admin"', BROWSER_503),
          }),
    Fault("SMTP_PORT=1", {"SMTP_PORT": "1"}, why="The worker cannot reach its SMTP server; its health says so.",
          failures={HEALTH: Failure("Then every service answers its health check as the environment expects",
                                    "1 of 3 did not, first: 'worker' at")}),
]

LOGIN_500 = "failed: expected a 2xx answer, got 500"
DATABASE_503 = "got 503 '{\"status\":\"error\",\"checks\":{\"api\":\"ok\",\"database\":\"error\"}}'"
BROWSER_500 = "the page shows 'Sign in failed (500)'"

# Not started from a configuration: tests/features/test_fault_matrix.py kills the sandbox's PostgreSQL itself.
FAULTS.append(Fault(
    "database_outage", {}, why="PostgreSQL killed under the running deployment: health says so, and every check "
    "that needs the database fails (sign-in answers 500).",
    failures={
        HEALTH: Failure("Then every service answers its health check as the environment expects",
                        "3 of 3 did not, first: 'api' at"),
        DATABASE_SHAPE: Failure("Then the response status is 200", DATABASE_503),
        LATENCY: Failure("Then the response status is 200", DATABASE_503),
        MAINTENANCE: Failure("Then the response status is not 503", DATABASE_503),
        SIGN_IN: Failure(SIGN_IN_STEP, LOGIN_500),
        WHO: Failure('Given I am signed in as "admin"', LOGIN_500),
        CUSTOMER: Failure('Given I am signed in as "customer"', LOGIN_500),
        CONTENT_TYPES: Failure('Given I am signed in as "customer"', LOGIN_500),
        ROUTES_LATENCY: Failure('Given I am signed in as "staff"', LOGIN_500),
        ROUTES: Failure(ROUTES_STEP, LOGIN_500),
        IDENTITY: Failure(IDENTITY_STEP, LOGIN_500),
        SETTINGS_PAGE: Failure('When I sign in through the browser as "admin"', BROWSER_500),
        HISTORY_PAGE: Failure('Given I am signed in to the browser as "admin"', BROWSER_500),
    }))
