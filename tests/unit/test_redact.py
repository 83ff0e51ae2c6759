import base64
import html
import json
import logging
import re
from decimal import Decimal
from urllib.parse import quote, quote_plus

import allure
import pytest
from allure_commons.types import AttachmentType

from postdeploy import evidence, redact

# every character that breaks a naive parser: URL delimiters, percent, JSON and shell quoting, spaces
NASTY = 'p@ss: w/rd%41 "q" \\ end'


def setup_function():
    redact.clear()


@pytest.fixture
def attached(monkeypatch):
    """What evidence hands to Allure, as (name, body, attachment_type)."""
    seen = []
    monkeypatch.setattr(allure, "attach", lambda body, name=None, attachment_type=None, extension=None:
                        seen.append((name, body, attachment_type)))
    return seen


def test_registered_secrets_are_masked_everywhere():
    redact.register("hunter2-password")
    assert redact.redact("login with hunter2-password now") == "login with [REDACTED] now"
    assert "hunter2" not in redact.redact(b"x=hunter2-password")


def test_short_values_are_not_registered():
    redact.register("abc", "", None)
    assert redact.registered() == frozenset()
    assert redact.redact("abc abc") == "abc abc"


@pytest.mark.parametrize("encode", [
    lambda s: s,
    lambda s: quote(s, safe=""),
    lambda s: quote(s),
    lambda s: quote_plus(s),
    lambda s: re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(s, safe="")),
    lambda s: json.dumps(s)[1:-1],
    lambda s: json.dumps(s).replace("/", "\\/")[1:-1],
    lambda s: base64.b64encode(s.encode()).decode(),
    lambda s: base64.b64encode(s.encode()).decode().rstrip("="),
    lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("="),
    lambda s: html.escape(s),
    lambda s: html.escape(s, quote=False),
], ids=["plain", "url", "url-keep-slash", "url-plus", "url-lower-hex", "json", "json-slash", "base64",
        "base64-unpadded", "base64url", "base64url-unpadded", "html", "html-no-quotes"])
def test_a_registered_password_is_masked_in_every_encoded_form(encode):
    redact.register(NASTY)
    form = encode(NASTY)
    assert redact.redact(f"seen <{form}> here") == "seen <[REDACTED]> here"


def test_encoded_forms_are_computed_at_registration():
    redact.register(NASTY)
    assert redact.registered() == {NASTY.encode()}
    forms = redact.registered_forms()
    assert quote(NASTY, safe="").encode() in forms and json.dumps(NASTY)[1:-1].encode() in forms
    assert list(forms) == sorted(forms, key=len, reverse=True)  # the longest form is replaced first


def test_a_json_body_with_the_password_shows_no_piece_of_it():
    redact.register(NASTY)
    body = json.dumps({"email": "a@example.com", "pass": NASTY})
    assert json.loads(redact.redact(body)) == {"email": "a@example.com", "pass": "[REDACTED]"}


@pytest.mark.parametrize("dsn", [
    f"postgresql://reader:{quote(NASTY, safe='')}@db.internal:5432/app",
    f"postgres://reader:{quote(NASTY, safe='')}@db1,db2/app?sslmode=require",
    "host=db.internal user=reader password='{}' dbname=app".format(NASTY.replace("\\", "\\\\").replace("'", "\\'")),
    f"postgresql://reader@db.internal/app?password={quote(NASTY, safe='')}",
])
def test_dsn_passwords_are_read_like_libpq_reads_them(dsn):
    assert NASTY in redact.dsn_passwords(dsn)
    redact.register(*redact.dsn_passwords(dsn))
    out = redact.redact(f"connecting to {dsn}")
    assert "w/rd" not in out and "w%2Frd" not in out and "[REDACTED]" in out


def test_dsn_passwords_of_simple_and_ambiguous_dsns():
    assert redact.dsn_passwords("postgresql://u:p%40ss@h/db") == {"p@ss"}
    assert redact.dsn_passwords("host=h user=u password='p ss'") == {"p ss"}
    assert redact.dsn_passwords("postgresql://u@h/db") == set()
    # a raw "@" in the password: libpq reads "p", a person meant "p@ss"; both are masked
    assert "p@ss" in redact.dsn_passwords("postgresql://u:p@ss@h/db")
    assert redact.dsn_passwords("not a dsn") == set()


def test_jwts_bearer_tokens_and_url_passwords_are_masked_without_registration():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXNpZ24"
    text = f"Authorization: Bearer abcdefgh12345678 token={jwt} postgresql://reader:pa55word@db:5432/app"
    out = redact.redact(text)
    assert jwt not in out and "abcdefgh12345678" not in out and "pa55word" not in out
    assert "postgresql://reader:[REDACTED]@db:5432/app" in out


