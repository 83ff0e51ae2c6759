"""Named checks, one module per capability. Each says, in its first line, what was expected, what was
seen and where.

Checks raise :class:`~postdeploy.errors.CheckFailed` (an ``AssertionError``: a target defect) and hide
their own frames from tracebacks. A ``*_problem`` function returns what is wrong (None: nothing) instead of
failing, so that a table check can judge every row first; a table check judges the answers
(:data:`Answer`: a request of :mod:`postdeploy.request_spec` and its exchange) that :func:`send_requests` got,
so that a step, a monitor or a release verdict can reuse it.

Every check is importable from here (``from postdeploy import checks; checks.status(...)``):

- ``_base``: failing, table reporting (:func:`every`, :func:`problems_first`), values in messages
- ``responses``: one answer's status, JSON, body, headers, timing
- ``exposure``: stack traces in error answers, API documentation
- ``cors``: preflights, allowed and refused origins
- ``assets``: static assets and the caching of assets and pages
- ``health``: every service's health, the release version each reports
- ``identities``: every account signs in, is accepted and told who it is
- ``routes``: the routes table, and tables of requests by status, content type, JSON entries, latency
- ``prometheus``: Prometheus exposition and its metrics
- ``pages``: a page in a real browser
"""

from ._base import (
    Send,
    every,
    fail,
    parse_literal,
    problems_first,
    statuses_text,
)
from .assets import (
    assets_cached,
    assets_hashed,
    page_cache_problem,
    pages_revalidated,
    static_assets,
)
from .cors import (
    CorsProbe,
    allows_configured_origins,
    ask_allowed_origins,
    ask_foreign_origins,
    foreign_origins,
    no_wildcard_with_credentials,
    preflight,
    refuses_foreign_origins,
    refuses_origin,
)
from .exposure import (
    STACK_TRACE_PATTERNS,
    api_docs,
    docs_answers,
    errors_without_internals,
    no_stack_trace,
)
from .health import (
    RELEASE_VARIABLE,
    HealthAnswer,
    VersionAnswer,
    ask_health,
    ask_versions,
    expected_release,
    health_problems,
    release_version,
    reported_version,
    services_healthy,
    version_problem,
)
from .identities import (
    AccountAnswer,
    accounts_accepted,
    accounts_see_themselves,
    ask_as_every_account,
    identity_problems,
)
from .pages import (
    address_without_credentials,
    at_path,
    none_seen,
    page_loaded,
    shows_at_least,
    shows_heading,
    shows_text,
)
from .prometheus import prometheus_exposes, prometheus_metrics
from .responses import (
    answered_within,
    body_contains,
    body_lacks,
    header_absent,
    header_matches,
    header_value,
    headers_match,
    json_body,
    json_equals,
    json_value,
    status,
    status_not,
    within_objective,
)
from .routes import (
    Answer,
    RouteAnswers,
    ask_routes,
    content_type_problem,
    content_types_as_listed,
    entries_at_least,
    entries_problem,
    json_entries,
    latencies,
    latency_problem,
    routes_and_roles,
    send_requests,
    statuses_as_listed,
)

__all__ = [
    "RELEASE_VARIABLE",
    "STACK_TRACE_PATTERNS",
    "AccountAnswer",
    "Answer",
    "CorsProbe",
    "HealthAnswer",
    "RouteAnswers",
    "Send",
    "VersionAnswer",
    "accounts_accepted",
    "accounts_see_themselves",
    "address_without_credentials",
    "allows_configured_origins",
    "answered_within",
    "api_docs",
    "ask_allowed_origins",
    "ask_as_every_account",
    "ask_foreign_origins",
    "ask_health",
    "ask_routes",
    "ask_versions",
    "assets_cached",
    "assets_hashed",
    "at_path",
    "body_contains",
    "body_lacks",
    "content_type_problem",
    "content_types_as_listed",
    "docs_answers",
    "entries_at_least",
    "entries_problem",
    "errors_without_internals",
    "every",
    "expected_release",
    "fail",
    "foreign_origins",
    "header_absent",
    "header_matches",
    "header_value",
    "headers_match",
    "health_problems",
    "identity_problems",
    "json_body",
    "json_entries",
    "json_equals",
    "json_value",
    "latencies",
    "latency_problem",
    "no_stack_trace",
    "no_wildcard_with_credentials",
    "none_seen",
    "page_cache_problem",
    "page_loaded",
    "pages_revalidated",
    "parse_literal",
    "preflight",
    "problems_first",
    "prometheus_exposes",
    "prometheus_metrics",
    "refuses_foreign_origins",
    "refuses_origin",
    "release_version",
    "reported_version",
    "routes_and_roles",
    "send_requests",
    "services_healthy",
    "shows_at_least",
    "shows_heading",
    "shows_text",
    "static_assets",
    "status",
    "status_not",
    "statuses_as_listed",
    "statuses_text",
    "version_problem",
    "within_objective",
]
