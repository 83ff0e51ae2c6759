"""The baseline: the same requests and page visits as `pytest --env=local -m smoke`, as a plain script.

No framework, no evidence, no report: just httpx and Playwright. Reads the sandbox's status file
(path in argv[1]) for addresses and accounts. Exits non-zero if anything is not as the smoke run expects.
"""

import json
import re
import sys

import httpx
from playwright.sync_api import sync_playwright

state = json.load(open(sys.argv[1]))
api, worker, frontend = (state["services"][n]["url"] for n in ("api", "worker", "frontend"))
accounts = state["accounts"]
c = httpx.Client(timeout=10)


def get(url, **kw):
    return c.get(url, **kw)


for url in (api + "/health", worker + "/health", frontend + "/health", api + "/health", api + "/api/v1/health",
            api + "/api/v1/health"):
    assert get(url).status_code == 200
tokens = {}
for role in ("admin", "staff", "customer"):
    r = c.post(api + "/api/v1/auth/login", json={"email": accounts[role]["email"], "password": accounts[role]["password"]})
    tokens[role] = r.json()["access_token"]
    assert get(api + "/api/v1/users/me", headers={"Authorization": "Bearer " + tokens[role]}).status_code == 200
auth = {"Authorization": "Bearer " + tokens["admin"]}
assert get(api + "/api/v1/users/me", headers=auth).json()["role"] == "admin"
for path in ("/api/v1/users/me", "/api/v1/users/notification-preferences", "/api/v1/notifications/history",
             "/api/v1/notifications/config", "/api/v2/users/me"):
    assert get(api + path).status_code == 401
assert get(api + "/api/v1/users/me", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
for path in ("/api/v1/notifications/config", "/api/v1/notifications/history"):
    assert get(api + path, headers={"Authorization": "Bearer " + tokens["customer"]}).status_code == 403
page = get(frontend + "/login")
for asset in set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)):
    assert "max-age=31536000" in get(frontend + asset).headers.get("cache-control", "")
for path in ("/i18n/en.json", "/i18n/es.json"):
    assert get(frontend + path).status_code == 200
for url in (api + "/api/v1/health", frontend + "/login"):
    assert "x-content-type-options" in get(url).headers
for origin in (frontend, "https://evil.example"):
    c.options(api + "/api/v1/users/me", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
for path in ("/docs", "/redoc", "/openapi.json", "/swagger.json", "/swagger-ui.html", "/swagger-ui/", "/api-docs",
             "/v3/api-docs", "/api/docs", "/api/v1/docs", "/api/v1/openapi.json"):
    assert get(api + path).status_code != 200
for path in ("/api/v1/no-such-route", "/api/v1/orders/not-a-number"):
    assert "Traceback" not in get(api + path).text
c.post(api + "/api/v1/auth/login", content=b'{"email": [', headers={"Content-Type": "application/json"})
get(api + "/api/v1/users/me", headers={"Authorization": "Bearer not-a-jwt"})
for url in (api + "/metrics", worker + "/metrics"):
    assert get(url).status_code == 200

args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    for target in ("/settings/notifications", "/settings/notifications/history"):
        context = browser.new_context(base_url=frontend)
        pg = context.new_page()
        errors = []
        pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
        pg.goto("/login")
        pg.get_by_label("Email").fill(accounts["admin"]["email"])
        pg.get_by_label("Password").fill(accounts["admin"]["password"])
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url("**/dashboard")
        pg.wait_for_load_state("networkidle")
        pg.goto(target, wait_until="networkidle")
        pg.screenshot(full_page=True)
        assert not errors, errors
        context.close()
    browser.close()
print("plain smoke: ok")
