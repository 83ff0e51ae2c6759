"""The frontend: server-rendered pages and static assets (content-hashed names, long-lived cache headers).

Run: python -m sandbox.frontend   (port from SANDBOX_PORT; the API base URL from API_BASE_URL or SANDBOX_API_URL)
"""
from __future__ import annotations

import hashlib
import html
import logging
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from . import config

log = logging.getLogger("frontend")
STATIC_DIR = config.SANDBOX_DIR / "static"
I18N_DIR = config.SANDBOX_DIR / "i18n"
IMMUTABLE = "public, max-age=31536000, immutable"
MISSING_ASSET = "/static/settings.3f2a9c1d.css"  # referenced by the frontend_broken_asset fault; never exists
POWERED_BY = "Express"  # what the x_powered_by fault announces (Express's default, as when Helmet is left out)
# what the script_secret fault pastes into app.js: key-shaped (AWS, Stripe), not real keys
SCRIPT_SECRETS = (b'\nwindow.PAYMENT_CONFIG = {awsAccessKeyId: "AKIA' + b"SANDBOXFAKEKEY01" + b'", '
                  b'stripeKey: "sk_live_' + b"SandboxFakeStripeKey0001" + b'"};\n')


def source_map(name: str, data: bytes) -> dict:
    """A version 3 source map of one script, with its sources inlined (what a build leaves when maps ship)."""
    return {"version": 3, "file": name, "sources": ["webpack:///src/app.js"],
            "sourcesContent": [data.decode()], "names": [], "mappings": "AAAA"}


class Assets:
    """Static files served under content-hashed names: app.js -> app.<8 hex of sha256>.js.

    ``hashed=False`` (the unhashed_assets fault: a build that skipped the hashing step) serves and references
    them under their plain names (/static/app.js), with the same year-long cache headers.
    """

    def __init__(self, directory: Path, hashed: bool = True):
        self.by_name: dict[str, str] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
        for p in sorted(directory.iterdir()):
            if p.suffix not in types:
                continue
            data = p.read_bytes()
            served = f"{p.stem}.{hashlib.sha256(data).hexdigest()[:8]}{p.suffix}" if hashed else p.name
            self.by_name[p.name] = f"/static/{served}"
            self.files[served] = (data, types[p.suffix])

    def url(self, name: str) -> str:
        return self.by_name[name]


