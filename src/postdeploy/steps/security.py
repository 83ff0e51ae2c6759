"""Security posture steps (``@security``): tokens forged with well-known secrets and default service tokens refused,
token lifetime, security headers graded like Mozilla's HTTP Observatory, no software version announced, nothing
exposed (the probe catalogue, source maps, secrets in scripts), cookies, and the production settings a service
reports (:mod:`postdeploy.security`, docs/security.md).

Where the probes go and what is expected come from the environment's ``security:`` section; a scenario whose part
of it is absent is not applicable. Every probe is a GET, except the sign-ins and the service-token route the
environment names (``@mutating`` when that route is not a GET); every probe sent is listed in the report."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_bdd import parsers, then, when

from postdeploy.auth import Credentials, Sessions
from postdeploy.environment import Environment
from postdeploy.errors import Inconclusive
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

from ._support import asked_first


def _not_applicable(env: Environment, field: str, what: str) -> None:
    pytest.skip(f"not applicable: environment '{env.name}' has no security.{field} ({what})")


@pytest.fixture(scope="session")
def security_expectations(env: Environment) -> Security:
    """The environment's ``security:`` section (the family requires it)."""
    return env.section("security")


@pytest.fixture
def forged_answers() -> Any:
    asked_first("what forged tokens were answered", 'When I send tokens forged with well-known secrets in the name '
                                                    'of "..."')


@pytest.fixture
def service_token_answers() -> Any:
    asked_first("what default service tokens were answered", "When I send the well-known default service tokens")


@pytest.fixture
def exposure_hits() -> Any:
    asked_first("what the probes found", 'When I probe the "..." service for exposed files')


@pytest.fixture
def page_scripts() -> Any:
    asked_first("the scripts of the pages", 'When I fetch the scripts of the "..." pages and their source maps')


@pytest.fixture
def collected_cookies() -> Any:
    asked_first("the cookies set", 'When I collect the cookies set by the sign-in of "..." and the "..." pages')


@pytest.fixture
def reported_settings() -> Any:
    asked_first("the settings a service reports", 'When I ask the "..." service for the settings it reports')


# ---- default and weak secrets, tokens -----------------------------------------------------------------------

def _with_token(credentials: Credentials, token: str) -> list[tuple[str, str]]:
    return [(name, value.replace(credentials.token or "", token)) for name, value in credentials.headers]


@when(parsers.parse('I send tokens forged with well-known secrets in the name of "{account}"'),
      target_fixture="forged_answers")
def _(env: Environment, sessions: Sessions, service_client, security_expectations: Security,
      account: str) -> tuple[Exchange, list[tuple[str, Exchange]]]:
    """Sign in as the account, then send its token's claims signed with each well-known secret (``secret``, ``changeme``, the empty key, framework examples, ``security.forged_tokens.secrets``), unsigned (``alg: none``) and with its signature tampered, to ``security.forged_tokens.path``; the real token first.

    Example: When I send tokens forged with well-known secrets in the name of "admin"
    """
    route = security_expectations.forged_tokens
    if route is None:
        _not_applicable(env, "forged_tokens", "a protected route to send forged tokens to")
    credentials = sessions.credentials(account)
    if not credentials.token:
        raise Inconclusive(f"account '{account}' signs in without a token (auth kind '{env.auth.kind}'): there is "
                           "no token to forge")
    client = service_client(route.service)
    baseline = client.request("GET", route.path, headers=list(credentials.headers), attach=False)
    forged = tokens.forge(credentials.token, route.secrets)
    answers = [(item.label, client.request("GET", route.path, headers=_with_token(credentials, item.token),
                                           attach=False)) for item in forged]
    return baseline, answers


@then("every forged token is refused")
def _(forged_answers: tuple[Exchange, list[tuple[str, Exchange]]]) -> None:
    """Every forged token was answered 401 or 403 (the real token being accepted there); the accepted ones are named, their secret masked.

    Example: Then every forged token is refused
    """
    baseline, answers = forged_answers
    tokens.all_refused(answers, "forged token", baseline=baseline)


@when("I send the well-known default service tokens", target_fixture="service_token_answers")
def _(env: Environment, service_client, security_expectations: Security) -> list[tuple[str, Exchange]]:
    """Send each well-known default service token (the seeds' placeholders, ``changeme``, ``security.service_token.defaults``) in ``security.service_token.header`` to its route, with its body.

    Example: When I send the well-known default service tokens
    """
    route = security_expectations.service_token
    if route is None:
        _not_applicable(env, "service_token", "the route another service calls with a shared token")
    client = service_client(route.service)
    options = {"json": route.json_body} if route.json_body is not None else {}
    return [(f"default token {tokens.mask(token)}",
             client.request(route.method, route.path, headers=[(route.header, token)], attach=False, **options))
            for token in dict.fromkeys((*tokens.DEFAULT_SERVICE_TOKENS, *route.defaults))]


