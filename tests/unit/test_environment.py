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


def builtin_model():
    """The environment model with the sections the built-in families declare (the plugin loads with it)."""
    from postdeploy import families

    return families.Registry(families.builtin()).environment_model


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
        env, _ = environment.load(name, root, variables, model=builtin_model())  # as the plugin loads them
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
    env, secrets = environment.load("prod", SHIPPED, variables, model=builtin_model())
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
    env, secrets = environment.load(name, SHIPPED, {}, model=builtin_model())
    assert env.services and secrets == set()
    with pytest.raises(MissingSecret, match=r"READONLY_DSN"):
        env.section("database")
    assert env.section("tls").expiry_margin_days == 30
    assert env.objective_spec("error_rate").describe() == "green below 0.5%, yellow 0.5-1%, red above 1%"


def test_the_shipped_staging_example_uses_the_typed_sections_of_built_families():
    variables = {"STAGING_SERVICE_TOKEN": "svc-token-1", "STAGING_ADMIN_EMAIL": "admin@example.com",
                 "STAGING_ADMIN_PASSWORD": "admin-pw-1"}
    env, secrets = environment.load("staging", SHIPPED, variables, model=builtin_model())
    assert secrets == {"svc-token-1", "admin-pw-1"}
    assert [limit.window for limit in env.section("rate_limits")] == [60, 60]
    assert env.objective("api_latency_ms") == 1500 and env.objective_spec("api_latency_ms").unit == "ms"


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


# --- secrets are a type ----------------------------------------------------------------------------

BASE = "services:\n  api: {base_url: 'http://x'}\n"



def test_secrets_are_found_by_type_not_by_the_name_of_their_field(tmp_path):
    text = BASE + """accounts:
  admin: {username: admin@example.com, password: "${ADMIN_PW}"}
  robot: {token: "${ROBOT_TOKEN}"}
values:
  new_user_email: "qa-new-${RUN}@example.com"
  api_token_header: "${HEADER_NAME}"
  password_hint: "${HINT}"
secrets:
  partner: "${PARTNER}"
mailbox: {kind: mailpit, url: "http://mail", auth: {username: qa, password: "${MAILPIT_PW}"}}
database: {dsn: "postgresql://reader:${DB_PW}@db:5432/app"}
"""
    variables = {"ADMIN_PW": "admin-pw-1", "ROBOT_TOKEN": "robot-tok-1", "RUN": "20260101-abcd",
                 "HEADER_NAME": "X-Api-Token", "HINT": "the-usual-one", "PARTNER": "partner-key-1",
                 "MAILPIT_PW": "mailpit-pw-1", "DB_PW": "db-pw-1"}
    env, secrets = environment.load("x", write(tmp_path, "x", text), variables)
    # an innocuous name ("partner", "auth.password" of a mailbox, a DSN) is a secret by its type ...
    assert secrets == {"admin-pw-1", "robot-tok-1", "partner-key-1", "mailpit-pw-1", "db-pw-1"}
    # ... and a ${VAR} under values: is not, whatever its key says
    assert env.values["new_user_email"] == "qa-new-20260101-abcd@example.com"
    assert isinstance(env.account("admin").password, environment.Secret)
    assert env.account("admin").password == "admin-pw-1"  # a str: steps use it as one
    assert "admin-pw-1" not in repr(env.account("admin")) and "Secret('[REDACTED]')" in repr(env.account("admin"))
    assert "db-pw-1" not in repr(env.section("database"))
    assert environment.expand(env, "{{partner}}") == "partner-key-1"  # secrets are {{name}}s too

    from postdeploy import redact
    redact.clear()
    try:
        redact.register(*secrets)
        text = f"signed up {env.values['new_user_email']} with key {env.secrets['partner']} at {env.database.dsn}"
        assert redact.redact(text) == ("signed up qa-new-20260101-abcd@example.com with key [REDACTED] at "
                                       "postgresql://reader:[REDACTED]@db:5432/app")
    finally:
        redact.clear()


