"""The @security library on answers built here: grading, disclosure, cookies, forged tokens, the probe judgement,
the secret scan and the reported settings (the sandbox proves them end to end: test_security_matrix.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC

import httpx
import jwt
import pytest
from pydantic import ValidationError

from postdeploy.errors import CheckFailed, Inconclusive
from postdeploy.http import Exchange
from postdeploy.security import (
    Security,
    catalogue,
    cookies,
    exposure,
    headers,
    settings,
    tokens,
)
from postdeploy.security.section import Expected

GOOD_CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")


def answer(path: str = "/", status: int = 200, body: bytes = b"", scheme: str = "http", **header: str) -> Exchange:
    pairs = [(k.replace("_", "-"), v) for k, v in header.items()]
    return Exchange("web", "GET", f"{scheme}://app.example{path}", (), b"", status, httpx.Headers(pairs), body, 1.0)


# ---- headers -------------------------------------------------------------------------------------------------

def test_a_strict_policy_grades_a_plus_and_a_weak_one_c_with_each_failed_test():
    strong = headers.grade(answer(content_security_policy=GOOD_CSP, x_content_type_options="nosniff",
                                  referrer_policy="strict-origin-when-cross-origin"))
    assert (strong.score, strong.grade, strong.failed) == (105, "A+", [])
    weak = headers.grade(answer(content_security_policy="script-src 'self' 'unsafe-inline' 'unsafe-eval' *",
                                x_frame_options="DENY", x_content_type_options="nosniff",
                                referrer_policy="strict-origin-when-cross-origin"))
    assert (weak.score, weak.grade) == (50, "C")  # no +5 bonus below 90
    assert [t.modifier for t in weak.failed] == [-20, -20, -10]


def test_nonces_neutralise_unsafe_inline_and_missing_headers_cost_what_the_observatory_says():
    nonce = headers.grade(answer(content_security_policy="script-src 'nonce-abc' 'unsafe-inline'; frame-ancestors 'self'",
                                 x_content_type_options="nosniff"))
    assert nonce.score == 100
    bare = headers.grade(answer())
    assert {t.result: t.modifier for t in bare.failed} == {"csp-not-implemented": -25,
                                                           "x-frame-options-not-implemented": -20,
                                                           "x-content-type-options-not-implemented": -5}
    assert (bare.score, bare.grade) == (50, "C")


def test_hsts_counts_on_https_answers_only():
    base = {"content_security_policy": GOOD_CSP, "x_content_type_options": "nosniff"}
    assert headers.grade(answer(**base)).score == 100
    assert headers.grade(answer(scheme="https", **base)).score == 80
    short = headers.grade(answer(scheme="https", strict_transport_security="max-age=86400", **base))
    assert short.score == 90 and "less-than-six-months" in short.failed[0].result


def test_check_grade_names_the_grade_the_score_and_the_failed_tests():
    with pytest.raises(CheckFailed, match=r"expected security headers graded at least A \(90\), got C \(50\) at "
                                          r"GET http://app.example/login \(service 'web'\): csp-not-implemented"):
        headers.check_grade(answer("/login"), "A")
    with pytest.raises(CheckFailed, match="missing Permissions-Policy"):
        headers.check_grade(answer(content_security_policy=GOOD_CSP, x_content_type_options="nosniff"), "A",
                            ["Permissions-Policy"])


def test_software_is_disclosed_by_its_banner_headers_or_a_versioned_server():
    headers.check_no_disclosure(answer(server="nginx"))
    with pytest.raises(CheckFailed, match=r"got Server: nginx/1\.25\.3"):
        headers.check_no_disclosure(answer(server="nginx/1.25.3"))
    with pytest.raises(CheckFailed, match="got X-AspNet-Version: 4.0.30319"):
        headers.check_no_disclosure(answer(x_aspnet_version="4.0.30319"))


# ---- cookies -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "https", "problems"), [
    ("sid=1; HttpOnly; SameSite=Lax; Path=/", False, []),
    ("sid=1; Path=/", False, ["a session cookie without HttpOnly", "a session cookie without SameSite"]),
    ("sid=1; HttpOnly; SameSite=Strict", True, ["no Secure on an HTTPS answer"]),
    ("theme=dark; Path=/", False, []),  # not a session cookie
    ("theme=dark; SameSite=None", False, ["SameSite=None without Secure"]),
    ("__Host-id=1; Secure; HttpOnly; SameSite=Lax; Path=/; Domain=app.example", True,
     ["__Host- prefix without Secure, Path=/ and no Domain"]),
    ("__Secure-id=1; HttpOnly; SameSite=Lax", False, ["__Secure- prefix without Secure"]),
])
def test_each_cookie_is_held_to_the_rules_of_its_kind(header, https, problems):
    assert cookies.problems_of(cookies.Cookie.parse(header, "GET /", https)) == problems


def test_a_name_the_environment_lists_is_a_session_cookie():
    cookie = cookies.Cookie.parse("prefs=1; Path=/", "GET /", False)
    assert cookies.problems_of(cookie) == []
    assert "a session cookie without HttpOnly" in cookies.problems_of(cookie, ["prefs"])
    with pytest.raises(CheckFailed, match="cookie prefs set by GET /: a session cookie without HttpOnly"):
        cookies.check_cookies([cookie], ["prefs"])


# ---- tokens --------------------------------------------------------------------------------------------------

REAL = jwt.encode({"sub": "42", "role": "admin", "iat": 1_700_000_000, "exp": 1_700_003_600}, "s" * 48,
                  algorithm="HS256")
LAX = {"verify_exp": False, "verify_iat": False}  # the claims' times are fixed: only the signature is checked


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_tokens_copy_the_real_claims_under_every_well_known_secret():
    forged = tokens.forge(REAL, ["team-default"], now=1_800_000_000)
    assert len(forged) == 1 + len(tokens.WELL_KNOWN_SECRETS) + 1 + 1
    assert forged[0].token.endswith(".") and jwt.get_unverified_header(forged[0].token)["alg"] == "none"
    by_label = {f.label: f.token for f in forged}
    claims = jwt.decode(by_label["HS256, secret 'se…' (6 chars)"], "secret", algorithms=["HS256"], options=LAX)
    assert claims == {"sub": "42", "role": "admin", "iat": 1_800_000_000, "exp": 1_800_000_300}
    assert jwt.decode(by_label["HS256, secret 'te…' (12 chars)"], "team-default", algorithms=["HS256"], options=LAX)["sub"] == "42"
    signing_input, signature = by_label["HS256, secret the empty key"].rsplit(".", 1)
    mac = hmac.new(b"", signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == mac
    tampered = forged[-1].token
    assert tampered.rsplit(".", 1)[0] == REAL.rsplit(".", 1)[0] and tampered != REAL


def test_an_accepted_forgery_is_the_evidence_and_a_route_that_refuses_the_real_token_tells_nothing():
    refused, accepted = answer("/me", 401), answer("/me", 200)
    tokens.all_refused([("a", refused)], "forged token", baseline=accepted)
    with pytest.raises(CheckFailed, match=r"1 of 2 did not, first: b was accepted: GET http://app.example/me"):
        tokens.all_refused([("a", refused), ("b", accepted)], "forged token", baseline=accepted)
    with pytest.raises(Inconclusive, match="cannot tell a forged token from a good one"):
        tokens.all_refused([("a", refused)], "forged token", baseline=refused)


def test_token_lifetime_and_a_token_that_is_no_jwt():
    tokens.lifetime(REAL, 3600)
    with pytest.raises(CheckFailed, match="expected the sign-in's token to expire within 600 s, got a lifetime of "
                                          "3600 s"):
        tokens.lifetime(REAL, 600)
    with pytest.raises(CheckFailed, match="no exp claim: it never expires"):
        tokens.lifetime(jwt.encode({"sub": "1"}, "k" * 40, algorithm="HS256"), 600)
    with pytest.raises(Inconclusive, match="not a JWT"):
        tokens.forge("opaque-session-token")


# ---- exposure ------------------------------------------------------------------------------------------------

class Site:
    """A client answering from a dict of paths; anything else gets ``default``."""

    def __init__(self, pages: dict[str, tuple[int, bytes]], default: tuple[int, bytes] = (404, b"not found")):
        self.pages, self.default, self.asked = pages, default, []

    def request(self, method: str, path: str, **_: object) -> Exchange:
        self.asked.append(path)
        status, body = self.pages.get(path, self.default)
        return answer(path, status, body)


def test_a_single_page_app_answering_every_path_exposes_nothing():
    index = b"<!doctype html><html><body><div id=app></div></body></html>"
    hits = exposure.probe(Site({}, default=(200, index)), catalogue.probes("files"))
    assert {h.verdict for h in hits} == {"fallback page"}
    exposure.nothing_exposed(hits, "web", "files")


def test_a_hit_is_judged_by_its_content():
    site = Site({"/.env": (200, b"DATABASE_URL=postgres://u:p@db/app\nDEBUG=false\n"),
                 "/.git/config": (200, b"<html>welcome</html>"), "/debug": (200, b'{"environ": {}}')})
    files = {h.probe.path: h.verdict for h in exposure.probe(site, catalogue.probes("files"))}
    assert (files["/.env"], files["/.git/config"], files["/.DS_Store"]) == ("exposed", "content not matching",
                                                                             "not found")
    with pytest.raises(CheckFailed, match=r"none of the \d+ files paths exposed on 'web'; 1 of \d+ did not, first: "
                                          r"/.env \(environment file\) is exposed"):
        exposure.nothing_exposed(exposure.probe(site, catalogue.probes("files")), "web", "files")
    debug = {h.probe.path: h.verdict for h in exposure.probe(site, catalogue.probes("debug"))}
    assert debug["/debug"] == "exposed" and debug["/actuator/env"] == "not found"


def test_the_environment_extends_and_trims_the_catalogue():
    chosen = [p.path for p in catalogue.probes("debug", extra=["/internal/status"], skip=["/debug", "/admin"])]
    assert "/internal/status" in chosen and "/debug" not in chosen and "/admin" not in chosen
    assert all(p.startswith("/") for p in (probe.path for probe in catalogue.CATALOGUE))
    with pytest.raises(Exception, match="no probe group 'secrets'"):
        catalogue.probes("secrets")


def test_scripts_their_source_maps_and_secrets():
    app_js = b'function login(){ return fetch("/api", {password: ""}); }\n//# sourceMappingURL=app.js.map\n'
    page = b'<script src="/static/app.js"></script><script src="https://cdn.example/x.js"></script>'
    site = Site({"/login": (200, page),
                 "/static/app.js": (200, app_js),
                 "/static/app.js.map": (200, json.dumps({"version": 3, "sources": ["a.js"], "mappings": ""}).encode())})
    found = exposure.scripts(site, ["/login"])
    assert [s.path for s in found] == ["/static/app.js"]  # the third party's script is not asked for
    rows = exposure.source_maps(site, found)
    assert [(r["map"], r["served"]) for r in rows] == [("/static/app.js.map", True)]
    with pytest.raises(CheckFailed, match=r"/static/app.js.map \(of /static/app.js\) is served"):
        exposure.no_source_maps(rows, "web")
    assert exposure.secret_findings(found) == []  # a login form's empty password is no secret
    leaky = Site({"/static/app.js": (200, b'const k = "AKIA' + b"SANDBOXFAKEKEY01" + b'";\n')})
    leaked = [exposure.Script("/", "/static/app.js", leaky.request("GET", "/static/app.js"))]
    findings = exposure.secret_findings(leaked)
    assert [(f["detector"], f["line"], f["value"]) for f in findings] == [("AWS Access Key", 1, "AKIA… (20 chars)")]
    with pytest.raises(CheckFailed, match="found 1: first AWS Access Key in /static/app.js line 1"):
        exposure.no_secrets(leaked, findings, "web")


# ---- settings and the section --------------------------------------------------------------------------------

def test_a_reported_setting_is_compared_with_the_environment():
    version = answer("/version", 200, b'{"environment": "Production", "debug": false, "log_level": "DEBUG"}')
    settings.check_setting(version, "environment", Expected(at="environment", equals="production"))
    settings.check_setting(version, "debug", Expected(at="debug", equals=False))
    with pytest.raises(CheckFailed, match=r"expected 'log_level' \"WARNING\" or \"ERROR\" at 'log_level' of GET "
                                          r"http://app.example/version \(service 'web'\), got \"DEBUG\""):
        settings.check_setting(version, "log_level", Expected(at="log_level", one_of=["WARNING", "ERROR"]))
    with pytest.raises(CheckFailed, match="to report 'region' at 'region'"):
        settings.check_setting(version, "region", Expected(at="region", equals="eu"))


def test_the_security_section_is_typed():
    section = Security.model_validate({"min_header_grade": "b+", "exposure": {"extra": {"debug": ["/x"]}},
                                       "service_token": {"path": "/svc", "json": {"a": 1}}})
    assert (section.min_header_grade, section.service_token.json_body) == ("B+", {"a": 1})
    with pytest.raises(ValidationError, match="forged_token"):
        Security.model_validate({"forged_token": {"path": "/me"}})
    with pytest.raises(ValidationError):
        Security.model_validate({"exposure": {"extra": {"secrets": ["/x"]}}})


# ---- TLS (the scan itself is proven against real servers in test_security_matrix.py) ---------------------------

def _scan(**fields):
    from postdeploy.security import tls

    return tls.HostScan("api.example", "api.example", 443, address="192.0.2.1", **fields)


def test_tls_checks_read_the_scan():
    from datetime import datetime, timedelta

    from postdeploy.security import tls

    now = datetime(2026, 1, 1, tzinfo=UTC)
    good = _scan(not_after=now + timedelta(days=90), accepted={"TLS 1.2": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                                                               "TLS 1.3": ["TLS_AES_128_GCM_SHA256"], "TLS 1.0": []})
    tls.check_certificates([good])
    tls.check_expiry([good], 30, now=now)
    tls.check_protocols([good], "1.2")
    with pytest.raises(CheckFailed, match=r"api.example:443 accepts TLS 1.2 \(below TLS 1.3\)"):
        tls.check_protocols([good], "1.3")
    with pytest.raises(CheckFailed, match=r"api.example:443: the certificate expires in 20 days \(2026-01-21\)"):
        tls.check_expiry([_scan(not_after=now + timedelta(days=20, hours=5))], 30, now=now)
    legacy = _scan(accepted={"TLS 1.0": ["TLS_RSA_WITH_AES_128_CBC_SHA"], "TLS 1.2": ["TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                                                                                   "TLS_RSA_WITH_RC4_128_SHA"]})
    with pytest.raises(CheckFailed, match=r"accepts TLS 1.0 \(below TLS 1.2\); weak cipher suites: "
                                          r"TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA"):
        tls.check_protocols([legacy], "1.2")
    with pytest.raises(CheckFailed, match=r"does not verify \(certificate has expired\)"):
        tls.check_certificates([_scan(verify_error="certificate has expired")])
    with pytest.raises(CheckFailed, match="could not be scanned: ConnectionRefusedError"):
        tls.check_certificates([_scan(error="ConnectionRefusedError: [Errno 111]")])
    assert not tls.weak("TLS_CHACHA20_POLY1305_SHA256") and tls.weak("TLS_ECDH_anon_WITH_AES_128_CBC_SHA")