@then("every default service token is refused")
def _(service_token_answers: list[tuple[str, Exchange]]) -> None:
    """Every default service token was answered 401 or 403.

    Example: Then every default service token is refused
    """
    tokens.all_refused(service_token_answers, "default service token")


@then(parsers.parse('the token of "{account}" expires within the environment\'s bound'))
def _(env: Environment, sessions: Sessions, security_expectations: Security, account: str) -> None:
    """The account's sign-in token (a JWT) expires at most ``security.max_token_lifetime_s`` seconds after it was issued (``exp - iat``).

    Example: Then the token of "customer" expires within the environment's bound
    """
    bound = security_expectations.max_token_lifetime_s
    if bound is None:
        _not_applicable(env, "max_token_lifetime_s", "the longest lifetime of a token")
    credentials = sessions.credentials(account)
    if not credentials.token:
        raise Inconclusive(f"account '{account}' signs in without a token (auth kind '{env.auth.kind}')")
    tokens.lifetime(credentials.token, bound)


# ---- headers ------------------------------------------------------------------------------------------------

@then("the response's security headers grade as the environment requires")
def _(response: Exchange, security_expectations: Security) -> None:
    """Grade the last response's security headers the way Mozilla's HTTP Observatory does (CSP, framing, nosniff, Referrer-Policy, HSTS on HTTPS, CORP) and expect at least ``security.min_header_grade`` and every ``security.required_headers``; the score and every test are attached.

    Example: Then the response's security headers grade as the environment requires
    """
    headers.check_grade(response, security_expectations.min_header_grade, security_expectations.required_headers)


@then("the response announces no server software or version")
def _(response: Exchange) -> None:
    """No ``X-Powered-By``, ``X-AspNet-Version``, ``X-Generator`` (...) header, and no version in ``Server`` or ``Via``.

    Example: Then the response announces no server software or version
    """
    headers.check_no_disclosure(response)


# ---- exposure -----------------------------------------------------------------------------------------------

@when(parsers.parse('I probe the "{service}" service for exposed {group:w}'), target_fixture="exposure_hits")
def _(service_client, security_expectations: Security, service: str, group: str) -> tuple[str, str, list]:
    """GET every path of the catalogue's group (``files``, ``debug`` or ``listings``: docs/security.md), with ``security.exposure.extra`` added and ``security.exposure.skip`` left out, after a path that cannot exist (the service's "not found" answer).

    Example: When I probe the "frontend" service for exposed files
    """
    settings_ = security_expectations.exposure
    chosen = catalogue.probes(group, extra=settings_.extra.get(group), skip=settings_.skip)
    return service, group, exposure.probe(service_client(service), chosen)


@then("nothing probed is exposed")
def _(exposure_hits: tuple[str, str, list]) -> None:
    """No probed path is served with the content that proves it (a ``.env`` of variables, a git config, a debug page that is not the service's "not found" answer ...); every probe is listed.

    Example: Then nothing probed is exposed
    """
    service, group, hits = exposure_hits
    exposure.nothing_exposed(hits, service, group)


@when(parsers.parse('I fetch the scripts of the "{service}" pages and their source maps'),
      target_fixture="page_scripts")
def _(env: Environment, service_client, security_expectations: Security, service: str) -> dict[str, Any]:
    """GET each page of ``security.pages.<service>``, every same-origin script it loads, and each script's source map (the one it names, and ``<script>.map``).

    Example: When I fetch the scripts of the "frontend" pages and their source maps
    """
    pages = security_expectations.pages.get(service)
    if not pages:
        _not_applicable(env, f"pages.{service}", "the pages whose scripts are checked")
    client = service_client(service)
    found = exposure.scripts(client, pages)
    return {"service": service, "scripts": found, "maps": exposure.source_maps(client, found)}


@then("no script has a public source map")
def _(page_scripts: dict[str, Any]) -> None:
    """No source map of the pages' scripts is served (a version 3 map answered 200, or inlined as a data: URL).

    Example: Then no script has a public source map
    """
    exposure.no_source_maps(page_scripts["maps"], page_scripts["service"])


@then("no script holds a secret-looking string")
def _(page_scripts: dict[str, Any]) -> None:
    """detect-secrets' pattern detectors (AWS, Stripe, GitHub, Slack, private keys, JWTs, ...; not the entropy ones) find nothing in the pages' scripts.

    Example: Then no script holds a secret-looking string
    """
    found = page_scripts["scripts"]
    exposure.no_secrets(found, exposure.secret_findings(found), page_scripts["service"])


# ---- cookies ------------------------------------------------------------------------------------------------

@when(parsers.parse('I collect the cookies set by the sign-in of "{account}" and the "{service}" pages'),
      target_fixture="collected_cookies")
