"""Configuration of the sandbox platform processes, read from environment variables.

Names follow the seeds (CORS_ORIGINS, ENABLE_DOCS, DEBUG, LOG_LEVEL, SMTP_*, ...). Defaults describe a healthy,
production-like deployment. Defects that configuration cannot express are fault switches listed in
SANDBOX_FAULTS (comma separated); an unknown name is a startup error.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import NamedTuple

SANDBOX_DIR = Path(__file__).resolve().parent


class Fault(NamedTuple):
    """One SANDBOX_FAULTS switch: what breaks, and for a database fault the SQL that breaks it."""
    breaks: str  # the component(s) and what breaks
    # a database fault: statements run as the superuser on the migrated, seeded database before the platform
    # processes use it (sandbox.db.apply_faults); the processes themselves may check the name too
    sql: tuple[str, ...] = ()


# name -> Fault; an unknown name in SANDBOX_FAULTS is a startup error
FAULTS: dict[str, Fault] = {
    "no_security_headers": Fault("api and frontend omit the security headers"),
    "cors_reflect_any": Fault("api reflects any Origin with credentials"),
    "auth_bypass": Fault("protected api endpoints accept anonymous calls as the customer account"),
    "jwt_secret_mismatch": Fault("login issues tokens the rest of the api rejects with 401"),
    "metrics_disabled": Fault("/metrics answers 404 on the api"),
    "worker_metrics_missing": Fault("the worker's /metrics serves none of the notification_* delivery metrics"),
    "no_cache_headers": Fault("static assets are served with Cache-Control: no-store"),
    "i18n_missing": Fault("/i18n/*.json answer 404 on the frontend"),
    "frontend_js_error": Fault("the settings pages' JS throws an uncaught error in the browser console"),
    "frontend_broken_asset": Fault("the settings pages reference a static file that 404s"),
    "no_duplicate_prevention": Fault("the worker sends replayed events again (and the unique index is missing)",
                                     sql=("DROP INDEX IF EXISTS idx_notifications_transaction_type",)),
    "slow_api": Fault("the api adds ~1.5 s latency to /api/* responses"),
    "rate_limit_disabled": Fault("the api never rate limits (no 429, no X-RateLimit-* headers)"),
    "rate_limit_global": Fault("the api's limit is one budget for everybody, not one per user or address"),
    "rate_limit_no_retry_after": Fault("the api's 429 says nothing of when to retry (no Retry-After)"),
    "rate_limit_headers_lie": Fault("the api's X-RateLimit-Remaining always says the whole limit is left"),
    "rate_limit_no_reset": Fault("the api's rate-limit window never ends (its headers say it does)"),
    "rate_limit_racy": Fault("the api's rate-limit counter reads and writes in two steps: a concurrent burst gets "
                             "past the limit"),
    "drop_index": Fault("the notifications indexes on status and created_at are missing",
                        sql=("DROP INDEX IF EXISTS idx_notifications_status",
                             "DROP INDEX IF EXISTS idx_notifications_created_at")),
    "rls_disabled": Fault("row level security is disabled on notifications and activity.notifications",
                          sql=("ALTER TABLE notifications DISABLE ROW LEVEL SECURITY",
                               "ALTER TABLE activity.notifications DISABLE ROW LEVEL SECURITY",
                               "GRANT SELECT, INSERT, UPDATE ON activity.notifications TO app_user")),
    "email_template_missing": Fault("the worker's customer receipt template is missing: receipts fail "
                                    "(error_type=other)"),
    "email_link_broken": Fault("the customer receipt's 'View your order' link points at /order/<id>, a page that "
                               "does not exist"),
    "email_template_typo": Fault("the customer receipt's templates name ${item_lines} and ${item_rows}, which the "
                                 "worker does not fill: the email shows the placeholders instead of the items"),
    "email_wrong_total": Fault("the customer receipt shows the first item's price as the total paid"),
    "email_html_only": Fault("the customer receipt has no plain-text part, only HTML"),
    "email_html_blank": Fault("the customer receipt's HTML part is an image without text"),
    "token_in_email": Fault("the customer receipt's text carries a debugging line with a JSON Web Token"),
    "slow_email": Fault("the worker holds every customer receipt 6 s before sending it (not a replay's)"),
    "v1_removed": Fault("API v1 order and user routes answer 410 Gone (breaks old clients)"),
    # realistic bad releases that an old smoke suite passed (issue 12, "false greens")
    "new_route_unprotected": Fault("the release's new /api/v2/notifications/history route answers anonymous "
                                   "callers"),
    "customer_gets_admin_data": Fault("GET /api/v1/users (admin only) answers any signed-in user with every "
                                      "account"),
    "wrong_identity": Fault("GET /api/v1/users/me answers the staff account with the admin's record"),
    "json_as_text_plain": Fault("the api's successful /api/* JSON answers are labelled text/plain"),
    "html_cached_immutable": Fault("the frontend's pages are served with Cache-Control: public, max-age=31536000, "
                                   "immutable"),
    "slow_api_routes": Fault("the api's order listings (/api/v1/orders, /api/v2/orders) take ~1.5 s more; health "
                             "stays fast"),
    "i18n_empty": Fault("/i18n/*.json answer 200 with an empty object {}"),
    "frontend_api_unreachable": Fault("the frontend's server-side API URL is a closed port; its health still "
                                      "answers 200 status ok, with checks.api error"),
    "stale_instance": Fault("the worker still runs the previous release: it reports version 1.1.0"),
    # defects each proving that one Then step of the smoke features can fail
    "cors_wildcard_credentials": Fault("the api answers origins it does not list with Access-Control-Allow-Origin: "
                                       "* and Access-Control-Allow-Credentials: true"),
    "unhashed_assets": Fault("the frontend's pages reference unhashed asset names (/static/app.js, /static/app.css), "
                             "still served 200 and cached for a year"),
    "health_degraded_200": Fault("the api's health routes answer HTTP 200 with \"status\": \"degraded\" (every "
                                 "check ok)"),
    "history_badges_missing": Fault("the history page renders statuses as plain text, without the badge classes"),
    "x_powered_by": Fault("the api and the frontend add X-Powered-By: Express/4.17.1 to every answer"),
    # a health that hides a dependency outage, and the outage it hides (issue 14)
    "health_ignores_database": Fault("the api's health routes answer 200 with the healthy body without asking the "
                                     "database"),
    "database_unreachable_from_api": Fault("the api's database URL is a closed port: every route that needs the "
                                           "database (sign-in included) answers 500; worker unaffected"),
    # careless CORS origin checks (issue 14); each acts on preflights and on cross-origin requests alike
    "cors_allow_null": Fault("the api allows the Origin null, with credentials"),
    "cors_suffix_match": Fault("the api allows any Origin that starts with an allowed one (e.g. "
                               "<allowed origin>.evil.example), with credentials"),
    "cors_allow_http": Fault("the api ignores the scheme of an Origin: an allowed host is allowed over plain http:// "
                             "(and https://) too, with credentials"),
    "cors_credentials_without_origin": Fault("the api refuses an unknown Origin (no Access-Control-Allow-Origin) but "
                                             "still sends Access-Control-Allow-Credentials: true"),
    # what a release must not expose (issue 19, the @security family)
    "weak_csp": Fault("the frontend's Content-Security-Policy allows 'unsafe-inline', 'unsafe-eval' and any host in "
                      "script-src, and drops frame-ancestors"),
    "exposed_dotenv": Fault("the frontend serves its deployment's /.env file"),
    "debug_endpoint": Fault("the api serves /debug: its settings and process environment, to anyone"),
    "source_maps": Fault("the frontend's scripts name a source map (sourceMappingURL) and serve it, sources included"),
    "script_secret": Fault("the frontend's app.js embeds an AWS access key and a Stripe live key"),
    "insecure_cookies": Fault("the api's login sets its session cookie without HttpOnly and SameSite"),
    "directory_listing": Fault("the frontend lists the files of /static/ (an autoindex page)"),
}

# The release every component reports at /version; stale_instance leaves the worker on the previous one.
RELEASE_VERSION = "2.0.0"
PREVIOUS_VERSION = "1.1.0"


# Every environment variable a platform process reads as its configuration (the seeds' names, plus SANDBOX_FAULTS):
# the one list of them. The launcher records the values a sandbox was started with, so a run can tell when a shared
# sandbox differs from what it was asked for; tests and benchmarks strip these from the environment they inherit to
# start a default sandbox. Not listed: what the launcher itself sets per component (SANDBOX_PORT, SANDBOX_*_URL, ...),
# nor the fallbacks those take precedence over (PORT, DATABASE_URL).
CONFIG_VARIABLES: tuple[str, ...] = (
    "ENVIRONMENT", "DEBUG", "ENABLE_DOCS", "CORS_ORIGINS", "LOG_LEVEL", "MAINTENANCE_MODE",
    "RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_WINDOW_SECONDS", "TEST_EMAIL_RATE_LIMIT_PER_MINUTE",
    "JWT_SECRET", "JWT_ALGORITHM", "JWT_EXPIRES_SECONDS", "SERVICE_TOKEN",
    "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_TIMEOUT_SECONDS",
    "SMTP_RETRY_ATTEMPTS", "SMTP_RETRY_BACKOFF_MS", "POLL_INTERVAL_MS", "TEMPLATE_DIR", "FRONTEND_DOMAIN",
    "API_BASE_URL", "SANDBOX_FAULTS",
)
# The boolean ones among them (unset means false), read with env_bool.
BOOLEAN_VARIABLES: tuple[str, ...] = ("DEBUG", "ENABLE_DOCS", "MAINTENANCE_MODE")


class ConfigError(Exception):
    pass


def env_bool(name: str, default: bool = False) -> bool:
    v = os.environ.get(name)
    if v is None or v.strip() == "":
        return default
    return v.strip().lower() in ("1", "true", "yes", "on")


def env_bool_from(env, name: str, default: bool = False) -> bool:
    v = env.get(name)
    if v is None or str(v).strip() == "":
        return default
    return str(v).strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    v = os.environ.get(name)
    if v is None or v.strip() == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {v!r}")


def env_str(name: str, default: str = "") -> str:
    v = os.environ.get(name)
    return default if v is None or v == "" else v


def parse_faults(value: str | None) -> list[str]:
    names = [f.strip() for f in (value or "").split(",") if f.strip()]
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ConfigError(
            f"unknown fault name(s) in SANDBOX_FAULTS: {', '.join(unknown)}; "
            f"known faults: {', '.join(sorted(FAULTS))}"
        )
    return names


def faults() -> set[str]:
    return set(parse_faults(os.environ.get("SANDBOX_FAULTS")))


def setup_logging(component: str, default_level: str = "WARNING") -> logging.Logger:
    level_name = env_str("LOG_LEVEL", default_level).upper()
    level = getattr(logging, level_name, None)
    if not isinstance(level, int):
        level = logging.WARNING
    handlers: list[logging.Handler] = []
    log_file = os.environ.get("SANDBOX_LOG_FILE")
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s [{component}] %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return logging.getLogger(component)


def startup_check_or_exit(component: str) -> set[str]:
    """Validate SANDBOX_FAULTS for a component process; exit 2 with a clear message when invalid."""
    try:
        return faults()
    except ConfigError as e:
        print(f"{component}: configuration error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(2)
