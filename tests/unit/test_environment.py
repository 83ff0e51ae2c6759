from pathlib import Path

import pytest
from pydantic import ValidationError

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
    with pytest.raises(ValidationError):
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


def test_missing_variables_of_eager_sections_are_all_named_with_their_fields_at_load(tmp_path):
    text = MINIMAL.replace("http://127.0.0.1:8080/", "${API_URL}") + "auth: {path: '${LOGIN_PATH}'}\n"
    with pytest.raises(MissingSecret) as err:
        environment.load("x", write(tmp_path, "x", text), {})
    message = str(err.value)
    assert "environment 'x'" in message and "x.yaml" in message
    assert "${API_URL} (for 'services.api.base_url')" in message
    assert "${LOGIN_PATH} (for 'auth.path')" in message
    # accounts and database are lazy: not demanded at load
    assert "ADMIN_PW" not in message and "DB_PW" not in message
    assert issubclass(MissingSecret, EnvironmentFileError)


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


# --- timeouts -------------------------------------------------------------------------------------

TIMEOUTS = {
    "timeout_s": "timeout_s: {v}\n",
    "services.api.timeout_s": "",  # set inside the service below
    "browser.timeout_s": "browser: {{service: api, timeout_s: {v}}}\n",
    "database.statement_timeout_ms": "database: {{dsn: 'postgresql://db/app', statement_timeout_ms: {v}}}\n",
    "database.lock_timeout_ms": "database: {{dsn: 'postgresql://db/app', lock_timeout_ms: {v}}}\n",
}


@pytest.mark.parametrize("value", ["0", "-5"])
@pytest.mark.parametrize("field", list(TIMEOUTS))
def test_non_positive_timeouts_are_rejected_naming_the_field(tmp_path, field, value):
    service = f"{{base_url: 'http://x', timeout_s: {value}}}" if field.startswith("services") else "{base_url: 'http://x'}"
    text = f"services:\n  api: {service}\n" + TIMEOUTS[field].format(v=value)
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", text), {})
    message = str(err.value)
    assert not isinstance(err.value, MissingSecret)
    assert "x.yaml does not match the schema" in message
    unit = "milliseconds" if field.endswith("_ms") else "seconds"
    assert f"'{field}': must be greater than 0, got {value} ({unit})" in message


def test_an_infinite_timeout_is_rejected(tmp_path):
    with pytest.raises(EnvironmentFileError, match=r"'timeout_s': must be a finite number, got inf \(seconds\)"):
        environment.load("x", write(tmp_path, "x", "services:\n  api: {base_url: 'http://x'}\ntimeout_s: .inf\n"), {})


def test_positive_timeouts_are_accepted(tmp_path):
    text = ("services:\n  api: {base_url: 'http://x', timeout_s: 0.5}\ntimeout_s: 3\n"
            "browser: {service: api, timeout_s: 20}\ndatabase: {dsn: 'postgresql://db/app', lock_timeout_ms: 10}\n")
    env, _ = environment.load("x", write(tmp_path, "x", text), {})
    assert (env.timeout_s, env.service("api").timeout_s, env.browser.timeout_s) == (3, 0.5, 20)
    assert env.section("database").lock_timeout_ms == 10


# --- duplicate keys -------------------------------------------------------------------------------

def test_a_duplicate_top_level_key_names_the_key_and_both_lines(tmp_path):
    text = "safety:\n  read_only: true\nservices:\n  api: {base_url: 'http://x'}\nsafety:\n  read_only: false\n"
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", text), {})
    message = str(err.value)
    assert f"environment file {tmp_path / 'x.yaml'} has the key 'safety' twice (lines 1 and 5)" in message
    assert "the second would silently replace the first. Keep one" in message


