"""Nothing exposed: the probe catalogue sent to a service and judged by content; the scripts of the environment's
pages fetched and checked for public source maps and secret-looking strings (detect-secrets' detectors)."""

from __future__ import annotations

import base64
import re
import secrets as _random
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from .. import evidence
from ..checks._base import every, fail, path_of
from ..errors import Inconclusive
from ..http import Exchange
from .catalogue import Probe


@dataclass(frozen=True)
class Hit:
    probe: Probe
    exchange: Exchange
    verdict: str     # exposed | not found | fallback page | redirect | content not matching


def _normal(body: bytes) -> bytes:
    return re.sub(rb"\s+", b" ", body).strip()


def probe(client: Any, probes: Sequence[Probe]) -> list[Hit]:
    """GET a path that cannot exist (the service's "not found" answer), then every probe; each judged."""
    baseline = client.request("GET", f"/postdeploy-{_random.token_hex(6)}-absent", attach=False)
    fallback = _normal(baseline.body) if baseline.status == 200 else None
    hits = []
    for item in probes:
        exchange = client.request("GET", item.path, attach=False)
        if 300 <= exchange.status < 400:
            verdict = "redirect"
        elif exchange.status != 200:
            verdict = "not found" if exchange.status in (401, 403, 404, 410) else f"answered {exchange.status}"
        elif fallback is not None and _normal(exchange.body) == fallback:
            verdict = "fallback page"
        elif not item.proves(exchange.body):
            verdict = "content not matching"
        else:
            verdict = "exposed"
        hits.append(Hit(item, exchange, verdict))
    return hits


def nothing_exposed(hits: Sequence[Hit], service: str, group: str) -> None:
    __tracebackhide__ = True
    if not hits:
        raise Inconclusive(f"no {group} path was probed on '{service}' (the environment left them all out)")
    rows, problems = [], []
    for hit in hits:
        x = hit.exchange
        rows.append({"path": hit.probe.path, "what": hit.probe.what, "status": x.status,
                     "content-type": x.headers.get("content-type", ""), "bytes": len(x.body), "verdict": hit.verdict})
        if hit.verdict == "exposed":
            sample = x.text[:120].replace("\n", "\\n")
            problems.append(f"{hit.probe.path} ({hit.probe.what}) is exposed: GET {x.url} answered 200 "
                            f"{x.headers.get('content-type', '')} {sample!r}")
            evidence.text(f"exposed: GET {hit.probe.path}", x.as_text())
    every(f"{group} probes of '{service}'", rows, problems, f"none of the {len(rows)} {group} paths exposed "
                                                             f"on '{service}'")


# ---- scripts ------------------------------------------------------------------------------------------------

class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)


@dataclass(frozen=True)
class Script:
    page: str
    path: str
    exchange: Exchange


def scripts(client: Any, pages: Sequence[str]) -> list[Script]:
    """The same-origin scripts the pages load (``<script src>``), each fetched once."""
    found: dict[str, Script] = {}
    for page in pages:
        answer = client.request("GET", page, attach=False)
        if answer.status != 200:
            raise Inconclusive(f"the page {page} answered {answer.summary(120)} at {answer.where}: its scripts "
                               "cannot be read")
        parser = _Scripts()
        parser.feed(answer.text)
        for src in parser.sources:
            url = urljoin(answer.url, src)
            if urlsplit(url).netloc != urlsplit(answer.url).netloc:
                continue  # a third party's script is not this deployment's to check
            path = urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
            if path not in found:
                found[path] = Script(page, path, client.request("GET", path, attach=False))
    return list(found.values())


_MAP_COMMENT = re.compile(rb"[#@]\s*sourceMappingURL\s*=\s*(\S+)")


def _is_map(body: bytes) -> bool:
    head = body[:4096]
    return head.lstrip().startswith(b"{") and b'"version"' in head and (b'"mappings"' in body or b'"sources"' in head)


def source_maps(client: Any, found: Sequence[Script]) -> list[dict[str, Any]]:
    """For each script: the map it names (comment or ``SourceMap`` header) and ``<script>.map``, each fetched;
    a row per map asked, with whether it is served."""
    rows = []
    for script in found:
        named = script.exchange.headers.get("sourcemap") or script.exchange.headers.get("x-sourcemap")
        match = _MAP_COMMENT.search(script.exchange.body[-2048:])
        if match:
            named = match.group(1).decode(errors="replace")
        candidates = []
        if named and named.startswith("data:"):
            inline = named.partition(",")[2]
            try:
                served = _is_map(base64.b64decode(inline + "==="))
            except ValueError:
                served = False
            rows.append({"script": script.path, "map": "(inline data: URL)", "status": "", "served": served})
        elif named:
            candidates.append(path_of(urljoin(script.exchange.url, named)))
        guess = script.path.split("?")[0] + ".map"
        if guess not in candidates:
            candidates.append(guess)
        for path in candidates:
            answer = client.request("GET", path, attach=False)
            rows.append({"script": script.path, "map": path, "status": answer.status,
                         "served": answer.status == 200 and _is_map(answer.body)})
    return rows


def no_source_maps(rows: Sequence[dict[str, Any]], service: str) -> None:
    __tracebackhide__ = True
    if not rows:
        raise Inconclusive(f"the pages of '{service}' load no script of their own: no source map to look for")
    problems = [f"{r['map']} (of {r['script']}) is served" for r in rows if r["served"]]
    every(f"source maps of '{service}'", [{**r, "served": "YES" if r["served"] else "no"} for r in rows], problems,
          f"no script of '{service}' with a public source map")


#: detect-secrets' detectors left out: the entropy ones (every minified bundle is full of high-entropy strings)
#: and the keyword one (it reads ``password: ""`` of a login form's code as a secret)
NOISY_DETECTORS = ("Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector")


def secret_findings(found: Sequence[Script]) -> list[dict[str, Any]]:
    """detect-secrets' pattern detectors (AWS, Stripe, GitHub, Slack, private keys, JWTs, ...) over every line of
    every script; a row per finding, the secret masked."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    rows = []
    with default_settings() as settings:
        settings.disable_plugins(*NOISY_DETECTORS)
        for script in found:
            for number, line in enumerate(script.exchange.text.splitlines(), 1):
                for secret in scan_line(line[:20000]):
                    value = secret.secret_value or ""
                    rows.append({"script": script.path, "line": number, "detector": secret.type,
                                 "value": f"{value[:4]}… ({len(value)} chars)"})
    return rows


def no_secrets(found: Sequence[Script], findings: Sequence[dict[str, Any]], service: str) -> None:
    __tracebackhide__ = True
    if not found:
        raise Inconclusive(f"the pages of '{service}' load no script of their own: nothing to scan")
    evidence.table(f"scripts of '{service}' scanned", [{"script": s.path, "page": s.page, "status": s.exchange.status,
                                                        "bytes": len(s.exchange.body)} for s in found])
    rows = list(findings) or [{"script": "(all)", "line": "", "detector": "none found", "value": ""}]
    evidence.table(f"secret-looking strings in the scripts of '{service}'", rows)
    if findings:
        first = findings[0]
        fail(f"expected no secret-looking string in the {len(found)} script(s) of '{service}', found "
             f"{len(findings)}: first {first['detector']} in {first['script']} line {first['line']} ({first['value']})")
