import httpx
import pytest

from postdeploy import checks, paths, request_spec
from postdeploy.environment import HealthSpec
from postdeploy.errors import SuiteError
from postdeploy.http import Exchange


def exchange(status=200, body=b"", headers=None) -> Exchange:
    return Exchange(service="api", method="GET", url="http://api.test/x", request_headers=(), request_body=b"",
                    status=status, headers=httpx.Headers(headers or {}), body=body, elapsed_ms=12.0)


def test_status_failure_says_expected_seen_and_where():
    with pytest.raises(AssertionError) as err:
        checks.status(exchange(500, b'{"detail":"boom"}'), 200)
    assert str(err.value).startswith("expected status 200, got 500")
    assert "GET http://api.test/x (service 'api')" in str(err.value)


def test_health_problems_follow_the_environment_expectation():
    spec = HealthSpec.model_validate({"path": "/health", "json": {"status": "ok", "checks.database": "ok"}})
    assert checks.health_problems(exchange(200, b'{"status":"ok","checks":{"database":"ok"}}'), spec) == []
    problems = checks.health_problems(exchange(503, b'{"status":"error","checks":{"database":"error"}}'), spec)
    assert problems == ["status 503, expected 200", "'status' is \"error\", expected \"ok\"",
                        "'checks.database' is \"error\", expected \"ok\""]
    bare = HealthSpec.model_validate({"body": "true"})
    assert checks.health_problems(exchange(200, b"true"), bare) == []
    assert checks.health_problems(exchange(200, b"false"), bare)


@pytest.mark.parametrize("body", [
    b'{"detail":"x","trace":"Traceback (most recent call last):\\n  File \\"/app/main.py\\", line 3"}',
    b"java.lang.NullPointerException\n\tat com.example.Foo.bar(Foo.java:42)",
    b"Error: boom\n    at handler (/srv/app.js:10:5)",
    b"panic: runtime error\n\ngoroutine 1 [running]:",
])
def test_stack_traces_of_common_back_ends_are_recognised(body):
    with pytest.raises(AssertionError):
        checks.no_stack_trace(exchange(500, body))


def test_plain_error_bodies_pass_the_stack_trace_check():
    checks.no_stack_trace(exchange(404, b'{"detail":"Not Found"}'))


def test_json_paths_report_where_they_stopped():
    doc = {"items": [{"id": 1}], "checks": {"db": "ok"}}
    assert paths.resolve(doc, "items[0].id") == 1
    assert paths.resolve(doc, "$.checks.db") == "ok"
    with pytest.raises(paths.PathNotFound) as err:
        paths.resolve(doc, "checks.smtp")
    assert "no key 'smtp'" in str(err.value) and "$.checks" in str(err.value)


# ---- the checks that were step bodies: reusable without pytest-bdd -----------------------------

def test_headers_match_reports_every_header_that_differs():
    answer = exchange(headers={"X-Frame-Options": "DENY", "Cache-Control": "no-store"})
    checks.headers_match(answer, [("X-Frame-Options", "^DENY$")])
    with pytest.raises(AssertionError) as err:
        checks.headers_match(answer, [("X-Frame-Options", "SAMEORIGIN"), ("Strict-Transport-Security", "max-age")])
    first, *rest = str(err.value).splitlines()
    assert first.startswith("expected every header as listed in the response to GET http://api.test/x (service 'api'); "
                            "2 of 2 did not, first: X-Frame-Options: expected /SAMEORIGIN/, got 'DENY'")
    assert rest == ["  - X-Frame-Options: expected /SAMEORIGIN/, got 'DENY'",
                    "  - Strict-Transport-Security: expected /max-age/, got None"]


