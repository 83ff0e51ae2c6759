"""Faults of the @security family: the seeds' variables set to defaults or debug values, and the sandbox's switches
for what a release must not expose. Each fails exactly its scenario of ``features/security/``."""

from __future__ import annotations

from . import Failure, Fault

FORGED = "test_tokens_signed_with_wellknown_secrets_are_refused"
SERVICE_TOKEN = "test_default_service_tokens_are_refused"
LIFETIME = "test_signin_tokens_expire_within_the_environments_bound"
GRADE_FRONTEND = "test_security_headers_grade_as_the_environment_requires[frontend-/login]"
SOFTWARE_API = "test_answers_announce_no_server_software_or_version[api-/api/v1/health]"
SOFTWARE_FRONTEND = "test_answers_announce_no_server_software_or_version[frontend-/login]"
FILES_FRONTEND = "test_no_configuration_or_repository_file_is_served[frontend]"
DEBUG_API = "test_no_debug_profiler_or_admin_page_is_served[api]"
LISTING = "test_the_frontend_lists_no_directory"
SOURCE_MAPS = "test_the_frontends_scripts_ship_without_public_source_maps"
SCRIPT_SECRETS = "test_the_frontends_scripts_hold_no_secret"
COOKIES = "test_the_signin_and_the_pages_set_cookies_with_their_attributes"
SETTING = "test_the_api_reports_the_expected_setting[{}]"

SETTING_STEP = 'Then the reported "{}" is what the environment expects'
SOFTWARE_STEP = "Then the response announces no server software or version"
EXPOSED_STEP = "Then nothing probed is exposed"


def _fault(id: str, config: dict[str, str], why: str, failures: dict[str, Failure]) -> Fault:
    return Fault(id, config, failures, why=why, family="security", args=("-m", "security"))


FAULTS: list[Fault] = [
    _fault("weak_jwt_secret", {"JWT_SECRET": "secret"}, "The API signs and accepts tokens with the secret 'secret'.",
           {FORGED: Failure("Then every forged token is refused",
                            "HS256, secret 'se…' (6 chars) was accepted: GET http")}),
    _fault("default_service_token", {"SERVICE_TOKEN": "changeme"},
           "The service token was left at 'changeme': another service's route accepts it.",
           {SERVICE_TOKEN: Failure("Then every default service token is refused",
                                   "default token 'ch…' (8 chars) was accepted: POST http")}),
    _fault("long_token_lifetime", {"JWT_EXPIRES_SECONDS": "604800"}, "Sign-in tokens live a week.",
           {LIFETIME: Failure('Then the token of "customer" expires within the environment\'s bound',
                              "expected the sign-in's token to expire within 3600 s, got a lifetime of 604800 s")}),
    _fault("weak_csp", {"SANDBOX_FAULTS": "weak_csp"},
           "The frontend's CSP allows inline and eval'd scripts from anywhere.",
           {GRADE_FRONTEND: Failure("Then the response's security headers grade as the environment requires",
                                    "expected security headers graded at least A (90), got C (50)")}),
    _fault("x_powered_by", {"SANDBOX_FAULTS": "x_powered_by"}, "Both services announce X-Powered-By: Express.",
           {SOFTWARE_API: Failure(SOFTWARE_STEP, "got X-Powered-By: Express"),
            SOFTWARE_FRONTEND: Failure(SOFTWARE_STEP, "got X-Powered-By: Express")}),
    _fault("exposed_dotenv", {"SANDBOX_FAULTS": "exposed_dotenv"}, "The frontend serves its /.env.",
           {FILES_FRONTEND: Failure(EXPOSED_STEP, "/.env (environment file) is exposed: GET http")}),
    _fault("debug_endpoint", {"SANDBOX_FAULTS": "debug_endpoint"}, "The api serves /debug with its environment.",
           {DEBUG_API: Failure(EXPOSED_STEP, "/debug (debug page) is exposed: GET http")}),
    _fault("directory_listing", {"SANDBOX_FAULTS": "directory_listing"}, "The frontend lists /static/.",
           {LISTING: Failure(EXPOSED_STEP, "/static/ (directory listing) is exposed: GET http")}),
    _fault("source_maps", {"SANDBOX_FAULTS": "source_maps"}, "The frontend's scripts ship their source maps.",
           {SOURCE_MAPS: Failure("Then no script has a public source map", ".js.map (of /static/app.")}),
    _fault("script_secret", {"SANDBOX_FAULTS": "script_secret"}, "app.js embeds an AWS and a Stripe key.",
           {SCRIPT_SECRETS: Failure("Then no script holds a secret-looking string",
                                    "found 2: first AWS Access Key in /static/app.")}),
    _fault("insecure_cookies", {"SANDBOX_FAULTS": "insecure_cookies"},
           "The login's session cookie lacks HttpOnly and SameSite.",
           {COOKIES: Failure("Then every cookie carries the attributes its kind requires",
                             "cookie session_id set by POST /api/v1/auth/login (api): a session cookie without "
                             "HttpOnly, a session cookie without SameSite")}),
    _fault("environment_staging", {"ENVIRONMENT": "staging"}, "The API runs with ENVIRONMENT=staging.",
           {SETTING.format("environment"): Failure(SETTING_STEP.format("environment"),
                                                   "expected 'environment' \"production\" at 'environment' of GET "
                                                   "http")}),
    _fault("debug_on", {"DEBUG": "true"}, "The API runs with DEBUG=true.",
           {SETTING.format("debug"): Failure(SETTING_STEP.format("debug"), "expected 'debug' false at 'debug'")}),
    _fault("log_level_debug", {"LOG_LEVEL": "DEBUG"}, "The API logs at DEBUG.",
           {SETTING.format("log_level"): Failure(SETTING_STEP.format("log_level"),
                                                 "expected 'log_level' \"WARNING\" or \"ERROR\" at 'log_level' of "
                                                 "GET http")}),
]


# ---- TLS: certificate variants served by the matrix's own HTTPS servers (trustme), named by the servers' keys ----

TLS_VERIFY = "test_tls_certificates_verify_for_their_hosts"
TLS_EXPIRY = "test_tls_certificates_are_valid_beyond_the_margin"
TLS_PROTOCOLS = "test_tls_hosts_accept_only_current_protocols_and_strong_cipher_suites"
VERIFY_STEP = "Then every certificate verifies for its host"
EXPIRY_STEP = "Then no certificate expires within the environment's margin"
PROTOCOLS_STEP = "Then every host accepts only the allowed TLS versions and no weak cipher suite"

#: the hosts a faulty environment lists (servers of the matrix) -> the scenarios they fail; hosts of one round fail
#: disjoint scenarios
TLS_ROUNDS: list[tuple[tuple[str, ...], dict[str, Failure]]] = [
    (("wrong_host", "expiring", "tls_1_0"), {
        TLS_VERIFY: Failure(VERIFY_STEP, "the certificate does not verify (Hostname mismatch"),
        TLS_EXPIRY: Failure(EXPIRY_STEP, "the certificate expires in 9 days"),
        TLS_PROTOCOLS: Failure(PROTOCOLS_STEP, "accepts TLS 1.0, TLS 1.1 (below TLS 1.2)"),
    }),
    (("untrusted_ca",), {
        TLS_VERIFY: Failure(VERIFY_STEP, "the certificate does not verify (unable to get local issuer "
                                         "certificate)"),
    }),
    (("expired",), {
        TLS_VERIFY: Failure(VERIFY_STEP, "the certificate does not verify (certificate has expired)"),
        TLS_EXPIRY: Failure(EXPIRY_STEP, "the certificate expired 1 days ago"),
    }),
]
