"""One request vocabulary (postdeploy.request_spec): every body type, query and headers reach a real HTTP
server as written, and a table with a wrong column or value is a feature error that names the right ones."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from postdeploy import request_spec
from postdeploy.errors import SuiteError


class Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/landing")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers),
                              "body": body.decode("latin-1")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=5) as client:
        yield client
    server.shutdown()


def send(client: httpx.Client, spec: request_spec.RequestSpec) -> httpx.Response:
    options = spec.options()
    follow = options.pop("follow_redirects")
    return client.request(spec.method, spec.path, follow_redirects=follow, **options)


def seen(client, **fields) -> dict:
    return send(client, request_spec.from_fields(fields, where="test")).json()


def test_a_form_body_is_url_encoded_as_an_oauth2_login_expects(echo):
    got = seen(echo, method="POST", path="/token", body="username=a@b.test&password=p w&grant_type=password",
               **{"body type": "form"})
    assert got["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert got["body"] == "username=a%40b.test&password=p+w&grant_type=password"


def test_a_multipart_body_sends_fields_and_named_file_parts(echo):
    got = seen(echo, method="POST", path="/upload", body="comment=hi&file=@report.csv;type=text/csv",
               **{"body type": "multipart"})
    assert got["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert 'name="comment"\r\n\r\nhi\r\n' in got["body"]
    assert 'name="file"; filename="report.csv"\r\nContent-Type: text/csv' in got["body"]


def test_a_raw_body_is_sent_as_written_with_its_content_type(echo):
    got = seen(echo, method="PUT", path="/raw", body='{"email": [', headers="Content-Type: application/json",
               **{"body type": "raw"})
    assert got["body"] == '{"email": ['
    assert got["headers"]["Content-Type"] == "application/json"
    assert seen(echo, method="PUT", path="/raw", body="plain", **{"body type": "raw"})["headers"]["Content-Type"] \
        == "text/plain"


def test_a_json_body_is_the_default_and_query_and_headers_are_added(echo):
    got = seen(echo, method="POST", path="/orders?page=2", query="q=café+%26+croissant&tag=a&tag=b",
               headers="Accept: application/json\\nX-Trace: run-1", body='{"a": 1}')
    assert got["headers"]["Content-Type"] == "application/json"
    assert json.loads(got["body"]) == {"a": 1}
    assert got["path"] == "/orders?page=2&q=caf%C3%A9+%26+croissant&tag=a&tag=b"
    assert got["headers"]["X-Trace"] == "run-1" and got["headers"]["Accept"] == "application/json"


def test_redirects_are_an_answer_unless_the_request_follows_them(echo):
    assert send(echo, request_spec.from_fields({"path": "/moved"}, where="t")).status_code == 302
    followed = send(echo, request_spec.from_fields({"path": "/moved", "redirects": "follow"}, where="t"))
    assert followed.status_code == 200 and followed.json()["path"] == "/landing"


def test_a_two_column_table_describes_one_request_in_the_same_words():
    spec = request_spec.from_pairs([["body type", "form"], ["body", "a=1"], ["redirects", "follow"]],
                                   where="the step", defaults={"method": "POST", "path": "/token"})
    assert (spec.method, spec.path, spec.body_type, spec.follow_redirects) == ("POST", "/token", "form", True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"path": "/x", "header": "A: b"}, r"unknown field 'header'; a request is described by method, path, query, "
                                       r"headers, body, body type, redirects"),
    ({"path": "/x", "body": "{", "body type": "json"}, r"the body of GET /x is not JSON .*'body type: raw'"),
    ({"path": "/x", "body type": "xml", "body": "<a/>"}, r"body type 'xml' is not one of json, form, multipart, raw"),
    ({"path": "x"}, r"a path starts with '/'"),
    ({"path": "/x", "method": "FETCH"}, r"'FETCH' is not an HTTP method"),
    ({"path": "/x", "headers": "Accept application/json"}, r"a header is written 'Name: value'"),
    ({"path": "/x", "status": "ok"}, r"'ok' is not a status"),
    ({"path": "/x", "body": "a", "body type": "form"}, r"a form body is written name=value&name=value"),
])
def test_a_wrong_field_is_a_feature_error_naming_the_right_words(fields, message):
    with pytest.raises(SuiteError, match=message):
        request_spec.from_fields(fields, where="row 1").options()


def test_statuses_read_as_codes_classes_or_alternatives():
    status = request_spec.Status.parse("401|403")
    assert status.allows(403) and not status.allows(200)
    assert request_spec.Status.parse("401 or 403") == status.__class__("401 or 403", status.codes, status.classes)
    assert request_spec.Status.parse("2xx").allows(204) and not request_spec.Status.parse("2xx").allows(302)
    assert str(request_spec.Status.parse("201 | 3xx")) == "201 or 3xx"