def create_app() -> FastAPI:
    faults = config.faults()
    api_base = config.env_str("API_BASE_URL", config.env_str("SANDBOX_API_URL", "http://127.0.0.1:8000")).rstrip("/")
    api_health_url = config.env_str("SANDBOX_API_URL", api_base).rstrip("/") + "/health"
    if "frontend_api_unreachable" in faults:  # deployed with a wrong server-side API URL (a closed port)
        api_health_url = "http://127.0.0.1:1/health"
    parts = urlsplit(api_base)
    api_origin = f"{parts.scheme}://{parts.netloc}"
    assets = Assets(STATIC_DIR, hashed="unhashed_assets" not in faults)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    client = httpx.Client(timeout=2.0)

    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           f"connect-src 'self' {api_origin}; font-src 'self'; object-src 'none'; base-uri 'self'; "
           "form-action 'self'; frame-ancestors 'none'")
    if "weak_csp" in faults:  # loosened for an inline analytics snippet: inline and eval'd scripts from anywhere
        csp = "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' *; object-src 'none'"
    security = {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": csp,
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        if "no_security_headers" not in faults:
            for k, v in security.items():
                response.headers.setdefault(k, v)
        if "x_powered_by" in faults:  # the framework's default banner, left on
            response.headers["X-Powered-By"] = POWERED_BY
        return response

    def page(title: str, page_id: str, body: str, *, nav: bool = True, i18n_key: str = "") -> Response:
        extra_css = ""
        if page_id in ("settings", "history") and "frontend_broken_asset" in faults:
            extra_css = f'\n  <link rel="stylesheet" href="{MISSING_ASSET}">'
        # what the release's JS does wrong on this page (app.js reads the space-separated tokens of data-fault)
        page_faults = []
        if page_id in ("settings", "history") and "frontend_js_error" in faults:
            page_faults.append("js-error")
        if page_id == "history" and "history_badges_missing" in faults:
            page_faults.append("plain-status")
        fault_attr = f' data-fault="{" ".join(page_faults)}"' if page_faults else ""
        navbar = ""
        if nav:
            navbar = (
                '<header class="topbar"><span class="brand" data-i18n="app.title">Notification Platform</span>'
                '<a href="/dashboard" data-i18n="nav.dashboard">Dashboard</a>'
                '<a href="/settings/notifications" data-i18n="nav.settings">Notification settings</a>'
                '<a href="/settings/notifications/history" data-i18n="nav.history">Notification history</a>'
                '<button type="button" id="sign-out" class="link" data-i18n="nav.signout">Sign out</button>'
                '</header>')
        doc = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="api-base-url" content="{html.escape(api_base)}">
  <title>{html.escape(title)} · Notification Platform</title>
  <link rel="icon" type="image/svg+xml" href="{assets.url('favicon.svg')}">
  <link rel="stylesheet" href="{assets.url('app.css')}">{extra_css}
  <script src="{assets.url('app.js')}" defer></script>
</head>
<body data-page="{page_id}"{fault_attr}>
{navbar}
<main>
  <h1 data-i18n="{i18n_key}">{html.escape(title)}</h1>
{body}
</main>
</body>
</html>
"""
        cache = IMMUTABLE if "html_cached_immutable" in faults else "no-cache"
        return Response(doc, media_type="text/html; charset=utf-8", headers={"Cache-Control": cache})

    @app.get("/health")
    def health():
        try:
            r = client.get(api_health_url)
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            state = "ok" if r.status_code == 200 else ("maintenance" if body.get("status") == "maintenance"
                                                       else "error")
        except (httpx.HTTPError, ValueError) as e:
            log.error("health: api check failed: %s", e)
            state = "error"
        # frontend_api_unreachable: the health reports the API down but still answers "ok"
        ok = state == "ok" or "frontend_api_unreachable" in faults
        return JSONResponse({"status": "ok" if ok else "error", "service": "frontend", "checks": {"api": state}},
                            status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})

    @app.get("/version")
    def version():
        return JSONResponse({"version": config.RELEASE_VERSION, "service": "frontend"},
                            headers={"Cache-Control": "no-store"})

    @app.get("/")
    def root():
        return RedirectResponse("/dashboard", status_code=302)

    @app.get("/login")
    def login():
        return page("Sign in", "login", """  <form id="login-form" class="card" novalidate>
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
    <div id="login-error" class="alert" role="alert" hidden></div>
  </form>""", nav=False, i18n_key="login.title")

    @app.get("/dashboard")
    def dashboard():
        return page("Dashboard", "dashboard", """  <section class="card" id="profile" hidden>
    <p>Signed in as <strong id="user-email"></strong> (<span id="user-role"></span>)</p>
    <p><span data-i18n="dashboard.unread">Unread notifications</span>: <strong id="unread-count">0</strong></p>
  </section>
  <div id="dashboard-error" class="alert" role="alert" hidden></div>""", i18n_key="dashboard.title")

    @app.get("/orders/{order_id}")
    def order(order_id: str):  # where a receipt's "View your order" link leads
        return page("Your order", "order", """  <section class="card" id="order" data-order-id="" hidden>
    <p>Order <code id="order-id"></code></p>
  </section>
  <div id="order-error" class="alert" role="alert" hidden></div>""")

    @app.get("/settings/notifications")
    def settings():
        return page("Notification settings", "settings", """  <form id="preferences-form" class="card" hidden>
    <label class="inline" for="staff_notifications_enabled"><input type="checkbox" id="staff_notifications_enabled" name="staff_notifications_enabled"> <span data-i18n="settings.staff">Staff notifications for new orders</span></label>
    <label class="inline" for="email_enabled"><input type="checkbox" id="email_enabled" name="email_enabled"> <span data-i18n="settings.email">Email notifications</span></label>
    <button type="submit" data-i18n="settings.save">Save preferences</button>
    <div id="settings-saved" class="notice" role="status" hidden></div>
  </form>
  <div id="settings-error" class="alert" role="alert" hidden></div>""", i18n_key="settings.title")

    @app.get("/settings/notifications/history")
    def history():
        return page("Notification history", "history", """  <section id="history" hidden>
    <p class="muted">Total: <span id="history-total">0</span></p>
    <table id="history-table">
      <thead><tr><th>Created</th><th>Type</th><th>Recipient</th><th>Subject</th><th>Status</th><th>Error</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="history-empty" class="muted" data-i18n="history.empty" hidden>No notifications yet</p>
  </section>
  <div id="history-error" class="alert" role="alert" hidden></div>""", i18n_key="history.title")

    @app.get("/static/{name}")
    def static(name: str):
        if "source_maps" in faults and name.endswith(".js.map") and name[:-4] in assets.files:
            return JSONResponse(source_map(name[:-4], assets.files[name[:-4]][0]))
        f = assets.files.get(name)
        if f is None:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        cache = "no-store" if "no_cache_headers" in faults else IMMUTABLE
        etag = '"' + hashlib.sha256(f[0]).hexdigest()[:8] + '"'
        data = f[0]
        if name.endswith(".js") and "script_secret" in faults:  # keys pasted into the bundle's configuration
            data += SCRIPT_SECRETS
        if name.endswith(".js") and "source_maps" in faults:  # the production build kept its source maps
            data += f"\n//# sourceMappingURL={name}.map\n".encode()
        return Response(data, media_type=f[1], headers={"Cache-Control": cache, "ETag": etag})

    @app.get("/static/")
    def static_index():
        if "directory_listing" not in faults:  # autoindex left on for the static folder
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        links = "".join(f'<a href="{n}">{n}</a>\n' for n in sorted(assets.files))
        return HTMLResponse(f"<html><head><title>Index of /static/</title></head><body><h1>Index of /static/</h1>"
                            f"<pre>{links}</pre></body></html>")

    @app.get("/.env")
    def dotenv():
        if "exposed_dotenv" not in faults:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return Response("ENVIRONMENT=production\nJWT_SECRET=sandbox-leaked-jwt-secret\n"
                        "DATABASE_URL=postgresql://app:app@db:5432/app\n", media_type="text/plain")

    @app.get("/favicon.ico")
    def favicon():
        data, ctype = assets.files[assets.url("favicon.svg").rsplit("/", 1)[1]]
        return Response(data, media_type=ctype, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/i18n/{lang}.json")
    def i18n(lang: str):
        path = I18N_DIR / f"{lang}.json"
        if "i18n_missing" in faults or lang not in ("en", "es") or not path.exists():
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        body = b"{}" if "i18n_empty" in faults else path.read_bytes()  # a build step that lost the strings
        return Response(body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})

    @app.get("/asset-manifest.json")
    def manifest():
        return JSONResponse(assets.by_name, headers={"Cache-Control": "no-cache"})

    return app


def main() -> None:
    import uvicorn
    config.startup_check_or_exit("frontend")
    config.setup_logging("frontend", "WARNING")
    port = config.env_int("SANDBOX_PORT", config.env_int("PORT", 3000))
    uvicorn.run(create_app(), host=config.env_str("SANDBOX_HOST", "127.0.0.1"), port=port, log_config=None,
                access_log=False, timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
