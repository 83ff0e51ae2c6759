"""Security headers graded the way Mozilla's HTTP Observatory grades them (its scoring: 100 points, each failed
test's modifier added, bonuses only from 90 up; grades A+ ... F), and no answer announcing its software's version.

The tests and modifiers follow the Observatory's published scoring (github.com/mozilla/http-observatory, its
``docs/scoring.md``): CSP (-25 missing, -20 ``unsafe-inline`` / wildcard or insecure sources in script-src, -10
``unsafe-eval``), X-Frame-Options or CSP ``frame-ancestors`` (-20), X-Content-Type-Options (-5), Referrer-Policy
(-5 unsafe, +5 private), Strict-Transport-Security on HTTPS answers (-20 missing, -10 under six months), and
Cross-Origin-Resource-Policy (-5 invalid). Cookies are graded by :mod:`postdeploy.security.cookies`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import evidence
from ..checks._base import fail
from ..http import Exchange

#: grade -> the lowest score that earns it (Observatory's table)
GRADE_FLOORS: dict[str, int] = {"A+": 100, "A": 90, "A-": 85, "B+": 80, "B": 70, "B-": 65, "C+": 60, "C": 50,
                                "C-": 45, "D+": 40, "D": 30, "D-": 25, "F": 0}
SIX_MONTHS_S = 15_768_000
#: headers that announce the software, and those that do only when they carry a version
DISCLOSING = ("X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version", "X-Generator", "X-Runtime",
              "X-Drupal-Cache", "X-Varnish-Version", "X-Backend-Server")
VERSIONED = ("Server", "Via")
_VERSION = re.compile(r"\d+\.\d+")
_SAFE_REFERRERS = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
_UNSAFE_REFERRERS = {"unsafe-url", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin"}


@dataclass(frozen=True)
class Test:
    name: str        # the Observatory's test name (content-security-policy, x-frame-options ...)
    result: str      # its result name (csp-implemented-with-unsafe-inline ...)
    modifier: int
    passed: bool


@dataclass(frozen=True)
class Grade:
    score: int
    grade: str
    tests: tuple[Test, ...]

    @property
    def failed(self) -> list[Test]:
        return [t for t in self.tests if not t.passed]


def csp_directives(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.strip().split()
        if words and words[0].lower() not in directives:  # the first of a repeated directive wins
            directives[words[0].lower()] = [w.lower() for w in words[1:]]
    return directives


def _csp(value: str | None) -> list[Test]:
    if value is None:
        return [Test("content-security-policy", "csp-not-implemented", -25, False)]
    d = csp_directives(value)
    script = d.get("script-src", d.get("default-src"))
    if script is None:
        return [Test("content-security-policy", "csp-implemented-with-unsafe-inline (no script-src nor default-src)",
                     -20, False)]
    tests = []
    # 'unsafe-inline' is ignored by browsers when a nonce, a hash or 'strict-dynamic' is present
    strict = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) or s == "'strict-dynamic'"
                 for s in script)
    if "'unsafe-inline'" in script and not strict:
        tests.append(Test("content-security-policy", "csp-implemented-with-unsafe-inline", -20, False))
    wild = [s for s in script if s in ("*", "http:", "https:", "data:") or s.startswith("http://")]
    if wild:
        tests.append(Test("content-security-policy",
                          f"csp-implemented-with-insecure-scheme-or-wildcard ({' '.join(wild)})", -20, False))
    if "'unsafe-eval'" in script:
        tests.append(Test("content-security-policy", "csp-implemented-with-unsafe-eval", -10, False))
    return tests or [Test("content-security-policy", "csp-implemented", 0, True)]


def _framing(xfo: str | None, csp: str | None) -> Test:
    if csp is not None and "frame-ancestors" in csp_directives(csp):
        return Test("x-frame-options", "xfo-implemented-via-csp", 0, True)
    if xfo is None:
        return Test("x-frame-options", "x-frame-options-not-implemented", -20, False)
    if xfo.strip().upper() in ("DENY", "SAMEORIGIN"):
        return Test("x-frame-options", "x-frame-options-sameorigin-or-deny", 0, True)
    return Test("x-frame-options", f"x-frame-options-header-invalid ({xfo})", -20, False)


def _nosniff(value: str | None) -> Test:
    if value is not None and value.strip().lower() == "nosniff":
        return Test("x-content-type-options", "x-content-type-options-nosniff", 0, True)
    return Test("x-content-type-options", "x-content-type-options-not-implemented" if value is None else
                f"x-content-type-options-header-invalid ({value})", -5, False)


def _referrer(value: str | None) -> Test:
    if value is None:
        return Test("referrer-policy", "referrer-policy-not-implemented", 0, True)
    last = value.split(",")[-1].strip().lower()  # browsers apply the last value they know
    if last in _SAFE_REFERRERS:
        return Test("referrer-policy", "referrer-policy-private", 5, True)
    if last in _UNSAFE_REFERRERS:
        return Test("referrer-policy", f"referrer-policy-unsafe ({last})", -5, False)
    return Test("referrer-policy", f"referrer-policy-header-invalid ({value})", -5, False)


def _hsts(value: str | None, https: bool) -> Test:
    if not https:
        return Test("strict-transport-security", "hsts-not-applicable (plain HTTP answer)", 0, True)
    if value is None:
        return Test("strict-transport-security", "hsts-not-implemented", -20, False)
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    if not match:
        return Test("strict-transport-security", f"hsts-header-invalid ({value})", -20, False)
    if int(match.group(1)) < SIX_MONTHS_S:
        return Test("strict-transport-security", f"hsts-implemented-max-age-less-than-six-months ({match.group(1)})",
                    -10, False)
    return Test("strict-transport-security", "hsts-implemented-max-age-at-least-six-months", 0, True)


def _corp(value: str | None) -> Test:
    if value is None:
        return Test("cross-origin-resource-policy", "corp-not-implemented", 0, True)
    if value.strip().lower() in ("same-origin", "same-site", "cross-origin"):
        return Test("cross-origin-resource-policy", f"corp-implemented ({value.strip()})", 0, True)
    return Test("cross-origin-resource-policy", f"corp-header-invalid ({value})", -5, False)


def grade_of(score: int) -> str:
    return next(grade for grade, floor in GRADE_FLOORS.items() if score >= floor)


def grade(exchange: Exchange) -> Grade:
    """The Observatory's header tests on one answer, its score and grade."""
    h = exchange.headers
    https = exchange.url.startswith("https://")
    tests = [*_csp(h.get("content-security-policy")), _framing(h.get("x-frame-options"),
             h.get("content-security-policy")), _nosniff(h.get("x-content-type-options")),
             _referrer(h.get("referrer-policy")), _hsts(h.get("strict-transport-security"), https),
             _corp(h.get("cross-origin-resource-policy"))]
    score = 100 + sum(t.modifier for t in tests if t.modifier < 0)
    if score >= 90:  # bonuses count only for a site that already passes
        score += sum(t.modifier for t in tests if t.modifier > 0)
    return Grade(score, grade_of(score), tuple(tests))


