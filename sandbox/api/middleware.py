"""What every answer of the api goes through: error bodies (with a trace under DEBUG), maintenance mode, security
and CORS headers, CORS preflights, the general rate limit, the faults that act on every route (v1_removed,
slow_api, slow_api_routes, json_as_text_plain, x_powered_by, ...) and the request metrics."""

import asyncio
import math
import time
import traceback
from collections.abc import Callable
from typing import Any

import jwt
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from limits import RateLimitItem
from limits.strategies import FixedWindowRateLimiter
from starlette.exceptions import HTTPException as StarletteHTTPException

from .common import POWERED_BY, Settings, log

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "frame-ancestors 'none'")


class RacyCounter:
    """A fixed-window counter that reads, awaits and then writes (rate_limit_racy): requests in flight at once all
    read the same count, so a concurrent burst gets through past the limit; one at a time it counts right."""

    def __init__(self, limit: int, window_s: int) -> None:
        self.limit, self.window_s, self.counts = limit, window_s, {}

    async def hit(self, key: str) -> tuple[bool, int, float]:
        # the window starts at a key's first hit, as the limits library's memory storage does
        now = time.time()
        start, seen = self.counts.get(key, (now, 0))
        if now >= start + self.window_s:
            start, seen = now, 0
        await asyncio.sleep(0.05)  # a round trip to a shared store
        self.counts[key] = (start, seen + 1)
        return seen < self.limit, self.limit - seen - 1, start + self.window_s