def test_a_duplicate_key_inside_a_service_names_where_and_both_lines(tmp_path):
    text = ("services:\n"
            "  api:\n"
            "    base_url: http://x\n"
            "    timeout_s: 5\n"
            "    health: {path: /health, path: /ready}\n")
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", text), {})
    assert "has the key 'path' twice in 'services.api.health' (both on line 5)" in str(err.value)
    text = text.replace("    health: {path: /health, path: /ready}\n", "    timeout_s: 9\n")
    with pytest.raises(EnvironmentFileError, match=r"the key 'timeout_s' twice in 'services.api' \(lines 4 and 5\)"):
        environment.load("x", write(tmp_path, "x", text), {})


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    text = ("services:\n"
            "  api: &base {base_url: 'http://api', timeout_s: 5}\n"
            "  worker:\n"
            "    <<: *base\n"
            "    base_url: http://worker\n")
    env, _ = environment.load("x", write(tmp_path, "x", text), {})
    assert env.service("worker").base_url == "http://worker" and env.service("worker").timeout_s == 5


# --- the environment directory ---------------------------------------------------------------------

def test_a_missing_environment_directory_says_so_and_how_to_fix(tmp_path):
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("prod", tmp_path / "nope", {})
    message = str(err.value)
    assert f"the environment directory {tmp_path / 'nope'} does not exist" in message
    assert "--env-dir DIR" in message and "POSTDEPLOY_ENV_DIR" in message and "create environments/" in message
    assert "has no *.yaml files" not in message


def test_an_empty_environment_directory_says_it_has_no_files(tmp_path):
    with pytest.raises(EnvironmentFileError, match=r"has no \*\.yaml files"):
        environment.load("prod", tmp_path, {})


# --- variables resolved per section ----------------------------------------------------------------

LAZY = MINIMAL.replace("database:", """  other: {username: other@example.com, password: "${OTHER_PW}"}
database:""") + """values:
  order_id: 42
  api_key: "${VALUE_KEY}"
mailbox: {kind: mailpit, url: "${MAILBOX_URL}"}
"""


def test_a_missing_variable_in_a_lazy_part_fails_only_when_that_part_is_used(tmp_path):
    env, secrets = environment.load("x", write(tmp_path, "x", LAZY), {"OTHER_PW": "other-pw"})
    assert env.account("other").password == "other-pw"
    with pytest.raises(MissingSecret) as err:
        env.account("admin")
    message = str(err.value)
    assert (f"environment 'x' ({tmp_path / 'x.yaml'}): account 'admin' needs ${{ADMIN_PW}} "
            "(for 'accounts.admin.password'), which is not set") in message
    assert "export ADMIN_PW=..." in message and "OTHER_PW" not in message
    with pytest.raises(MissingSecret, match=r"section 'database' needs \$\{DB_PW\} \(for 'database.dsn'\), which is not set"):
        env.section("database")
    with pytest.raises(MissingSecret, match=r"\$\{MAILBOX_URL\} \(for 'mailbox.url'\)"):
        env.section("mailbox")
    with pytest.raises(MissingSecret, match=r"\$\{ADMIN_PW\}"):
        env.section("accounts")  # the whole section includes the incomplete account
    assert env.section("objectives") == {} and env.section("rate_limits") == []
    assert env.missing_variables == {
        "accounts.admin": [("ADMIN_PW", "accounts.admin.password")],
        "database": [("DB_PW", "database.dsn")],
        "values.api_key": [("VALUE_KEY", "values.api_key")],
        "mailbox": [("MAILBOX_URL", "mailbox.url")],
    }
    # the placeholders of incomplete parts are not secrets; the complete account's password is
    assert secrets == {"other-pw"}


def test_a_section_absent_from_the_file_is_none_and_an_unknown_section_is_named(tmp_path):
    env, _ = environment.load("x", write(tmp_path, "x", "services:\n  api: {base_url: 'http://x'}\n"), {})
    assert env.section("database") is None and env.section("mailbox") is None
    with pytest.raises(EnvironmentFileError, match=r"no section 'databse' \(did you mean 'database'\?\)"):
        env.section("databse")


