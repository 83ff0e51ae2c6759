"""Tokens the target must refuse, built from a real sign-in's token: the same claims signed with well-known default
secrets, unsigned (``alg: none``), or with the signature tampered. No secret of the target is needed, so the check
runs in production; the accepted token is the evidence (its secret masked). Also the lifetime of a real token.

Bounded: one request per catalogue entry (about thirty), no guessing beyond the catalogue (no brute force)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from .. import evidence
from ..checks._base import every, fail
from ..errors import Inconclusive
from ..http import Exchange

#: secrets found in frameworks' docs, tutorials, generators and .env examples (the empty key included)
WELL_KNOWN_SECRETS: tuple[str, ...] = (
    "", "secret", "changeme", "change-me", "changethis", "change_this", "CHANGE_ME", "changeit",
    "your-secret-key", "your_secret_key", "your-256-bit-secret", "your-jwt-secret", "jwt-secret", "jwt_secret",
    "jwtsecret", "secret-key", "secret_key", "secretkey", "supersecret", "super-secret", "mysecret",
    "my-secret", "password", "123456", "test", "dev", "default", "key", "shhhhh", "keyboard cat",
    "YOUR_JWT_SECRET", "<STRONG_SECRET_MIN_32_CHARS>",
)

#: service tokens of the seeds' examples and common placeholders
DEFAULT_SERVICE_TOKENS: tuple[str, ...] = (
    "changeme", "change-me", "changethis", "secret", "token", "service-token", "service_token", "test", "dev",
    "YOUR_SERVICE_TOKEN", "<STRONG_RANDOM_TOKEN>",
)

REFUSED = (401, 403)


@dataclass(frozen=True)
class Forged:
    label: str   # what the token is, with its secret masked
    token: str


def mask(secret: str) -> str:
    """A well-known secret as the report shows it: its first two characters, then its length."""
    if not secret:
        return "the empty key"
    return f"'{secret[:2]}…' ({len(secret)} chars)"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the claims of a JWT, read without verifying it; Inconclusive when it is no JWT."""
    try:
        return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Inconclusive(f"the sign-in's token is not a JWT ({exc}): forged and expiring tokens cannot be built "
                           "from it") from None


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """A JWS (RFC 7515) of ``claims`` with HMAC-SHA256 under ``secret``: signed here, since the libraries refuse an
    empty key, which is one of the keys deployments are found with."""
    signing_input = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode())
                             for part in ({"alg": "HS256", "typ": "JWT"}, claims))
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def forge(token: str, secrets: Sequence[str] = (), *, now: float | None = None) -> list[Forged]:
    """The tokens to send: ``token``'s claims (valid for five more minutes) unsigned, signed with HS256 under every
    well-known secret and ``secrets``, and ``token`` itself with its signature tampered."""
    _, claims = claims_of(token)
    issued = int(now if now is not None else time.time())
    claims = {**claims, "iat": issued, "exp": issued + 300}
    claims.pop("nbf", None)
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    unsigned = _b64(json.dumps({"alg": "none", "typ": "JWT"}, separators=(",", ":")).encode())
    forged = [Forged("alg none (unsigned)", f"{unsigned}.{body}.")]
    for secret in dict.fromkeys((*WELL_KNOWN_SECRETS, *secrets)):
        forged.append(Forged(f"HS256, secret {mask(secret)}", sign_hs256(claims, secret)))
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[:1] != "A" else "B") + signature[1:]
    forged.append(Forged("the sign-in's token, signature tampered", f"{head}.{payload}.{flipped}"))
    return forged


def send_all(send: Callable[[str], Exchange], tokens: Sequence[tuple[str, str]]) -> list[tuple[str, Exchange]]:
    """Each (label, token) sent with ``send(token)``; the answers, in order."""
    return [(label, send(token)) for label, token in tokens]


def all_refused(answers: Sequence[tuple[str, Exchange]], what: str, *, baseline: Exchange | None = None) -> None:
    """Every answer refuses its token (401 or 403). ``baseline``: the answer to the real token at the same
    route, which must be accepted (else the route tells nothing about tokens: inconclusive)."""
    __tracebackhide__ = True
    if not answers:
        raise Inconclusive(f"no {what} was sent")
    if baseline is not None and not 200 <= baseline.status < 300:
        raise Inconclusive(f"the real sign-in's token is not accepted at {baseline.where} ({baseline.summary(120)}): "
                           f"that route cannot tell a forged token from a good one")
    rows, problems = [], []
    for label, exchange in answers:
        refused = exchange.status in REFUSED
        rows.append({"token": label, "status": exchange.status, "verdict": "refused" if refused else "ACCEPTED"})
        if not refused:
            problems.append(f"{label} was accepted: {exchange.where} answered {exchange.status}")
    every(what + "s", rows, problems, f"every {what} refused with 401 or 403")


def lifetime(token: str, bound_s: int) -> None:
    """The token expires (``exp``) at most ``bound_s`` seconds after it was issued (``iat``, else now)."""
    __tracebackhide__ = True
    _, claims = claims_of(token)
    exp = claims.get("exp")
    start = claims.get("iat", int(time.time()))
    evidence.table("token lifetime", [{"iat": claims.get("iat", ""), "exp": exp if exp is not None else "",
                                       "lifetime s": (exp - start) if isinstance(exp, (int, float)) else "",
                                       "bound s": bound_s}])
    if not isinstance(exp, (int, float)):
        fail(f"expected the sign-in's token to expire within {bound_s} s, but it has no exp claim: it never expires")
    if exp - start > bound_s:
        fail(f"expected the sign-in's token to expire within {bound_s} s, got a lifetime of {int(exp - start)} s "
             f"(exp - iat)")
