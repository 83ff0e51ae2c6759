"""``{{...}}`` placeholders are expanded in one place (the plugin's pytest_bdd_before_step_call hook): quoted
arguments, table cells and doc strings reach the target expanded, and the report shows them redacted."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "k3y-Placeholder-s3cret"

FEATURE = """\
Feature: Placeholders
  Scenario: Every kind of step argument is expanded
    When I send a POST request to "{{values.orders_path}}" on the "api" service with the JSON body:
      \"\"\"
      {"customer": "{{customer}}", "note": "{{values.note}}", "literal": {"braces": "{kept}"}}
      \"\"\"
    Then the response status is 201
    When I send a GET request to "/echo" on the "api" service with the headers:
      | name      | value      |
      | X-Tenant  | {{tenant}} |
      | X-Api-Key | {{api_key}} |
    Then the response header "X-Seen-Tenant" is "{{tenant}}"
    When I send these requests to the "api" service:
      | method | path                     | status |
      | GET    | {{values.item_path}}?x=1 | 200    |
    Then every response has the status its row expects

  Scenario: An unknown placeholder is a suite error of its step
    When I send a GET request to "/items/{{no_such_value}}" on the "api" service
    Then the response status is 200
"""


class Target(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})

    def do_GET(self):
        self._record()
        self._answer(200, {"ok": True}, {"X-Seen-Tenant": self.headers.get("X-Tenant", "")})

    def do_POST(self):
        self._record()
        self._answer(201, {"created": True})

    def _answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def target():
    Target.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Target.seen
    server.shutdown()


@pytest.fixture(params=[[], ["-n", "2"]], ids=["one-process", "xdist"])
def run(request, bdd_project, target, monkeypatch):
    url, seen = target
    monkeypatch.setenv("POSTDEPLOY_TEST_API_KEY", SECRET)
    bdd_project.feature("placeholders.feature", FEATURE)
    dev = bdd_project.environment_file("dev",
        "safety: {read_only: false}\n"
        f"services:\n  api: {{base_url: '{url}'}}\n"
        "values:\n  orders_path: /orders\n  customer: c-42\n  note: first order\n  tenant: acme\n"
        "  item_path: /items/7\n"
        "secrets:\n  api_key: '${POSTDEPLOY_TEST_API_KEY}'\n")
    result = bdd_project.runpytest(dev, "-rA", *request.param)
    return result, seen, bdd_project.allure_results(), bdd_project.reports


def test_arguments_cells_and_doc_strings_reach_the_target_expanded(run):
    result, seen, _, _ = run
    result.assert_outcomes(passed=1, failed=1)
    post, echo, item = [request for request in seen if request["path"] != "/health"]  # the preflight's aside
    assert (post["method"], post["path"]) == ("POST", "/orders")
    assert json.loads(post["body"]) == {"customer": "c-42", "note": "first order", "literal": {"braces": "{kept}"}}
    assert echo["path"] == "/echo"
    assert echo["headers"]["X-Tenant"] == "acme" and echo["headers"]["X-Api-Key"] == SECRET
    assert item["path"] == "/items/7?x=1"


def test_an_unknown_placeholder_names_itself(run):
    result, seen, _, _ = run
    assert not any("no_such_value" in request["path"] or request["path"].startswith("/items/{") for request in seen)
    result.stdout.fnmatch_lines(["*the step needs '{{no_such_value}}', which environment 'dev' does not define*",
                                 "postdeploy verdict: NOT VERIFIED: 1 suite error, 1 passed (exit code 9)"])


def test_the_report_shows_expanded_values_with_secrets_redacted(run):
    _, _, results, reports = run
    steps = {s["name"]: s for s in results["Every kind of step argument is expanded"]["steps"]}
    assert set(steps) >= {'When I send a POST request to "/orders" on the "api" service with the JSON body:',
                          'Then the response header "X-Seen-Tenant" is "acme"'}
    header = steps['Then the response header "X-Seen-Tenant" is "acme"']
    assert {p["name"]: p["value"] for p in header["parameters"]}["value"] == "'acme'"
    headers_step = steps['When I send a GET request to "/echo" on the "api" service with the headers:']
    [table] = [a for a in headers_step["attachments"] if a["name"] == "Data table"]
    shown = (reports / "allure-results" / table["source"]).read_text()
    assert "acme" in shown and "[REDACTED]" in shown and "{{" not in shown
    leaked = [p.name for p in reports.rglob("*") if p.is_file() and SECRET in p.read_text(errors="replace")]
    assert leaked == []