def install(app: FastAPI, s: Settings, limiter: FixedWindowRateLimiter, general_limit: RateLimitItem,
            observe: Callable[[Request, Response, float, str], None]) -> None:
    """Register the exception handlers and the HTTP middleware; ``observe`` records a request's metrics."""

    # ------------------------------------------------------------------------------------------- errors

    def error_body(status: int, detail: Any, exc: BaseException | None = None) -> dict:
        body: dict[str, Any] = {"detail": detail}
        if s.debug:
            if exc is not None and exc.__traceback__ is not None:
                body["trace"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            else:
                try:
                    raise RuntimeError(f"HTTP {status}: {detail}")
                except RuntimeError as e:
                    body["trace"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        return body

    def error_response(status: int, detail: Any, headers: dict | None = None, exc=None) -> JSONResponse:
        return JSONResponse(error_body(status, detail, exc), status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_exc(request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, exc.detail, getattr(exc, "headers", None), exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_exc(request: Request, exc: RequestValidationError):
        from fastapi.encoders import jsonable_encoder
        return error_response(422, jsonable_encoder(exc.errors()), None, exc)

    # ------------------------------------------------------------------------------------------- middleware

    def origin_allowed(origin: str) -> bool:
        """Whether CORS_ORIGINS lets ``origin`` in: exactly, unless a fault makes the comparison careless."""
        origin = origin.rstrip("/")
        if origin in s.cors_origins:
            return True
        if "cors_allow_null" in s.faults and origin == "null":  # sandboxed iframes, file:// pages, redirects
            return True
        if "cors_suffix_match" in s.faults and any(origin.startswith(a) for a in s.cors_origins):
            return True  # a prefix test: https://app.example.com.evil.example passes as https://app.example.com
        if "cors_allow_http" in s.faults:  # the scheme is not compared: http:// passes for an https:// origin
            host = origin.partition("://")[2]
            return origin.startswith(("http://", "https://")) and any(
                a.startswith(("http://", "https://")) and a.partition("://")[2] == host for a in s.cors_origins)
        return False

    def cors_headers(origin: str | None) -> dict[str, str]:
        if not origin:
            return {}
        if "cors_reflect_any" in s.faults:
            return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                    "Vary": "Origin"}
        if "*" in s.cors_origins:  # the classic misconfiguration: wildcard together with credentials
            return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}
        if origin_allowed(origin):
            return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
                    "Vary": "Origin"}
        if "cors_wildcard_credentials" in s.faults:  # unlisted origins fall back to the wildcard, credentials still on
            return {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}
        if "cors_credentials_without_origin" in s.faults:  # half a refusal: no origin, but credentials allowed
            return {"Access-Control-Allow-Credentials": "true", "Vary": "Origin"}
        return {"Vary": "Origin"}

    racy = RacyCounter(general_limit.amount, s.rate_window_s)

    def rate_key(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            try:
                claims = jwt.decode(auth[7:].strip(), s.jwt_secret, algorithms=[s.jwt_algorithm])
                return f"user:{claims.get('sub')}"
            except jwt.PyJWTError:
                pass
        return f"ip:{request.client.host if request.client else 'unknown'}"

    def finish(response: Response, request: Request, extra: dict | None = None) -> Response:
        if "no_security_headers" not in s.faults:
            for k, v in SECURITY_HEADERS.items():
                response.headers.setdefault(k, v)
            if request.url.path in ("/docs", "/redoc"):
                response.headers["Content-Security-Policy"] = DOCS_CSP
        for k, v in cors_headers(request.headers.get("origin")).items():
            if k == "Vary" and "vary" in response.headers and "Origin" not in response.headers["vary"]:
                response.headers["Vary"] = response.headers["vary"] + ", Origin"
            else:
                response.headers[k] = v
        for k, v in (extra or {}).items():
            if k.lower() not in response.headers:
                response.headers[k] = v
        if "x_powered_by" in s.faults:  # the framework's default banner, left on
            response.headers["X-Powered-By"] = POWERED_BY
        return response

    @app.middleware("http")
    async def platform_middleware(request: Request, call_next):
        start = time.perf_counter()
        path = request.url.path
        if s.maintenance:
            return finish(JSONResponse({"status": "maintenance", "detail": "Scheduled maintenance"},
                                       status_code=503, headers={"Retry-After": "300"}), request)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            origin = request.headers.get("origin")
            h = cors_headers(origin)
            if "Access-Control-Allow-Origin" in h:
                h.update({"Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                          "Access-Control-Allow-Headers": request.headers.get(
                              "access-control-request-headers", "Authorization, Content-Type"),
                          "Access-Control-Max-Age": "600"})
            return finish(Response(status_code=204), request, h)
        extra: dict[str, str] = {}
        if path.startswith("/api/") and not path.endswith("/health") and "rate_limit_disabled" not in s.faults:
            key = "global" if "rate_limit_global" in s.faults else rate_key(request)
            if "rate_limit_racy" in s.faults:  # read, think, write: concurrent requests all read the same count
                allowed, remaining, reset = await racy.hit(key)
            else:
                allowed = limiter.hit(general_limit, "general", key)
                reset, remaining = limiter.get_window_stats(general_limit, "general", key)
            if "rate_limit_no_reset" in s.faults:
                reset = time.time() + s.rate_window_s  # it says the window ends soon; it does not
            shown = general_limit.amount if "rate_limit_headers_lie" in s.faults else max(remaining, 0)
            extra = {"X-RateLimit-Limit": str(general_limit.amount),
                     "X-RateLimit-Remaining": str(shown),
                     "X-RateLimit-Reset": str(int(math.ceil(reset)))}
            if not allowed:
                retry = max(1, int(math.ceil(reset - time.time())))
                if "rate_limit_no_retry_after" not in s.faults:
                    extra["Retry-After"] = str(retry)
                resp = error_response(429, f"Rate limit exceeded: {general_limit.amount} requests per "
                                           f"{s.rate_window_s} s")
                observe(request, resp, start, "rate_limited")
                return finish(resp, request, extra)
        if path.startswith("/api/v1/") and "v1_removed" in s.faults and \
                path.startswith(("/api/v1/orders", "/api/v1/users")):
            return finish(error_response(410, "API v1 has been removed; use /api/v2"), request, extra)
        if path.startswith("/api/") and "slow_api" in s.faults:
            await asyncio.sleep(1.5)
        if "slow_api_routes" in s.faults and request.method == "GET" and path in ("/api/v1/orders", "/api/v2/orders"):
            await asyncio.sleep(1.5)  # a listing that got slow in this release (N+1 queries); health stays fast
        try:
            response = await call_next(request)
        except Exception as e:  # unhandled: 500 with the same headers as every other answer
            log.exception("unhandled error on %s %s", request.method, path)
            if isinstance(e, psycopg.Error):
                log.error("database_exception: %s", e)
            response = error_response(500, "Internal Server Error", exc=e)
        if "json_as_text_plain" in s.faults and path.startswith("/api/") and 200 <= response.status_code < 300 \
                and response.headers.get("content-type", "").startswith("application/json"):
            response.headers["content-type"] = "text/plain; charset=utf-8"
        route = request.scope.get("route")
        observe(request, response, start, getattr(route, "path", "unmatched"))
        return finish(response, request, extra)