def test_a_family_section_field_typed_secret_is_registered_whatever_its_name(tmp_path):
    from postdeploy.families import Family, Registry, Section

    class Vault(Section):
        url: str
        opening_words: environment.Secret
        note: str = ""

    model = Registry([("here", Family(name="vault", description="v", sections={"vault": Vault}))]).environment_model
    text = BASE + "vault: {url: 'http://v', opening_words: '${WORDS}', note: '${NOTE}'}\n"
    _, secrets = environment.load("x", write(tmp_path, "x", text), {"WORDS": "open-sesame", "NOTE": "a-note"},
                                  model=model)
    assert secrets == {"open-sesame"}


def test_a_secret_whose_variable_is_unset_is_not_registered_but_its_neighbours_are(tmp_path):
    text = BASE + "accounts:\n  admin: {username: '${ADMIN_EMAIL}', password: '${ADMIN_PW}'}\n" \
                  "secrets: {partner: '${PARTNER}', other: '${OTHER}'}\n"
    env, secrets = environment.load("x", write(tmp_path, "x", text), {"ADMIN_PW": "admin-pw-1", "OTHER": "other-1"})
    assert secrets == {"admin-pw-1", "other-1"}  # not the placeholder "unset"
    with pytest.raises(MissingSecret, match=r"'\{\{partner\}\}' in a step needs \$\{PARTNER\}"):
        environment.expand(env, "{{partner}}")
    assert environment.expand(env, "{{other}}") == "other-1"


def test_a_name_under_both_values_and_secrets_is_refused(tmp_path):
    with pytest.raises(EnvironmentFileError, match=r"'key' is both under values: and under secrets:"):
        environment.load("x", write(tmp_path, "x", BASE + "values: {key: 1}\nsecrets: {key: k}\n"), {})


# --- objectives: units and levels -----------------------------------------------------------------

def objectives(tmp_path, text, model=None):
    env, _ = environment.load("x", write(tmp_path, "x", BASE + "objectives:\n" + text), {}, model=model)
    return env


def test_a_bare_objective_takes_its_unit_from_its_name_and_has_no_yellow_band(tmp_path):
    env = objectives(tmp_path, "  api_latency_ms: 1000\n  p95_s: 5\n  error_rate_pct: 1\n  queue_depth: 50\n")
    assert env.objective("api_latency_ms") == 1000  # the green limit, in its own unit
    spec = env.objective_spec("api_latency_ms")
    assert (spec.unit, spec.green, spec.red) == ("ms", 1000, None)
    assert [spec.grade(v) for v in (999.9, 1000, 5000)] == ["green", "red", "red"]
    assert spec.describe() == "green below 1000 ms, red from 1000 ms up"
    assert env.objective_spec("p95_s").unit == "s" and env.objective_spec("p95_s").milliseconds() == 5000
    assert env.objective_spec("error_rate_pct").unit == "percent"
    assert env.objective_spec("queue_depth").unit is None and env.objective("queue_depth") == 50
    with pytest.raises(EnvironmentFileError, match=r"the objective 'queue_depth' is a plain number, not a duration"):
        env.objective_spec("queue_depth").milliseconds(name="queue_depth")
    assert environment.expand(env, "{{objectives.api_latency_ms}}") == "1000.0"  # still a number