def test_cors_refuses_an_echoed_or_wildcard_origin_and_wildcard_with_credentials():
    checks.refuses_origin(exchange(headers={"Access-Control-Allow-Origin": "https://app.example"}), "https://evil.example")
    for allowed in ("https://evil.example", "*"):
        with pytest.raises(AssertionError, match="expected the origin https://evil.example to be refused"):
            checks.refuses_origin(exchange(headers={"Access-Control-Allow-Origin": allowed}), "https://evil.example")
    with pytest.raises(AssertionError, match="expected no wildcard origin with credentials"):
        checks.no_wildcard_with_credentials(exchange(headers={"Access-Control-Allow-Origin": "*",
                                                              "Access-Control-Allow-Credentials": "true"}))
    with pytest.raises(AssertionError, match=r"no Access-Control-Allow-Origin for it but .*'true' \(half a refusal\)"):
        checks.refuses_origin(exchange(headers={"Access-Control-Allow-Credentials": "true"}), "https://evil.example")


def test_a_table_of_requests_is_sent_through_the_send_callable_and_judged_row_by_row():
    sent = []

    def send(method, path, **options):
        sent.append((method, path, options))
        return Exchange(service="api", method=method, url=f"http://api.test{path}", request_headers=(),
                        request_body=b"", status=401 if path == "/private" else 200,
                        headers=httpx.Headers({}), body=b"{}", elapsed_ms=5.0)

    table = [["method", "path", "status", "body"], ["GET", "/private", "401|403", ""], ["POST", "/open", "2xx", '{"a": 1}']]
    answers = checks.send_requests(send, request_spec.from_table(table, step="these requests"))
    checks.statuses_as_listed(answers)
    assert sent[1] == ("POST", "/open", {"follow_redirects": False, "content": b'{"a": 1}',
                                         "headers": [("Content-Type", "application/json")]})
    strict = checks.send_requests(send, request_spec.from_table([["path", "status"], ["/private", "200"]], step="s"))
    with pytest.raises(AssertionError, match=r"expected every request answered with its listed status; 1 of 1 did "
                                             r"not, first: GET http://api.test/private \(service 'api'\): expected 200"):
        checks.statuses_as_listed(strict)


def test_asset_names_without_a_content_hash_are_named():
    def asset(url, cache="public, max-age=31536000, immutable"):
        return Exchange(service="frontend", method="GET", url=url, request_headers=(), request_body=b"", status=200,
                        headers=httpx.Headers({"Cache-Control": cache}), body=b"", elapsed_ms=1.0)

    checks.assets_hashed([asset("http://f.test/app.3f2a9c1b.js"), asset("http://f.test/logo.png")])
    with pytest.raises(AssertionError, match="these are not: http://f.test/app.js$"):
        checks.assets_hashed([asset("http://f.test/app.js"), asset("http://f.test/style.3f2a9c1b.css")])
    checks.assets_cached([asset("http://f.test/app.3f2a9c1b.js")], 86400)
    with pytest.raises(AssertionError, match=r"long-lived caching \(max-age >= 86400\)"):
        checks.assets_cached([asset("http://f.test/app.3f2a9c1b.js", "no-cache")], 86400)


def test_the_foreign_origins_a_careless_cors_policy_lets_in_are_derived_from_the_allowed_ones():
    found = checks.foreign_origins(["https://app.example", "http://localhost:3000"], ["https://old.example"])
    assert found == {
        "https://evil.example": "an unrelated site",
        "null": "the null origin",
        "https://app.example.evil.example": "a look-alike of https://app.example",
        "http://app.example": "https://app.example over the other scheme",
        "http://localhost:3000.evil.example": "a look-alike of http://localhost:3000",
        "https://localhost:3000": "http://localhost:3000 over the other scheme",
        "https://old.example": "listed in expect.cors.refused_origins",
    }
    # an origin the environment allows is never probed as foreign
    assert "http://app.example" not in checks.foreign_origins(["https://app.example", "http://app.example"])


def test_a_typed_value_reads_as_json_everywhere_and_a_bare_word_is_a_feature_error():
    assert checks.parse_literal('"ok"') == "ok" and checks.parse_literal("3") == 3 and checks.parse_literal('"3"') == "3"
    assert checks.parse_literal("null") is None and checks.parse_literal("[1, 2]") == [1, 2]
    with pytest.raises(SuiteError, match=r"'ok' is not a value: write text in double quotes \(\"ok\"\)"):
        checks.parse_literal("ok")
