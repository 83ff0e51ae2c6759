"""The helpdesk target (targets/helpdesk): a second reference system, shaped unlike the sandbox.

Real processes and real HTTP. Each fault is proven by a detector that finds nothing on the healthy instance
and finds the fault on the instance started with it.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from helpdesk_harness import Helpdesk, base_env, to

from targets.helpdesk import config, launcher

REPO_ROOT = Path(__file__).resolve().parents[2]
EVIL_ORIGIN = "https://evil.example"
# one worker runs the whole module, in order: its instances are module-scoped and the last test stops them
pytestmark = pytest.mark.xdist_group("helpdesk")


# ----------------------------------------------------------------------------------------------- API


def test_health_is_a_bare_true(helpdesk: Helpdesk):
    r = helpdesk.http.get(f"{helpdesk.api}/api/v1/utils/health-check/")
    assert r.status_code == 200
    assert r.text == "true"


def test_login_is_an_oauth2_password_form(helpdesk: Helpdesk):
    alice = helpdesk.accounts["user"]
    r = helpdesk.login(alice["email"], alice["password"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["access_token"].count(".") == 2
    wrong = helpdesk.login(alice["email"], "not-the-password")
    assert (wrong.status_code, wrong.json()) == (400, {"detail": "Incorrect email or password"})
    as_json = helpdesk.http.post(f"{helpdesk.api}/api/v1/login/access-token",
                                 json={"username": alice["email"], "password": alice["password"]})
    assert as_json.status_code == 422
    me = helpdesk.http.get(f"{helpdesk.api}/api/v1/users/me", headers=helpdesk.auth("user"))
    assert me.status_code == 200
    assert me.json()["email"] == alice["email"] and me.json()["full_name"] == "Alice Example"
    assert me.json()["is_superuser"] is False
    assert helpdesk.http.get(f"{helpdesk.api}/api/v1/users/me").status_code == 401
    assert helpdesk.http.get(f"{helpdesk.api}/api/v1/users/me",
                             headers={"Authorization": "Bearer not.a.token"}).status_code == 403


def test_session_cookie_login(helpdesk: Helpdesk):
    alice = helpdesk.accounts["user"]
    with httpx.Client(timeout=10) as client:
        r = client.post(f"{helpdesk.api}/api/v1/login/session",
                        data={"username": alice["email"], "password": alice["password"]})
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("helpdesk_session=") and "HttpOnly" in cookie
        me = client.get(f"{helpdesk.api}/api/v1/users/me")  # the cookie alone
        assert me.status_code == 200 and me.json()["email"] == alice["email"]
        assert client.get(f"{helpdesk.api}/api/v1/items/").status_code == 200
    # an access token is no session cookie
    token = helpdesk.auth("user")["Authorization"].split()[1]
    with httpx.Client(timeout=10, cookies={"helpdesk_session": token}) as client:
        assert client.get(f"{helpdesk.api}/api/v1/users/me").status_code == 403


def test_items_are_the_callers_and_routes_end_with_a_slash(helpdesk: Helpdesk):
    api, alice, admin = helpdesk.api, helpdesk.auth("user"), helpdesk.auth("superuser")
    listed = helpdesk.http.get(f"{api}/api/v1/items/", headers=alice)
    assert listed.status_code == 200
    assert set(listed.json()) == {"data", "count"} and listed.json()["count"] >= 1
    created = helpdesk.http.post(f"{api}/api/v1/items/", headers=alice,
                                 json={"title": "VPN drops every hour", "description": "since Monday"})
    assert created.status_code == 200, created.text
    item = created.json()
    assert item["title"] == "VPN drops every hour"
    ids = [i["id"] for i in helpdesk.http.get(f"{api}/api/v1/items/", headers=alice).json()["data"]]
    assert item["id"] in ids
    assert item["id"] not in [i["id"] for i in helpdesk.http.get(f"{api}/api/v1/items/", headers=admin).json()["data"]]
    assert helpdesk.http.get(f"{api}/api/v1/items/{item['id']}", headers=alice).json() == item
    no_slash = helpdesk.http.get(f"{api}/api/v1/items", headers=alice)
    assert no_slash.status_code == 307 and no_slash.headers["location"].endswith("/api/v1/items/")
    # someone else's item
    _, _, _ = other = helpdesk.signup()
    other_auth = {"Authorization": "Bearer " + helpdesk.login(other[0], other[1]).json()["access_token"]}
    assert helpdesk.http.get(f"{api}/api/v1/items/{item['id']}", headers=other_auth).status_code == 400
    assert helpdesk.http.delete(f"{api}/api/v1/items/{item['id']}", headers=alice).status_code == 200
    assert helpdesk.http.get(f"{api}/api/v1/items/{item['id']}", headers=alice).status_code == 404
    assert helpdesk.http.delete(f"{api}/api/v1/users/{other[2]['id']}", headers=admin).status_code == 200


def test_signup_sends_a_new_account_email_and_a_superuser_deletes_users(helpdesk: Helpdesk):
    email, password, user = helpdesk.signup(full_name="Grace Hopper")
    assert user["email"] == email and user["full_name"] == "Grace Hopper" and user["is_superuser"] is False
    again = helpdesk.http.post(f"{helpdesk.api}/api/v1/users/signup",
                               json={"email": email, "password": password, "full_name": "x"})
    assert again.status_code == 400
    mail = helpdesk.wait_for_email(to(email, "New account"))
    assert mail is not None, "no 'new account' email"
    assert f"{helpdesk.frontend}/login" in mail["text"] and f"{helpdesk.frontend}/login" in mail["html"]
    assert helpdesk.login(email, password).status_code == 200
    # cleanup is for superusers only
    own = {"Authorization": "Bearer " + helpdesk.login(email, password).json()["access_token"]}
    assert helpdesk.http.delete(f"{helpdesk.api}/api/v1/users/{user['id']}", headers=own).status_code == 403
    r = helpdesk.http.delete(f"{helpdesk.api}/api/v1/users/{user['id']}", headers=helpdesk.auth("superuser"))
    assert r.status_code == 200, r.text
    assert helpdesk.login(email, password).status_code == 400


def _reset_token(helpdesk: Helpdesk, email: str) -> str:
    r = helpdesk.http.post(f"{helpdesk.api}/api/v1/password-recovery/{email}")
    assert r.status_code == 200, r.text
    mail = helpdesk.wait_for_email(to(email, "Password recovery"))
    assert mail is not None, "no password recovery email"
    link = re.search(r'href="([^"]+)"', mail["html"]).group(1).replace("&amp;", "&")
    assert link.startswith(f"{helpdesk.frontend}/reset-password?token=")
    assert link in mail["text"]
    return parse_qs(urlsplit(link).query)["token"][0]


def test_password_recovery_sends_a_link_whose_token_works_once(helpdesk: Helpdesk):
    email, _, _ = helpdesk.signup()
    token = _reset_token(helpdesk, email)
    url = f"{helpdesk.api}/api/v1/reset-password/"
    r = helpdesk.http.post(url, json={"token": token, "new_password": "brand-new-password"})
    assert r.status_code == 200, r.text
    assert helpdesk.login(email, "brand-new-password").status_code == 200
    second = helpdesk.http.post(url, json={"token": token, "new_password": "another-password"})
    assert second.status_code == 400 and second.json() == {"detail": "Invalid token"}
    assert helpdesk.http.post(url, json={"token": "forged", "new_password": "another-password"}).status_code == 400
    assert helpdesk.http.post(f"{helpdesk.api}/api/v1/password-recovery/nobody@example.com").status_code == 404


def test_openapi_is_served_and_docs_are_off(helpdesk: Helpdesk):
    r = helpdesk.http.get(f"{helpdesk.api}/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ("/api/v1/login/access-token", "/api/v1/items/", "/api/v1/items/{item_id}", "/api/v1/users/me",
              "/api/v1/users/signup", "/api/v1/reset-password/", "/api/v1/utils/health-check/"):
        assert p in paths
    assert helpdesk.http.get(f"{helpdesk.api}/docs").status_code == 404
    assert helpdesk.http.get(f"{helpdesk.api}/redoc").status_code == 404


def test_cors_allows_exactly_the_frontend(helpdesk: Helpdesk):
    preflight = helpdesk.http.options(f"{helpdesk.api}/api/v1/items/", headers={
        "Origin": helpdesk.frontend, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == helpdesk.frontend
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert not cors_reflects_any(helpdesk)


def test_frontend_serves_the_single_page_app(helpdesk: Helpdesk):
    for path in ("/", "/login", "/signup", "/recover-password", "/reset-password?token=x"):
        r = helpdesk.http.get(helpdesk.frontend + path)
        assert r.status_code == 200 and '<div id="app">' in r.text, path
    js = helpdesk.http.get(f"{helpdesk.frontend}/assets/app.js")
    assert js.status_code == 200 and helpdesk.api in js.text
    assert helpdesk.http.get(f"{helpdesk.frontend}/assets/missing.js").status_code == 404


# ----------------------------------------------------------------------------------------------- launcher


def test_state_and_cli_status(helpdesk: Helpdesk):
    state = helpdesk.state
    assert set(state) >= {"state_dir", "started_at", "faults", "services", "database", "accounts", "logs"}
    assert state["faults"] == [] and "processes" not in state
    assert set(state["accounts"]) == {"superuser", "user"}
    out = subprocess.run([sys.executable, "-m", "targets.helpdesk", "status", "--json", "--state-dir",
                          state["state_dir"]], capture_output=True, text=True, cwd=REPO_ROOT, timeout=30, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["services"] == state["services"]
    again = launcher.start(Path(state["state_dir"]), env=base_env())
    assert again["already_running"] is True and again["services"] == state["services"]
    recorded = json.loads(Path(state["state_dir"], "state.json").read_text())["processes"]
    assert set(recorded) == {"maildev", "api", "frontend"}


def test_unknown_fault_refuses_to_start(tmp_path: Path):
    with pytest.raises(launcher.HelpdeskError, match="unknown fault.*no_such_fault.*known faults: .*database_down"):
        launcher.start(tmp_path / "s", env=base_env(HELPDESK_FAULTS="token_in_url,no_such_fault"))
    assert not (tmp_path / "s" / "state.json").exists()
    env = base_env(HELPDESK_FAULTS="no_such_fault", PYTHONPATH=str(REPO_ROOT))
    out = subprocess.run([sys.executable, "-m", "targets.helpdesk.frontend"], env=env, capture_output=True,
                         text=True, cwd=REPO_ROOT, timeout=30, check=False)
    assert out.returncode == 2 and "refusing to start" in out.stderr and "no_such_fault" in out.stderr
    assert set(config.FAULTS) >= {"database_down", "reset_token_reusable", "signup_email_missing",
                                  "cors_reflect_any", "token_in_url", "login_form_broken"}


# ----------------------------------------------------------------------------------------------- faults
# each detector: False on the healthy instance, True on the instance started with the fault

def database_hidden_behind_health(h: Helpdesk) -> bool:
    health = h.http.get(f"{h.api}/api/v1/utils/health-check/")
    assert health.status_code == 200 and health.json() is True  # health never tells
    now = dt.datetime.now(dt.UTC)
    token = jwt.encode({"sub": "any", "type": "access", "exp": now + dt.timedelta(minutes=5)}, h.secret_key)
    items = h.http.get(f"{h.api}/api/v1/items/", headers={"Authorization": f"Bearer {token}"})
    a = h.accounts["user"]
    login = h.login(a["email"], a["password"])
    return items.status_code == 500 and login.status_code == 500


def reset_token_reusable(h: Helpdesk) -> bool:
    email, _, _ = h.signup()
    token = _reset_token(h, email)
    url = f"{h.api}/api/v1/reset-password/"
    assert h.http.post(url, json={"token": token, "new_password": "first-new-password"}).status_code == 200
    return h.http.post(url, json={"token": token, "new_password": "second-new-password"}).status_code == 200


def signup_email_missing(h: Helpdesk) -> bool:
    email, _, _ = h.signup()
    # emails go out in order, synchronously: once the later recovery email is in, the signup email would be
    _reset_token(h, email)
    return not [e for e in h.emails() if to(email, "New account")(e)]


def cors_reflects_any(h: Helpdesk) -> bool:
    r = h.http.get(f"{h.api}/api/v1/utils/health-check/", headers={"Origin": EVIL_ORIGIN})
    return (r.headers.get("access-control-allow-origin") == EVIL_ORIGIN
            and r.headers.get("access-control-allow-credentials") == "true")


@pytest.mark.parametrize("instance, expected", [("healthy", False), ("database_down", True)])
def test_fault_database_down(helpdesks, instance, expected):
    assert database_hidden_behind_health(helpdesks[instance]) is expected


@pytest.mark.parametrize("instance, expected", [("healthy", False), ("faulty", True)])
@pytest.mark.parametrize("detector", [reset_token_reusable, signup_email_missing, cors_reflects_any],
                         ids=lambda d: d.__name__)
def test_fault_api(helpdesks, instance, expected, detector):
    assert detector(helpdesks[instance]) is expected


# ----------------------------------------------------------------------------------------------- browser


def log_in_through_the_form(page, h: Helpdesk, account: str = "user") -> None:
    a = h.accounts[account]
    page.goto(f"{h.frontend}/login")
    page.get_by_label("Email").fill(a["email"])
    page.get_by_label("Password", exact=True).fill(a["password"])
    page.get_by_role("button", name="Log In").click()


def test_browser_login_through_the_form(page, helpdesk: Helpdesk):
    from playwright.sync_api import expect

    page.goto(helpdesk.frontend + "/")
    expect(page).to_have_url(f"{helpdesk.frontend}/login")  # no token: the dashboard sends you to log in
    # the form's shape: "Show password" is also matched by get_by_label("Password")
    assert page.get_by_label("Password").count() == 2
    assert page.get_by_role("button", name="Log In").get_attribute("type") is None
    expect(page.get_by_label("Remember me")).not_to_be_checked()
    page.get_by_label("Show password").click()
    expect(page.locator("#password")).to_have_attribute("type", "text")
    log_in_through_the_form(page, helpdesk)
    expect(page.get_by_role("heading", name="Welcome, Alice Example")).to_be_visible()
    assert page.url == f"{helpdesk.frontend}/"
    assert page.evaluate("localStorage.getItem('access_token')").count(".") == 2
    expect(page.get_by_text("Printer on floor 2 is jammed")).to_be_visible()
    page.get_by_role("button", name="Log Out").click()
    expect(page).to_have_url(f"{helpdesk.frontend}/login")
    assert page.evaluate("localStorage.getItem('access_token')") is None


def token_in_url(page, h: Helpdesk) -> bool:
    from playwright.sync_api import expect

    log_in_through_the_form(page, h)
    expect(page.get_by_role("heading", name="Welcome, Alice Example")).to_be_visible()
    token = page.evaluate("localStorage.getItem('access_token')")
    return token in page.url


def login_form_broken(page, h: Helpdesk) -> bool:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        with page.expect_request(lambda r: "/api/v1/login/access-token" in r.url, timeout=3000):
            log_in_through_the_form(page, h)
    except PlaywrightTimeout:
        return page.url == f"{h.frontend}/login"
    return False


@pytest.mark.parametrize("instance, expected", [("healthy", False), ("faulty", True)])
def test_fault_token_in_url(page, helpdesks, instance, expected):
    assert token_in_url(page, helpdesks[instance]) is expected


@pytest.mark.parametrize("instance, expected", [("healthy", False), ("login_form_broken", True)])
def test_fault_login_form_broken(page, helpdesks, instance, expected):
    assert login_form_broken(page, helpdesks[instance]) is expected


# ----------------------------------------------------------------------------------------------- last: stop


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def test_stop_leaves_no_process_and_no_data(helpdesks: dict[str, Helpdesk]):
    """Runs last in the module: stops every instance (the fixture's own stop then finds nothing)."""
    for h in helpdesks.values():
        state_dir = Path(h.state["state_dir"])
        procs = json.loads((state_dir / "state.json").read_text())["processes"]
        assert launcher.stop(state_dir) is True
        assert not [n for n, rec in procs.items() if _alive(rec["pid"])]
        assert not (state_dir / "state.json").exists() and not (state_dir / "data").exists()
        assert launcher.status(state_dir) is None
        assert launcher.stop(state_dir) is False