def test_objective_levels_grade_green_yellow_red_at_their_boundaries(tmp_path):
    # the seeds: "error rate < 0.5% green, 0.5-1% yellow, > 1% roll back"; "p95 < 600 ms, 600-1000 ms, > 1000 ms"
    env = objectives(tmp_path, "  error_rate: {unit: percent, green_below: 0.5, red_above: 1}\n"
                               "  error_rate_written: {green_below: 0.5%, red_above: 1%}\n"
                               "  p95_latency: {green_below: 600 ms, red_above: 1 s}\n"
                               "  p95_s: {green_below: 500 ms, red_above: 1}\n"
                               "  cert_days: {unit: count, green_above: 30, red_below: 7}\n"
                               "  throughput_per_minute: {green_above: 100}\n")
    rate = env.objective_spec("error_rate")
    assert [rate.grade(v) for v in (0, 0.49, 0.5, 0.75, 1, 1.01, 50)] == \
        ["green", "green", "yellow", "yellow", "yellow", "red", "red"]
    assert rate.grade(float("nan")) == environment.Level.RED
    assert rate.describe() == "green below 0.5%, yellow 0.5-1%, red above 1%"
    assert env.objective_spec("error_rate_written") == rate  # "0.5%" reads as 0.5 percent
    assert env.objective("error_rate") == 0.5
    latency = env.objective_spec("p95_latency")
    assert latency.unit == "ms" and [latency.grade_ms(v) for v in (599, 600, 1000, 1001)] == \
        ["green", "yellow", "yellow", "red"]
    assert latency.describe() == "green below 600 ms, yellow 600-1000 ms, red above 1000 ms"
    assert env.objective_spec("p95_s").describe() == "green below 0.5 s, yellow 0.5-1 s, red above 1 s"
    # higher is better: the mirror image
    days = env.objective_spec("cert_days")
    assert [days.grade(v) for v in (31, 30, 7, 6.9)] == ["green", "yellow", "yellow", "red"]
    assert days.describe() == "green above 30, yellow 7-30, red below 7"
    throughput = env.objective_spec("throughput_per_minute")
    assert throughput.unit == "per_minute" and [throughput.grade(v) for v in (101, 100)] == ["green", "red"]


def test_a_latency_objective_in_seconds_is_stated_in_seconds(tmp_path):
    from postdeploy import checks

    env = objectives(tmp_path, "  p95_s: {green_below: 5, red_above: 10}\n")
    spec = env.objective_spec("p95_s")
    assert spec.milliseconds() == 5000 and spec.grade_ms(7000) == "yellow"

    class Slow:
        method, url, service, status, elapsed_ms = "GET", "http://x/orders", "api", 200, 7000.0

    assert checks.latency_problem(Slow(), "p95_s", spec.milliseconds(), spec) == (
        "expected GET /orders (service 'api') within the 'p95_s' objective of 5 s, got 7000 ms (status 200) "
        "(yellow: green below 5 s, yellow 5-10 s, red above 10 s)")


@pytest.mark.parametrize("entry, problem", [
    ("error_rate: {unit: percent, green_below: 1, red_above: 0.5}",
     "'objectives.error_rate': red_above (0.5) must be greater than green_below (1); leave red_above out"),
    ("p95_ms: {unit: s, green_below: 1}",
     "'objectives': the objective 'p95_ms' ends in '_ms' (ms) but says unit: s; rename it or change its unit"),
    ("p95_ms: {green_below: 5%}", "'objectives.p95_ms': 'green_below' is '5%', in percent, but the objective is in ms"),
    ("error_rate: {green_below: 0.5%, red_above: 1 s}", "'red_above' is '1 s', in s, but the objective is in percent"),
    ("p95: {green_below: 5, red_below: 1}", "'objectives.p95': use green_below with red_above (lower is better)"),
    ("p95: {gren_below: 5}", "'objectives.p95.gren_below' is not a known field (did you mean 'green_below'?)"),
    ("p95: {unit: kg, green_below: 5}", "'objectives.p95.unit': must be 'ms', 's', 'percent', 'count' or 'per_minute'"),
    ("p95: {unit: ms}", "'objectives.p95': needs its green limit: green_below"),
    ("p95: fast", "'objectives.p95': 'fast' is not a number with an optional unit"),
    ("p95: true", "'objectives.p95': an objective is a number or a mapping"),
    ("p95: .inf", "'objectives.p95.green_below': must be a finite number"),
])
def test_objective_errors_name_the_field(tmp_path, entry, problem):
    with pytest.raises(EnvironmentFileError) as err:
        objectives(tmp_path, f"  {entry}\n")
    assert problem in str(err.value)


# --- mailbox: a union on kind -----------------------------------------------------------------------