def test_url_password_is_masked_up_to_the_last_at_before_the_host():
    assert redact.redact("postgresql://u:p@ss@h/db") == "postgresql://u:[REDACTED]@h/db"
    assert redact.redact("redis://:s3cr3t@cache:6379/0") == "redis://:[REDACTED]@cache:6379/0"
    assert redact.redact("https://h/a?b=c@d and mailto:x@y") == "https://h/a?b=c@d and mailto:x@y"


def test_headers_that_carry_credentials_are_masked_by_name():
    headers = redact.redact_headers({"Authorization": "Basic Zm9vOmJhcg==", "Cookie": "sid=1", "Accept": "text/html"})
    assert headers == [("Authorization", "[REDACTED]"), ("Cookie", "[REDACTED]"), ("Accept", "text/html")]
    assert redact.redact_headers([("X-Tenant-Api-Key", "k1"), ("Access-Control-Allow-Credentials", "true")]) == [
        ("X-Tenant-Api-Key", "[REDACTED]"), ("Access-Control-Allow-Credentials", "true")]


@pytest.mark.parametrize("key", ["password", "passwd", "pwd", "secret", "token", "access_token", "refreshToken",
                                 "id_token", "api_key", "apiKey", "X-API-Key", "apikey", "authorization",
                                 "credentials", "cookie", "session", "session_id", "sessionId", "private_key",
                                 "client_secret", "dsn", "db.password", "new_password", "password2"])
def test_sensitive_key_names(key):
    assert redact.is_sensitive_key(key)


@pytest.mark.parametrize("key", ["token_type", "passengers", "compass", "bypass_cache", "tokenizer", "expires_in",
                                 "max_tokens", "password_hint", "token_url", "session_timeout", "secret_name",
                                 "allow_credentials", "Access-Control-Allow-Credentials", "has_password", "email",
                                 "keyboard", "monkey", "id"])
def test_harmless_key_names(key):
    assert not redact.is_sensitive_key(key)


def test_json_fields_that_carry_credentials_are_masked_by_name():
    body = {"email": "a@example.com", "password": "x", "user": {"access_token": "t0k", "role": "admin"}}
    assert redact.redact_json(body) == {
        "email": "a@example.com", "password": "[REDACTED]", "user": {"access_token": "[REDACTED]", "role": "admin"}}


def test_json_keys_are_matched_as_whole_words_in_nested_structures():
    body = {
        "token_type": "bearer", "expires_in": 3600, "accessToken": "abc", "passengers": 3, "compass": "N",
        "bypass_cache": True, "items": [{"sessionId": "s-1", "name": "x"}, {"pin": 1}],
        "auth": {"refresh_token": "r-1", "scope": "read"}, "pwd": 1234, "secret": None, "password": "",
    }
    assert redact.redact_json(body) == {
        "token_type": "bearer", "expires_in": 3600, "accessToken": "[REDACTED]", "passengers": 3, "compass": "N",
        "bypass_cache": True, "items": [{"sessionId": "[REDACTED]", "name": "x"}, {"pin": 1}],
        "auth": {"refresh_token": "[REDACTED]", "scope": "read"}, "pwd": "[REDACTED]", "secret": None,
        "password": "",
    }


def test_credential_containers_and_name_value_pairs():
    state = {"cookies": [{"name": "sid", "value": "c00kie", "domain": "app.test", "path": "/", "httpOnly": True}],
             "origins": [{"localStorage": [{"name": "access_token", "value": "t0k"},
                                           {"name": "theme", "value": "dark"}]}],
             "secrets": ["one", "two"]}
    assert redact.redact_json(state) == {
        "cookies": [{"name": "sid", "value": "[REDACTED]", "domain": "app.test", "path": "/", "httpOnly": True}],
        "origins": [{"localStorage": [{"name": "access_token", "value": "[REDACTED]"},
                                      {"name": "theme", "value": "dark"}]}],
        "secrets": ["[REDACTED]", "[REDACTED]"]}
    har = '{"headers": [{"name": "Authorization", "value": "Basic Zm9v"}, {"name": "Accept", "value": "*/*"}]}'
    assert json.loads(redact.redact(har)) == {
        "headers": [{"name": "Authorization", "value": "[REDACTED]"}, {"name": "Accept", "value": "*/*"}]}


def test_registered_secrets_in_non_string_json_values():
    redact.register("424242")
    assert redact.redact_json({"code": 424242, "n": 7, "ok": True}) == {"code": "[REDACTED]", "n": 7, "ok": True}


