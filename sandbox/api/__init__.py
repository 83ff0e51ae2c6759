"""The platform API (FastAPI): auth, users and preferences, order-email notifications, activity notifications
(through the activity.sp_* stored procedures), orders with an outbox, API v1 and v2, rate limits, metrics.

Run: python -m sandbox.api   (port from SANDBOX_PORT, database from SANDBOX_DATABASE_URL or DATABASE_URL)

One module per area, each with a ``router(...)`` that builds its routes for one app's settings and pool;
``create_app`` composes them:

- ``common``: Settings (the environment), VERSION, EmailStr, the "api" logger, check_uuid
- ``middleware``: error bodies, maintenance, security and CORS headers, preflights, the general rate limit, the
  faults that act on every route
- ``metrics``: the Prometheus registry (request metrics, notification_* from the database) and GET /metrics
- ``health``: /health, /api/v1/health, /api/v2/health, /version, /api/version
- ``auth``: login routes and the dependencies that protect the others (``Auth``: current_user, admin_only, ...)
- ``users``: /api/v{1,2}/users/me, the user listing, notification preferences
- ``notifications``: order-email history (v1, v2), resend, test e-mail, notification configuration
- ``activity``: /api/v1/activity/notifications (activity.sp_* procedures)
- ``orders``: v1 and v2 orders, payment and its order.paid outbox event
- ``admin``: event replay and queue statistics

Routes are registered in that order (health first, admin last): the order in which they match, and in which
/openapi.json lists them.
"""

from fastapi import FastAPI
from limits import parse as parse_limit
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from .. import config, db
from . import (
    activity,
    admin,
    auth,
    health,
    metrics,
    middleware,
    notifications,
    orders,
    users,
)
from .common import POWERED_BY, VERSION, EmailStr, Settings

__all__ = ["POWERED_BY", "VERSION", "EmailStr", "Settings", "create_app", "main"]


def create_app(settings: Settings | None = None) -> FastAPI:
    s = settings or Settings()
    pool = db.Pool(s.database_url, size=10)
    app = FastAPI(
        title="Notification Platform API", version=VERSION,
        docs_url="/docs" if s.enable_docs else None,
        redoc_url="/redoc" if s.enable_docs else None,
        openapi_url="/openapi.json" if s.enable_docs else None,
    )
    app.state.settings = s
    app.state.pool = pool
    limiter = FixedWindowRateLimiter(MemoryStorage())
    window = 86_400 if "rate_limit_no_reset" in s.faults else s.rate_window_s  # a window that never ends
    general_limit = parse_limit(f"{max(s.rate_limit, 1)}/{window} seconds")
    test_limit = parse_limit(f"{max(s.test_email_limit, 1)}/minute")
    collected = metrics.Metrics(pool)

    middleware.install(app, s, limiter, general_limit, collected.observe)
    access = auth.make_auth(s, pool)
    for router in (
        health.router(s, pool),
        metrics.router(s, collected.registry),
        auth.router(access),
        users.router(s, pool, access),
        notifications.router(s, pool, access, limiter, test_limit),
        activity.router(s, pool, access),
        orders.router(pool, access),
        admin.router(pool, access),
    ):
        app.include_router(router)
    return app


def main() -> None:
    import uvicorn
    config.startup_check_or_exit("api")
    config.setup_logging("api", "WARNING")
    port = config.env_int("SANDBOX_PORT", config.env_int("PORT", 8000))
    app = create_app()
    uvicorn.run(app, host=config.env_str("SANDBOX_HOST", "127.0.0.1"), port=port, log_config=None,
                access_log=False, timeout_graceful_shutdown=1)