def mailbox(tmp_path, text, variables=None):
    return environment.load("x", write(tmp_path, "x", BASE + "mailbox: " + text + "\n"), variables or {})


def test_mailbox_kinds_each_with_their_own_fields(tmp_path):
    env, _ = mailbox(tmp_path, "{url: 'http://maildev:1080/'}")  # maildev when kind is not written
    assert isinstance(env.section("mailbox"), environment.MailDev)
    assert env.section("mailbox").url == "http://maildev:1080"
    assert env.section("mailbox").recipient_pattern == "postdeploy+{run_id}-{n}@example.com"
    env, secrets = mailbox(tmp_path, "{kind: mailpit, url: 'https://mailpit', auth: {username: qa, password: '${MP}'}}",
                           {"MP": "mailpit-pw"})
    assert isinstance(env.section("mailbox"), environment.Mailpit) and secrets == {"mailpit-pw"}
    env, secrets = mailbox(tmp_path, "{kind: imap, host: imap.example.com, username: qa@example.com, "
                                     "password: '${IMAP_PW}', recipient_pattern: 'qa+{run_id}@example.com'}",
                           {"IMAP_PW": "imap-pw-1"})
    box = env.section("mailbox")
    assert isinstance(box, environment.Imap) and secrets == {"imap-pw-1"}
    assert (box.port, box.tls, box.folder) == (993, "implicit", "INBOX")
    env, _ = mailbox(tmp_path, "{kind: imap, host: imap.example.com, username: qa, password: p, tls: starttls}")
    assert env.section("mailbox").port == 143
    env, _ = mailbox(tmp_path, "{kind: imap, host: imap.example.com, username: qa, password: p, port: 1143, "
                               "tls: none, folder: Tests}")
    assert (env.section("mailbox").port, env.section("mailbox").folder) == (1143, "Tests")


def test_an_imap_password_variable_is_needed_only_when_the_mailbox_is_used(tmp_path):
    env, secrets = mailbox(tmp_path, "{kind: imap, host: imap.example.com, username: qa, password: '${IMAP_PW}', "
                                     "port: '${IMAP_PORT}'}")
    assert secrets == set()
    with pytest.raises(MissingSecret, match=r"\$\{IMAP_PW\} \(for 'mailbox.password'\), \$\{IMAP_PORT\} \(for 'mailbox.port'\)"):
        env.section("mailbox")


@pytest.mark.parametrize("text, problem", [
    ("{kind: imapp, url: 'http://x'}", "'mailbox.kind' must be one of maildev, mailpit, imap, got 'imapp' "
                                       "(did you mean 'imap'?)"),
    ("{kind: imap, host: imap.x, username: u}", "'mailbox.password' is required but missing"),
    ("{kind: imap, host: imap.x, username: u, password: p, prot: 1}", "'mailbox.prot' is not a known field "
                                                                      "(did you mean 'port'?)"),
    ("{kind: imap, host: 'imaps://imap.x', username: u, password: p}", "'mailbox.host': a host name such as"),
    ("{kind: imap, host: imap.x, username: u, password: p, tls: ssl}", "'mailbox.tls': must be 'implicit', "
                                                                       "'starttls' or 'none'"),
    ("{kind: mailpit, url: 'mailpit:8025'}", "'mailbox.url': must be an absolute http(s) URL"),
    ("{kind: mailpit, url: 'http://m', auth: {username: u}}", "'mailbox.auth.password' is required but missing"),
    ("{url: 'http://m', recipient_pattern: 'qa@example.com'}", "'mailbox.recipient_pattern': 'qa@example.com' has "
                                                              "no {run_id}"),
    ("{url: 'http://m', recipient_pattern: 'qa+{run}@example.com'}", "uses {run}; a recipient pattern knows only"),
])
def test_mailbox_errors_name_the_field_as_the_file_writes_it(tmp_path, text, problem):
    with pytest.raises(EnvironmentFileError) as err:
        mailbox(tmp_path, text)
    assert problem in str(err.value)