def test_key_value_pairs_in_free_text_are_masked():
    assert redact.redact('{"password": "letmein"}') == '{"password": "[REDACTED]"}'
    assert redact.redact('{"access_token": "a\\"b", "token_type": "bearer"}') == (
        '{"access_token": "[REDACTED]", "token_type": "bearer"}')
    assert redact.redact("password=hunter2&token_type=bearer&expires_in=3600") == (
        "password=[REDACTED]&token_type=bearer&expires_in=3600")
    assert redact.redact("{'client_secret': 'a b c'}") == "{'client_secret': '[REDACTED]'}"
    assert redact.redact("db.password: s3cret\nX-Api-Key: k-123") == "db.password: [REDACTED]\nX-Api-Key: [REDACTED]"
    assert redact.redact("next=/cb?refresh_token=r1&a=1") == "next=/cb?refresh_token=[REDACTED]&a=1"
    assert redact.redact('"log line\\npassword=p1"') == '"log line\\npassword=[REDACTED]"'
    assert redact.redact('{\\"password\\": \\"p 1\\"}') == '{\\"password\\": \\"[REDACTED]\\"}'
    assert redact.redact("Authorization: Bearer abcdefgh12345678") == "Authorization: [REDACTED]"


def test_harmless_keys_in_free_text_stay_visible():
    text = "token_type=bearer passengers: 3 compass=north bypass_cache=1 tokenizer: bpe session_timeout=30"
    assert redact.redact(text) == text
    message = "expected 200 from POST http://api.test/token: got 401; Access-Control-Allow-Credentials: true"
    assert redact.redact(message) == message
    placeholders = "(write token: ${API_TOKEN} in the environment file) password={{admin_password}}"
    assert redact.redact(placeholders) == placeholders  # they name a secret, they are not one


def test_the_environment_can_add_sensitive_keys():
    assert redact.redact_json({"tenant_pin": "1234"}) == {"tenant_pin": "1234"}
    redact.add_sensitive_keys("tenant_pin", "X-Signature")
    try:
        assert redact.redact_json({"tenant_pin": "1234", "tenant_pin_hint": "four"}) == {
            "tenant_pin": "[REDACTED]", "tenant_pin_hint": "four"}
        assert redact.redact("tenantPin=1234 x-signature: abc") == "tenantPin=[REDACTED] x-signature: [REDACTED]"
        assert redact.redact_headers([("X-Signature", "abc")]) == [("X-Signature", "[REDACTED]")]
    finally:
        redact.reset_sensitive_keys()
    assert redact.redact_json({"tenant_pin": "1234"}) == {"tenant_pin": "1234"}


def test_table_cells_of_every_type_are_redacted(attached):
    redact.register("424242", "s3cr3t-value")
    rows = [{"id": 1, "code": 424242, "price": Decimal("9.50"), "note": b"has s3cr3t-value", "ok": True,
             "meta": {"password": "x", "n": 2}, "password_hash": "$2b$12$abc", "token_type": "bearer", "gone": None}]
    evidence.table("rows", rows)
    (name, body, kind), = attached
    assert name == "rows" and kind == AttachmentType.CSV
    header, line = body.strip().splitlines()
    assert header == "id,code,price,note,ok,meta,password_hash,token_type,gone"
    assert line == ('1,[REDACTED],9.50,has [REDACTED],True,"{""password"": ""[REDACTED]"", ""n"": 2}",'
                    '[REDACTED],bearer,')


def test_untyped_and_typed_text_files_are_redacted_binary_files_are_not(attached, tmp_path):
    redact.register(NASTY)
    log = tmp_path / "server.log"
    log.write_text(f"started\nlogin with {quote_plus(NASTY)}\n", encoding="utf-8")
    yaml = tmp_path / "conf.yaml"
    yaml.write_text("password: hunter2\n", encoding="utf-8")
    blob = tmp_path / "trace.zip"
    blob.write_bytes(b"PK\x03\x04\x14\x00" + NASTY.encode())
    evidence.file("log", log)
    evidence.file("conf", yaml, attachment_type=AttachmentType.YAML)
    evidence.file("trace", blob, extension="zip")
    (_, log_body, _), (_, yaml_body, _), (_, zip_body, _) = attached
    assert log_body == b"started\nlogin with [REDACTED]\n"
    assert yaml_body == b"password: [REDACTED]\n"
    assert zip_body == blob.read_bytes()  # archives are redacted by their producer (browser.redact_trace)