def test_expand_raises_missing_secret_only_for_what_reaches_an_unset_variable(tmp_path):
    env, _ = environment.load("x", write(tmp_path, "x", LAZY), {"OTHER_PW": "p"})
    assert environment.expand(env, "/orders/{{order_id}}") == "/orders/42"
    assert environment.expand(env, "{{accounts.other.username}}") == "other@example.com"
    assert environment.expand(env, "{{api_key}}", extra={"api_key": "given"}) == "given"
    for text, var in [("{{api_key}}", "VALUE_KEY"), ("{{values.api_key}}", "VALUE_KEY"),
                      ("{{accounts.admin.username}}", "ADMIN_PW"), ("{{database.dsn}}", "DB_PW"),
                      ("{{mailbox.url}}", "MAILBOX_URL")]:
        with pytest.raises(MissingSecret) as err:
            environment.expand(env, f"x {text} y")
        assert f"environment 'x' ({tmp_path / 'x.yaml'}): '{text}' in a step needs ${{{var}}}" in str(err.value)
    with pytest.raises(EnvironmentFileError, match="does not define"):  # a typo is still a typo
        environment.expand(env, "{{accounts.admin.usrname}}")


SHIPPED = Path(__file__).resolve().parents[2] / "environments"


def test_prod_loads_for_a_smoke_run_without_the_database_or_account_variables():
    # smoke needs the services and the accounts it signs in with; the DSN is for the data-integrity family
    variables = {"PROD_SMOKE_ADMIN_EMAIL": "admin@example.com", "PROD_SMOKE_ADMIN_PASSWORD": "admin-pw"}
    env, secrets = environment.load("prod", SHIPPED, variables)
    assert env.account("admin").password == "admin-pw"
    assert secrets == {"admin-pw"}
    with pytest.raises(MissingSecret) as err:
        env.section("database")
    assert "${PROD_READONLY_DSN} (for 'database.dsn')" in str(err.value) and "prod.yaml" in str(err.value)
    with pytest.raises(MissingSecret, match=r"\$\{PROD_SMOKE_CUSTOMER_EMAIL\} \(for 'accounts.customer.username'\), "
                                            r"\$\{PROD_SMOKE_CUSTOMER_PASSWORD\} \(for 'accounts.customer.password'\), which are not set"):
        env.account("customer")


@pytest.mark.parametrize("name", ["prod", "staging"])
def test_shipped_examples_load_with_none_of_their_secrets(name):
    env, secrets = environment.load(name, SHIPPED, {})
    assert env.services and secrets == set()
    with pytest.raises(MissingSecret, match=r"READONLY_DSN"):
        env.section("database")


def test_an_unset_variable_in_a_typed_field_is_reported_as_unset_not_as_a_schema_error(tmp_path):
    base = "services:\n  api: {base_url: 'http://x'}\n"
    # lazy: load succeeds, the field takes its default, and the section still raises when used
    env, _ = environment.load("x", write(tmp_path, "x", base + "database: {dsn: 'postgresql://db/app', "
                                                             "statement_timeout_ms: '${DB_TIMEOUT}'}\n"), {})
    with pytest.raises(MissingSecret, match=r"\$\{DB_TIMEOUT\} \(for 'database.statement_timeout_ms'\)"):
        env.section("database")
    # eager: the unset variable is named, not "unable to parse string as a number"
    with pytest.raises(MissingSecret, match=r"needs \$\{TIMEOUT\} \(for 'timeout_s'\), which is not set"):
        environment.load("x", write(tmp_path, "x", base + "timeout_s: '${TIMEOUT}'\n"), {})
    # with a real schema error too: one paragraph that names both
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", base + "timeout_s: '${TIMEOUT}'\nsafty: {}\n"), {})
    assert not isinstance(err.value, MissingSecret)
    assert "'timeout_s' needs ${TIMEOUT}, which is not set" in str(err.value)
    assert "'safty' is not a known field (did you mean 'safety'?)" in str(err.value)