def test_the_email_family_declares_the_mailbox_union(tmp_path):
    from postdeploy import families

    assert families.Registry(families.builtin())["email_delivery"].sections["mailbox"] is environment.Mailbox


# --- rate limits --------------------------------------------------------------------------------------

RATE = BASE + "accounts:\n  admin: {username: a, password: p}\nsecrets: {partner_key: k-1}\nrate_limits:\n"


def rate_limits(tmp_path, rows):
    env, _ = environment.load("x", write(tmp_path, "x", RATE + rows), {})
    return env.section("rate_limits")


@pytest.mark.parametrize("window, seconds", [
    ("1m", 60), ("60s", 60), ("60", 60), ("1 minute", 60), ("2 minutes", 120), ("1h", 3600), ("500ms", 0.5),
    ("1.5m", 90), ("30 sec", 30),
])
def test_a_rate_limit_window_is_read_in_seconds(tmp_path, window, seconds):
    (limit,) = rate_limits(tmp_path, f"  - {{route: /api/v1/orders, limit: 100, window: '{window}'}}\n")
    assert limit.window == seconds


def test_rate_limits_are_typed_with_their_defaults(tmp_path):
    first, second, third = rate_limits(tmp_path, """\
  - {route: '/api/*', probe: /api/v1/orders, limit: 100, window: 1m, headers: x-ratelimit, retry_after: true}
  - {route: /api/v1/notifications/test, method: post, identity: admin, limit: 5, window: 60}
  - {route: '/partner/{id}/events', probe: /partner/7/events, identity: secrets.partner_key, limit: 10, window: 1s}
""")
    assert (first.method, first.identity, first.path, first.headers, first.retry_after) == \
        ("GET", "anonymous", "/api/v1/orders", "x-ratelimit", True)
    assert first.describe() == "100 requests per 60 s to GET /api/* as anonymous"
    assert (second.method, second.path, second.headers, second.retry_after, second.api_key) == \
        ("POST", "/api/v1/notifications/test", "none", False, None)
    assert third.api_key == "partner_key" and third.api_key_header == "X-API-Key"


@pytest.mark.parametrize("row, problem", [
    ("{route: /api/x, limit: 5, windw: 1m}", "'rate_limits[0].windw' is not a known field (did you mean 'window'?)"),
    ("{route: /api/x, limit: 5}", "'rate_limits[0].window' is required but missing"),
    ("{route: /api/x, limit: 5, window: 1 fortnight}", "'rate_limits[0].window': a window is a duration such as 1m"),
    ("{route: /api/x, limit: 5, window: 0}", "'rate_limits[0].window': must be greater than 0, got 0 (seconds)"),
    ("{route: /api/x, limit: 0, window: 1m}", "'rate_limits[0].limit': must be greater than or equal to 1"),
    ("{route: api/x, limit: 5, window: 1m}", "'rate_limits[0].route': a path starting with '/'"),
    ("{route: '/api/*', limit: 5, window: 1m}", "route '/api/*' is a pattern: add 'probe'"),
    ("{route: '/api/*', probe: /other/x, limit: 5, window: 1m}", "probe '/other/x' is not a path of the route"),
    ("{route: /api/x, limit: 5, window: 1m, headers: draft}", "'rate_limits[0].headers': must be 'ietf', "
                                                              "'x-ratelimit' or 'none'"),
    ("{route: /api/x, method: FETCH, limit: 5, window: 1m}", "'rate_limits[0].method': unknown HTTP method"),
    ("{route: /api/x, limit: 5, window: 1m, identity: admn}", "rate_limits[0] (GET /api/x) names the identity "
                                                              "'admn', which is neither 'anonymous', an account nor"),
    ("{route: /api/x, limit: 5, window: 1m, identity: secrets.partner}", "(did you mean 'secrets.partner_key'?)"),
    ("{route: /api/x, limit: 5, window: 1m, service: apii}", "rate_limits[0].service names the service 'apii'"),
])
def test_rate_limit_errors_name_the_field(tmp_path, row, problem):
    with pytest.raises(EnvironmentFileError) as err:
        rate_limits(tmp_path, f"  - {row}\n")
    assert problem in str(err.value)


