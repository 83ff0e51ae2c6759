"""CORS: the browser's preflight, the origins the environment allows, and the ones it must refuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..environment import Environment
from ..errors import Inconclusive
from ..http import Exchange
from ._base import every, fail


def preflight(client: Any, path: str, method: str, origin: str) -> Exchange:
    """The preflight a browser sends before a cross-origin request (OPTIONS with Origin and
    Access-Control-Request-Method)."""
    return client.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method.upper(),
        "Access-Control-Request-Headers": "authorization,content-type"})


@dataclass(frozen=True)
class CorsProbe:
    """The answers of a service to cross-origin requests from a set of origins: origin -> (why it was chosen,
    the answer of each kind of request: ``preflight``, ``simple GET``)."""

    service: str
    path: str
    where: str
    answers: dict[str, tuple[str, dict[str, Exchange]]]


def ask_allowed_origins(env: Environment, client: Any, path: str) -> CorsProbe:
    """A preflight from each of ``expect.cors.allowed_origins``."""
    origins = env.expect.cors.allowed_origins
    if not origins:
        raise Inconclusive(f"inconclusive: environment '{env.name}' lists no expect.cors.allowed_origins, so the "
                           "allowed origins cannot be checked; list them in its file")
    return CorsProbe(client.name, path, f"{client.base_url}{path}",
                     {origin: ("allowed", {"preflight": preflight(client, path, "GET", origin)}) for origin in origins})


def allows_configured_origins(env: Environment, probe: CorsProbe) -> None:
    """Each allowed origin was allowed: the origin echoed, with credentials if ``expect.cors.credentials``."""
    __tracebackhide__ = True
    rows, problems = [], []
    for origin, (_, answers) in probe.answers.items():
        exchange = answers["preflight"]
        allowed = exchange.headers.get("access-control-allow-origin")
        creds = exchange.headers.get("access-control-allow-credentials")
        ok = allowed == origin and (not env.expect.cors.credentials or creds == "true")
        rows.append({"origin": origin, "allow-origin": allowed or "(absent)", "allow-credentials": creds or "(absent)", "ok": ok})
        if not ok:
            problems.append(f"origin {origin}: Access-Control-Allow-Origin {allowed!r}, Allow-Credentials {creds!r}")
    every("CORS for allowed origins", rows, problems, f"CORS to allow each configured origin on {probe.where}")


def refuses_origin(exchange: Exchange, origin: str) -> None:
    """A (preflight) answer refuses ``origin`` wholly: no matching or wildcard Access-Control-Allow-Origin, and no
    Access-Control-Allow-Credentials: true (half a refusal is a CORS policy that only happens to hold)."""
    __tracebackhide__ = True
    allowed = exchange.headers.get("access-control-allow-origin")
    creds = (exchange.headers.get("access-control-allow-credentials") or "").strip().lower()
    if allowed in (origin, "*"):
        fail(f"expected the origin {origin} to be refused, got Access-Control-Allow-Origin {allowed!r} from {exchange.where}")
    if creds == "true":
        fail(f"expected the origin {origin} to be refused, got no Access-Control-Allow-Origin for it but "
             f"Access-Control-Allow-Credentials 'true' (half a refusal) from {exchange.where}")


def no_wildcard_with_credentials(exchange: Exchange) -> None:
    """``Access-Control-Allow-Origin: *`` never comes with ``Access-Control-Allow-Credentials: true``."""
    __tracebackhide__ = True
    allowed = exchange.headers.get("access-control-allow-origin")
    creds = exchange.headers.get("access-control-allow-credentials")
    if allowed == "*" and (creds or "").lower() == "true":
        fail(f"expected no wildcard origin with credentials, got Access-Control-Allow-Origin '*' and "
             f"Access-Control-Allow-Credentials 'true' from {exchange.where}")


UNRELATED_ORIGIN = "https://evil.example"


def foreign_origins(allowed: list[str], refused: list[str] = ()) -> dict[str, str]:
    """The origins a careless CORS policy lets in, derived from the allowed ones: origin -> why it is foreign.

    An unrelated site, ``null`` (sandboxed frames, ``file:`` pages), each allowed origin followed by
    ``.evil.example`` (a prefix or suffix match), each allowed origin over the other scheme (the scheme not
    compared), and the environment's ``refused_origins``; none that is itself allowed."""
    found = {UNRELATED_ORIGIN: "an unrelated site", "null": "the null origin"}
    for origin in allowed:
        if origin in ("*", "null"):
            continue
        found[f"{origin}.evil.example"] = f"a look-alike of {origin}"
        scheme, sep, rest = origin.partition("://")
        if sep and scheme in ("http", "https"):
            found[f"{'https' if scheme == 'http' else 'http'}://{rest}"] = f"{origin} over the other scheme"
    found.update({origin: "listed in expect.cors.refused_origins" for origin in refused})
    return {origin: why for origin, why in found.items() if origin not in allowed}


def _let_in(exchange: Exchange, origin: str) -> str | None:
    """How an answer lets ``origin`` in (None: refused wholly)."""
    allowed = exchange.headers.get("access-control-allow-origin")
    creds = (exchange.headers.get("access-control-allow-credentials") or "").strip().lower() == "true"
    if allowed in (origin, "*"):
        return f"Access-Control-Allow-Origin: {allowed}{' with credentials' if creds else ''}"
    if creds:
        return "Access-Control-Allow-Credentials: true without its origin (half a refusal)"
    return None


def ask_foreign_origins(env: Environment, client: Any, path: str) -> CorsProbe:
    """A preflight and a simple cross-origin GET from each foreign origin (:func:`foreign_origins`)."""
    cors = env.expect.cors
    origins = foreign_origins(cors.allowed_origins, cors.refused_origins)
    return CorsProbe(client.name, path, f"{client.base_url}{path}", {
        origin: (why, {"preflight": preflight(client, path, "GET", origin),
                       "simple GET": client.request("GET", path, headers={"Origin": origin})})
        for origin, why in origins.items()})


def refuses_foreign_origins(probe: CorsProbe) -> None:
    """Every foreign origin was refused wholly, on the preflight and on the simple cross-origin GET."""
    __tracebackhide__ = True
    rows, problems = [], []
    for origin, (why, answers) in probe.answers.items():
        seen = {kind: _let_in(answer, origin) for kind, answer in answers.items()}
        rows.append({"origin": origin, "why foreign": why,
                     **{kind: how or "refused" for kind, how in seen.items()}})
        let_in = [f"{kind}: {how}" for kind, how in seen.items() if how]
        if let_in:
            problems.append(f"{origin} ({why}; {'; '.join(let_in)})")
    every(f"CORS from foreign origins ({probe.service})", rows, problems,
          f"the '{probe.service}' service to refuse {len(probe.answers)} foreign origins on {probe.path}")
