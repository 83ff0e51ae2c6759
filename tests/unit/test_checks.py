import httpx
import pytest

from postdeploy import checks, paths
from postdeploy.environment import HealthSpec
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