def test_json_text_and_html_attachments_are_redacted(attached):
    redact.register(NASTY)
    evidence.json("body", {"token": "t", "note": NASTY, "when": Decimal("1.5")})
    evidence.text("text", f"pw={NASTY}")
    evidence.html("page", f"<p>{html.escape(NASTY)}</p>")
    png = b"\x89PNG\r\n\x1a\n" + NASTY.encode()
    evidence.image("shot", png)
    bodies = [body for _, body, _ in attached]
    assert json.loads(bodies[0]) == {"token": "[REDACTED]", "note": "[REDACTED]", "when": "1.5"}
    assert bodies[1] == "pw=[REDACTED]" and bodies[2] == "<p>[REDACTED]</p>"
    assert bodies[3] == png  # pixels cannot be redacted by text replacement


def test_log_records_are_redacted_once_installed(caplog):
    redact.install_log_redaction()
    try:
        redact.register("top-secret-value")
        with caplog.at_level(logging.INFO):
            logging.getLogger("any").info("the value is %s", "top-secret-value")
        assert "top-secret-value" not in caplog.text
        assert "[REDACTED]" in caplog.text
    finally:
        redact.uninstall_log_redaction()


def test_log_redaction_is_idempotent_and_restores_the_previous_factory(monkeypatch):
    # start clean whether or not the postdeploy plugin of this very run installed redaction already
    outer = logging.getLogRecordFactory()
    monkeypatch.setattr(redact, "_installs", 0)
    monkeypatch.setattr(redact, "_previous_factory", None)

    def before(*args, **kwargs):
        return logging.LogRecord(*args, **kwargs)

    logging.setLogRecordFactory(before)
    try:
        assert redact.install_log_redaction() is before
        installed = logging.getLogRecordFactory()
        assert installed is not before
        redact.install_log_redaction()  # a nested run (pytester in process) installs again: still one factory
        assert logging.getLogRecordFactory() is installed
        redact.uninstall_log_redaction()  # the nested run ends: the outer run still redacts
        assert logging.getLogRecordFactory() is installed
        redact.uninstall_log_redaction()
        assert logging.getLogRecordFactory() is before
        redact.uninstall_log_redaction()  # one too many: harmless
        assert logging.getLogRecordFactory() is before
        redact.register("top-secret-value")
        record = logging.getLogger("any").makeRecord("any", logging.INFO, __file__, 1, "v=%s", ("top-secret-value",),
                                                     None)
        assert record.getMessage() == "v=top-secret-value"
    finally:
        logging.setLogRecordFactory(outer)


@pytest.mark.parametrize("kind", ["json_login", "form_login", "cookie_login", "bearer", "api_key"])
def test_a_nasty_password_never_reaches_the_report_through_any_auth_kind(kind, attached):
    """Field and header names that say nothing ("pass", "X-Tenant"): only the registered value hides it."""
    import httpx

    from postdeploy.auth import Sessions
    from postdeploy.environment import Environment
    from postdeploy.http import Clients

    token = "tok " + NASTY
    env = Environment.model_validate({
        "name": "t", "services": {"api": {"base_url": "http://api.test"}},
        "accounts": {"admin": {"username": "admin@example.com", "password": NASTY, "token": token}},
        "auth": {"kind": kind, "service": "api", "path": "/login", "username_field": "login",
                 "password_field": "pass", "token_path": "jwt", "header": "X-Tenant", "scheme": "Bearer"},
    })
    redact.register(NASTY, token)  # what the plugin registers from the environment file

    def target(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/login":  # a careless target that echoes the password back
            received = (dict(httpx.QueryParams(request.content.decode())) if kind == "form_login"
                        else json.loads(request.content))["pass"]
            return httpx.Response(200, json={"jwt": "t-" + NASTY[::-1], "echo": received},
                                  headers={"Set-Cookie": f"sid={quote(NASTY[::-1], safe='')}; HttpOnly"})
        return httpx.Response(200, text=f"hello {request.headers.get('x-tenant') or request.headers.get('cookie')}")

    clients = Clients(env, transport=httpx.MockTransport(target))
    creds = Sessions(env, clients).credentials("admin")
    clients["api"].request("GET", "/me", headers=list(creds.headers))
    assert len(attached) == (1 if kind in ("bearer", "api_key") else 2)
    report = "\n".join(str(body) for _, body, _ in attached)
    for secret in (NASTY, token, NASTY[::-1]):
        for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
            assert form not in report, (kind, form)
    for piece in ("w/rd", "w%2Frd", "rd%41", '\\"q\\"', "dr/w"):
        assert piece not in report, (kind, piece)
    assert "[REDACTED]" in report