def check_grade(exchange: Exchange, minimum: str, required: Sequence[str] = ()) -> Grade:
    """The answer's headers grade at least ``minimum``, and it carries every ``required`` header."""
    __tracebackhide__ = True
    result = grade(exchange)
    rows = [{"test": t.name, "result": t.result, "modifier": t.modifier, "pass": "yes" if t.passed else "NO"}
            for t in result.tests]
    missing = [name for name in required if name.lower() not in exchange.headers]
    rows += [{"test": name.lower(), "result": "missing (required by the environment)", "modifier": "",
              "pass": "NO"} for name in missing]
    evidence.table(f"security headers of {exchange.method} {exchange.url}: {result.score}/100, grade {result.grade}",
                   rows)
    if result.score < GRADE_FLOORS[minimum]:
        failed = ", ".join(f"{t.result} ({t.modifier})" for t in result.failed)
        fail(f"expected security headers graded at least {minimum} ({GRADE_FLOORS[minimum]}), got {result.grade} "
             f"({result.score}) at {exchange.where}: {failed}")
    if missing:
        fail(f"expected the headers {', '.join(required)} at {exchange.where}, missing {', '.join(missing)}")
    return result


def check_no_disclosure(exchange: Exchange) -> None:
    """No header announces the server software (``X-Powered-By`` ...) or its version (``Server: nginx/1.25``)."""
    __tracebackhide__ = True
    found = [f"{name}: {exchange.headers[name]}" for name in DISCLOSING if name.lower() in exchange.headers]
    found += [f"{name}: {exchange.headers[name]}" for name in VERSIONED
              if _VERSION.search(exchange.headers.get(name, ""))]
    evidence.table(f"software disclosure of {exchange.method} {exchange.url}",
                   [{"header": name, "value": exchange.headers.get(name, "(absent)")}
                    for name in (*VERSIONED, *DISCLOSING)])
    if found:
        fail(f"expected no header announcing the server software or its version at {exchange.where}, got "
             f"{'; '.join(found)}")
