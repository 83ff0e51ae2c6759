"""Locating things on a page the way people and Playwright do, in a real Chromium (issue 14, item 2): exact
labels (a "Show password" toggle is not the "Password" field), placeholders, test ids, roles and names, buttons
without a type; none or several is a one-line failure; a cookie sign-in puts the cookie on the frontend's address."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from postdeploy import browser as browser_lib
from postdeploy import environment
from postdeploy.auth import Credentials
from postdeploy.errors import CheckFailed, EnvironmentFileError, SuiteError

FORM = """<!doctype html><title>Log in</title>
<form id="login">
  <label for="email">Email</label><input id="email" placeholder="you@example.com" data-testid="email-input">
  <label for="password">Password</label>
  <div><input id="password" type="password"><button type="button" aria-label="Show password">eye</button></div>
  <label><input id="remember" type="checkbox"> Remember me</label>
  <button>Log In</button>
  <a href="/recover">Forgot password?</a>
</form>
<p class="note">Password</p><p class="note">Password</p>"""


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = browser_lib.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_content(FORM)
    yield page
    context.close()


def test_an_exact_label_finds_the_field_and_not_the_show_password_toggle(page):
    field = browser_lib.one(page, "Password", timeout_s=2)
    assert field.get_attribute("id") == "password"
    with pytest.raises(Exception, match="strict mode violation"):  # what a loose label did before
        page.get_by_label("Password").fill("x", timeout=1000)
    assert browser_lib.one(page, "label=Show password", timeout_s=2).get_attribute("type") == "button"


@pytest.mark.parametrize(("spec", "bare", "expected"), [
    ("placeholder=you@example.com", "label", "email"),
    ("testid=email-input", "label", "email"),
    ("css=form #password", "label", "password"),
    ('role=checkbox[name="Remember me"]', "label", "remember"),
    ("Remember me", "label", "remember"),
])
def test_every_kind_of_locator_finds_its_one_element(page, spec, bare, expected):
    assert browser_lib.one(page, spec, bare=bare, timeout_s=2).get_attribute("id") == expected


def test_a_button_without_a_type_and_a_link_are_found_by_their_exact_names(page):
    assert browser_lib.one(page, "Log In", bare="button", timeout_s=2).inner_text() == "Log In"
    assert browser_lib.one(page, "Forgot password?", bare="clickable", timeout_s=2).get_attribute("href") == "/recover"
    with pytest.raises(CheckFailed, match=r"to show 'Log' within 0.3 s, nothing matches"):
        browser_lib.one(page, "Log", bare="button", timeout_s=0.3)  # exact: a part of the name is not the name


def test_none_or_several_matches_is_one_line_naming_the_locator(page):
    with pytest.raises(CheckFailed, match=r"expected one element for 'text=Password' on blank, 3 match: write a more exact "
                                          r"locator \(label=, placeholder=, testid=, text=, role=, css=\)"):
        browser_lib.one(page, "text=Password", timeout_s=1)
    with pytest.raises(CheckFailed, match=r"expected the page blank to show 'Username' within 0.2 s, nothing matches"):
        browser_lib.one(page, "Username", timeout_s=0.2)
    with pytest.raises(SuiteError, match="is not a role locator"):
        browser_lib.locate(page, "role=button name=x")


def test_an_element_that_appears_later_is_waited_for_not_slept_on(page):
    page.evaluate("setTimeout(() => { const b = document.createElement('button'); b.textContent = 'Log Out';"
                  " document.body.append(b); }, 300)")
    assert browser_lib.one(page, "Log Out", bare="button", timeout_s=5).inner_text() == "Log Out"


def test_a_cookie_session_goes_into_the_browser_as_the_api_gave_it():
    cookie = Credentials("user", (("Cookie", "helpdesk_session=abc123; other=1"),))
    assert browser_lib.session_value(cookie, "helpdesk_session", "cookie_login") == "abc123"
    assert browser_lib.session_value(Credentials("user", (("Cookie", "sid=s1"),)), "access_token", "cookie_login") == "s1"
    assert browser_lib.session_value(Credentials("u", (), token="tok-1"), "access_token", "json_login") == "tok-1"
    with pytest.raises(EnvironmentFileError, match="gave the cookies helpdesk_session, other: name one of them"):
        browser_lib.session_value(cookie, "access_token", "cookie_login")


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = f"<h1>cookie: {self.headers.get('Cookie', '')}</h1>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_cookie_sign_in_sets_the_cookie_for_the_frontends_address_not_about_blank(chromium, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    (tmp_path / "t.yaml").write_text(
        f"services: {{frontend: {{base_url: '{url}'}}}}\nauth: {{service: frontend}}\naccounts: {{user: {{username: u, password: p}}}}\n"
        "browser: {login: {kind: cookie, storage_key: sid, success_path: /home}}\n")
    env, _ = environment.load("t", tmp_path, {})
    context = chromium.new_context(base_url=url)
    page = context.new_page()
    try:
        browser_lib.sign_in(page, browser_lib.PageWatch(), env, "user",
                            lambda name: Credentials(name, (("Cookie", "sid=session-42"),)))
        assert page.inner_text("h1") == "cookie: sid=session-42" and page.url == f"{url}/home"
    finally:
        context.close()
        server.shutdown()