# --- the sections release health and security declare ---------------------------------------------

def test_prometheus_logs_and_tls_are_typed_by_their_families(tmp_path):
    text = BASE + """prometheus: {base_url: 'https://prometheus.example.com/', token: '${PROM_TOKEN}'}
logs:
  api: {kind: file, path: /var/log/api/*.log}
  k8s: {kind: command, command: "kubectl logs deploy/api --since=1h"}
  loki: {kind: loki, url: 'https://loki.example.com', query: '{app="api"}', token: '${LOKI_TOKEN}'}
tls: {hosts: [api.example.com, 'admin.example.com:8443'], min_version: 1.3}
"""
    env, secrets = environment.load("x", write(tmp_path, "x", text), {"PROM_TOKEN": "prom-tok-1"}, model=builtin_model())
    assert secrets == {"prom-tok-1"}  # the unset Loki token is not registered ...
    prometheus = env.section("prometheus")
    assert (prometheus.base_url, prometheus.token, prometheus.timeout_s) == ("https://prometheus.example.com",
                                                                             "prom-tok-1", 10)
    with pytest.raises(MissingSecret, match=r"\$\{LOKI_TOKEN\} \(for 'logs.loki.token'\)"):
        env.section("logs")  # ... and the section needs it only when used
    env, _ = environment.load("x", tmp_path, {"PROM_TOKEN": "p", "LOKI_TOKEN": "l"}, model=builtin_model())
    logs = env.section("logs")
    assert logs["api"].kind == "file" and logs["k8s"].command == ["kubectl", "logs", "deploy/api", "--since=1h"]
    assert logs["loki"].query == '{app="api"}'
    tls = env.section("tls")
    assert (tls.hosts, tls.expiry_margin_days, tls.min_version) == (["api.example.com", "admin.example.com:8443"], 30,
                                                                    "1.3")


@pytest.mark.parametrize("text, problem", [
    ("prometheus: {base_url: 'http://p', timout_s: 3}", "'prometheus.timout_s' is not a known field "
                                                        "(did you mean 'timeout_s'?)"),
    ("prometheus: {token: t}", "'prometheus.base_url' is required but missing"),
    ("logs: {app: {path: x}}", "'logs.app.kind' is required but missing: one of file, command, loki"),
    ("logs: {app: {kind: fiel, path: x}}", "'logs.app.kind' must be one of file, command, loki, got 'fiel' "
                                           "(did you mean 'file'?)"),
    ("logs: {app: {kind: loki, url: 'http://l', qery: x}}", "'logs.app.qery' is not a known field "
                                                             "(did you mean 'query'?)"),
    ("logs: {}", "'logs': must have at least 1 item"),
    ("tls: {hosts: ['https://x.com']}", "'tls.hosts': a host is a name with an optional port"),
    ("tls: {hosts: [x.com], expiry_margin_day: 3}", "'tls.expiry_margin_day' is not a known field "
                                                    "(did you mean 'expiry_margin_days'?)"),
    ("tls: {hosts: [x.com], expiry_margin_days: -1}", "'tls.expiry_margin_days': must be greater than or equal to 0"),
    ("tls: {hosts: []}", "'tls.hosts': must have at least 1 item"),
])
def test_family_section_errors_name_the_field(tmp_path, text, problem):
    with pytest.raises(EnvironmentFileError) as err:
        environment.load("x", write(tmp_path, "x", BASE + text + "\n"), {}, model=builtin_model())
    assert problem in str(err.value)



def test_a_checklist_url_needs_the_place_of_the_items_id():
    from pydantic import ValidationError

    from postdeploy.environment import Release

    assert Release(checklist_url="https://wiki.example/v2#{id}").checklist_url == "https://wiki.example/v2#{id}"
    for wrong in ("https://wiki.example/v2", "wiki.example/{id}"):
        with pytest.raises(ValidationError, match="an http\\(s\\) address with \\{id\\}"):
            Release(checklist_url=wrong)
