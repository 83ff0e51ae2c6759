from pathlib import Path

import pytest

from postdeploy import environment
from postdeploy.errors import EnvironmentFileError, MissingSecret

MINIMAL = """
services:
  api:
    base_url: http://127.0.0.1:8080/
    health: {path: /health, json: {status: ok}}
accounts:
  admin: {username: admin@example.com, password: "${ADMIN_PW}"}
database:
  dsn: postgresql://reader:${DB_PW}@db:5432/app
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


def test_loads_a_frozen_environment_and_collects_its_secrets(tmp_path):
    env, secrets = environment.load("staging", write(tmp_path, "staging", MINIMAL), {"ADMIN_PW": "s3cret-pw", "DB_PW": "db-pw-1"})
    assert env.name == "staging"
    assert env.service("api").base_url == "http://127.0.0.1:8080"
    assert env.service("api").health.json_fields == {"status": "ok"}
    assert secrets == {"s3cret-pw", "db-pw-1"}
    with pytest.raises(Exception):
        env.timeout_s = 1  # frozen


def test_read_only_is_the_default_and_allows_only_safe_methods(tmp_path):
    env, _ = environment.load("x", write(tmp_path, "x", MINIMAL), {"ADMIN_PW": "p", "DB_PW": "q"})
    assert env.safety.read_only is True
    assert env.safety.methods == ("GET", "HEAD", "OPTIONS")


def test_unknown_environment_lists_the_available_ones_and_suggests_the_closest(tmp_path):
    write(tmp_path, "staging", MINIMAL)
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("stagin", tmp_path, {})
    assert "unknown environment 'stagin' (did you mean 'staging'?)" in str(err.value)
    assert "available: staging" in str(err.value)


def test_schema_error_names_file_field_and_closest_key(tmp_path):
    text = MINIMAL.replace("health:", "helth:")
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("bad", write(tmp_path, "bad", text), {"ADMIN_PW": "p", "DB_PW": "q"})
    message = str(err.value)
    assert "bad.yaml" in message
    assert "'services.api.helth' is not a known field (did you mean 'health'?)" in message


def test_missing_variables_are_all_named_with_their_fields(tmp_path):
    with pytest.raises(MissingSecret) as err:
        environment.load("x", write(tmp_path, "x", MINIMAL), {})
    message = str(err.value)
    assert "${ADMIN_PW} (for 'accounts.admin.password')" in message
    assert "${DB_PW} (for 'database.dsn')" in message


def test_invalid_yaml_says_where(tmp_path):
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", "services:\n  api: [\n"), {})
    assert "not valid YAML at line 3" in str(err.value)


def test_relative_base_url_is_rejected(tmp_path):
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", "services:\n  api: {base_url: api.local}\n"), {})
    assert "services.api.base_url" in str(err.value) and "absolute http(s) URL" in str(err.value)


def test_browser_must_name_a_defined_service(tmp_path):
    text = "services:\n  web: {base_url: 'http://x'}\nbrowser: {service: frontend}\n"
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", text), {})
    assert "browser.service names the service 'frontend'" in str(err.value)


def test_provide_adds_variables_after_reading_the_raw_file(tmp_path):
    text = "sandbox: {autostart: true}\nservices:\n  api: {base_url: '${SANDBOX_API_URL}'}\n"
    seen = {}

    def provide(raw):
        seen.update(raw)
        return {"SANDBOX_API_URL": "http://127.0.0.1:1234"}

    env, _ = environment.load("local", write(tmp_path, "local", text), {}, provide=provide)
    assert seen["sandbox"] == {"autostart": True}
    assert env.service("api").base_url == "http://127.0.0.1:1234"


def test_expand_fills_placeholders_from_values_and_the_environment(tmp_path):
    text = MINIMAL + "values: {order_id: 42}\n"
    env, _ = environment.load("x", write(tmp_path, "x", text), {"ADMIN_PW": "p", "DB_PW": "q"})
    assert environment.expand(env, "/orders/{{order_id}}") == "/orders/42"
    assert environment.expand(env, "{{accounts.admin.username}}") == "admin@example.com"
    with pytest.raises(EnvironmentFileError) as err:
        environment.expand(env, "{{order_idd}}")
    assert "did you mean 'order_id'" in str(err.value)


def test_shipped_environment_files_are_valid():
    root = Path(__file__).resolve().parents[2] / "environments"
    names = environment.available(root)
    assert {"local", "staging", "prod"} <= set(names)
    for name in names:
        # every ${VAR} given a dummy value: the files must validate against the schema
        raw = (root / f"{name}.yaml").read_text()
        variables = {var: "http://127.0.0.1:1" if "URL" in var else "x-value" for var, _ in environment._VAR.findall(raw)}
        env, _ = environment.load(name, root, variables)
        assert env.services, name
        assert name != "prod" or env.safety.read_only


def test_unknown_service_account_or_objective_names_the_closest(tmp_path):
    env, _ = environment.load("x", write(tmp_path, "x", MINIMAL + "objectives: {api_latency_ms: 500}\n"),
                              {"ADMIN_PW": "p", "DB_PW": "q"})
    assert env.objective("api_latency_ms") == 500
    with pytest.raises(EnvironmentFileError, match=r"no service named 'apii' \(did you mean 'api'\?\); its services are: api"):
        env.service("apii")
    with pytest.raises(EnvironmentFileError, match=r"no account named 'admn' \(did you mean 'admin'\?\)"):
        env.account("admn")
    with pytest.raises(EnvironmentFileError, match=r"no objective named 'api_latency' \(did you mean 'api_latency_ms'\?\)"):
        env.objective("api_latency")