def _(sessions: Sessions, service_client, security_expectations: Security, account: str,
      service: str) -> list[cookies.Cookie]:
    """Sign in afresh as the account and GET each page of ``security.pages.<service>``; every ``Set-Cookie`` of those answers.

    Example: When I collect the cookies set by the sign-in of "customer" and the "frontend" pages
    """
    answers = []
    login = sessions.credentials(account, fresh=True).login
    if login is not None:
        answers.append(login)
    client = service_client(service)
    answers += [client.request("GET", page, attach=False) for page in security_expectations.pages.get(service, [])]
    return cookies.cookies_of(answers)


@then("every cookie carries the attributes its kind requires")
def _(collected_cookies: list[cookies.Cookie], security_expectations: Security) -> None:
    """``Secure`` on HTTPS answers, ``HttpOnly`` and ``SameSite`` on session cookies (their names, or ``security.session_cookies``), ``SameSite=None`` only with ``Secure``, and the ``__Secure-`` / ``__Host-`` prefix rules.

    Example: Then every cookie carries the attributes its kind requires
    """
    cookies.check_cookies(collected_cookies, security_expectations.session_cookies)


# ---- production settings --------------------------------------------------------------------------------------

@when(parsers.parse('I ask the "{service}" service for the settings it reports'), target_fixture="reported_settings")
def _(env: Environment, service_client, security_expectations: Security, service: str) -> tuple[str, Exchange]:
    """GET ``security.reported.<service>.path`` (a ``/version`` or ``/health`` that reports the deployment's settings).

    Example: When I ask the "api" service for the settings it reports
    """
    where = security_expectations.reported.get(service)
    if where is None:
        _not_applicable(env, f"reported.{service}", "where the service reports its settings")
    return service, service_client(service).request("GET", where.path)


@then(parsers.parse('the reported "{setting}" is what the environment expects'))
def _(env: Environment, security_expectations: Security, reported_settings: tuple[str, Exchange],
      setting: str) -> None:
    """The setting (``environment``, ``debug``, ``log_level`` ...) is reported at its JSON path with the value ``security.reported.<service>.settings.<setting>`` expects (``equals`` or ``one_of``).

    Example: Then the reported "log_level" is what the environment expects
    """
    service, exchange = reported_settings
    expected = security_expectations.reported[service].settings.get(setting)
    if expected is None:
        _not_applicable(env, f"reported.{service}.settings.{setting}", "what the setting must be")
    settings.check_setting(exchange, setting, expected)


# ---- TLS ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _tls_scans() -> dict[tuple[str, ...], list]:
    """The run's TLS scans, by host list: every host is scanned once per run (per worker)."""
    return {}


@pytest.fixture
def tls_scans() -> Any:
    asked_first("the TLS scan", "When I scan the TLS of every host the environment lists")


@when("I scan the TLS of every host the environment lists", target_fixture="tls_scans")
def _(env: Environment, _tls_scans: dict) -> list:
    """Scan every host of ``tls.hosts`` once per run: its certificate (verified with the system's trust store and ``tls.ca_file``), and every protocol and cipher suite it accepts (sslyze).

    Example: When I scan the TLS of every host the environment lists
    """
    from pathlib import Path

    from postdeploy.security import tls

    section = env.section("tls")
    if section is None:
        _not_applicable_tls(env)
    key = (*section.hosts, section.ca_file or "")
    if key not in _tls_scans:
        _tls_scans[key] = tls.scan(section.hosts, Path(section.ca_file) if section.ca_file else None,
                                   timeout=env.timeout_s)
    return _tls_scans[key]


def _not_applicable_tls(env: Environment) -> None:
    pytest.skip(f"not applicable: environment '{env.name}' has no tls section (the hosts whose TLS is checked)")


@then("every certificate verifies for its host")
def _(tls_scans: list) -> None:
    """Every host's certificate chain verifies (OpenSSL, the system's trust store and ``tls.ca_file``) and covers the host's name; not expired.

    Example: Then every certificate verifies for its host
    """
    from postdeploy.security import tls

    tls.check_certificates(tls_scans)


@then("no certificate expires within the environment's margin")
def _(env: Environment, tls_scans: list) -> None:
    """Every host's certificate is valid for more than ``tls.expiry_margin_days`` days (30 by default).

    Example: Then no certificate expires within the environment's margin
    """
    from postdeploy.security import tls

    tls.check_expiry(tls_scans, env.section("tls").expiry_margin_days)


@then("every host accepts only the allowed TLS versions and no weak cipher suite")
def _(env: Environment, tls_scans: list) -> None:
    """No host accepts a protocol below ``tls.min_version`` (SSL 2.0 to TLS 1.1 for 1.2) nor a weak cipher suite (NULL, EXPORT, anonymous, RC4, DES/3DES, MD5 ...).

    Example: Then every host accepts only the allowed TLS versions and no weak cipher suite
    """
    from postdeploy.security import tls

    tls.check_protocols(tls_scans, env.section("tls").min_version)
