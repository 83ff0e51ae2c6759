import logging

from postdeploy import redact


def setup_function():
    redact.clear()


def test_registered_secrets_are_masked_everywhere():
    redact.register("hunter2-password")
    assert redact.redact("login with hunter2-password now") == "login with [REDACTED] now"
    assert "hunter2" not in redact.redact(b"x=hunter2-password")


def test_jwts_bearer_tokens_and_url_passwords_are_masked_without_registration():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXNpZ24"
    text = f"Authorization: Bearer abcdefgh12345678 token={jwt} postgresql://reader:pa55word@db:5432/app"
    out = redact.redact(text)
    assert jwt not in out and "abcdefgh12345678" not in out and "pa55word" not in out
    assert "postgresql://reader:[REDACTED]@db:5432/app" in out


def test_headers_that_carry_credentials_are_masked_by_name():
    headers = redact.redact_headers({"Authorization": "Basic Zm9vOmJhcg==", "Cookie": "sid=1", "Accept": "text/html"})
    assert headers == [("Authorization", "[REDACTED]"), ("Cookie", "[REDACTED]"), ("Accept", "text/html")]


def test_json_fields_that_carry_credentials_are_masked_by_name():
    body = {"email": "a@example.com", "password": "x", "user": {"access_token": "t0k", "role": "admin"}}
    assert redact.redact_json(body) == {
        "email": "a@example.com", "password": "[REDACTED]", "user": {"access_token": "[REDACTED]", "role": "admin"}}


def test_key_value_pairs_in_free_text_are_masked():
    assert redact.redact('{"password": "letmein"}') == '{"password": "[REDACTED]"}'


def test_log_records_are_redacted_once_installed(caplog):
    redact.install_log_redaction()
    redact.register("top-secret-value")
    with caplog.at_level(logging.INFO):
        logging.getLogger("any").info("the value is %s", "top-secret-value")
    assert "top-secret-value" not in caplog.text
    assert "[REDACTED]" in caplog.text
