"""Health and release routes: GET /health (also /api/v1/health, /api/v2/health) and /version (also /api/version)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from .. import db
from .common import VERSION, Settings, log


def router(s: Settings, pool: db.Pool) -> APIRouter:
    routes = APIRouter()

    def health_body() -> tuple[int, dict]:
        # health_degraded_200: the health reports trouble ("degraded") but keeps answering 200
        status = "degraded" if "health_degraded_200" in s.faults else "ok"
        if "health_ignores_database" in s.faults:  # the database check no longer runs: "ok" whatever its state
            return 200, {"status": status, "checks": {"api": "ok", "database": "ok"}}
        try:
            with pool.connection() as conn:
                conn.execute("SELECT 1").fetchone()
                conn.commit()
            return 200, {"status": status, "checks": {"api": "ok", "database": "ok"}}
        except Exception as e:
            log.error("database_exception: health check failed: %s", e)
            return 503, {"status": "error", "checks": {"api": "ok", "database": "error"}}

    @routes.get("/health", tags=["health"])
    @routes.get("/api/v1/health", tags=["health"])
    @routes.get("/api/v2/health", tags=["health"])
    def health():
        code, body = health_body()
        return JSONResponse(body, status_code=code)

    @routes.get("/version", tags=["health"])
    @routes.get("/api/version", tags=["health"])
    def version():
        return {"version": VERSION, "api_versions": ["v1", "v2"], "environment": s.environment, "debug": s.debug,
                "log_level": s.log_level}

    if "debug_endpoint" in s.faults:  # a debug page left in the release: settings and process environment
        @routes.get("/debug", include_in_schema=False)
        def debug():
            import os
            return {"settings": {"environment": s.environment, "debug": s.debug, "log_level": s.log_level,
                                 "database_url": s.database_url},
                    "environ": {k: v for k, v in os.environ.items() if k.isupper()}}

    return routes
