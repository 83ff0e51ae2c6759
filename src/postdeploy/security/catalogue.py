"""The default probe catalogue: paths a release must not serve, each with what proves a hit (its content, not
only its status), in three groups: ``files`` (configuration, repository, backup and editor files), ``debug``
(debug, profiler and status pages, admin consoles) and ``listings`` (directory listings). An environment adds
paths per group and leaves paths out (``security.exposure``); every probe is a GET and every one is listed in the
report.

A path without a signature is a hit when it answers 200 with a body other than the service's answer to a path that
cannot exist (so a single-page app answering index.html for every path is no exposure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENV_LINES = re.compile(rb"(?m)^\s*(export\s+)?[A-Z][A-Z0-9_]{2,}\s*=")


@dataclass(frozen=True)
class Probe:
    path: str
    group: str                          # files | debug | listings
    what: str
    signature: re.Pattern[bytes] | None = None  # content that proves the hit

    def proves(self, body: bytes) -> bool:
        return self.signature is None or bool(self.signature.search(body[:65536]))


def _p(group: str, what: str, pattern: bytes | None, *paths: str) -> list[Probe]:
    signature = re.compile(pattern, re.IGNORECASE) if pattern is not None else None
    return [Probe(path, group, what, signature) for path in paths]


_LISTING = rb"<title>\s*(Index of /|Directory listing for)"

CATALOGUE: tuple[Probe, ...] = (
    *[Probe(path, "files", "environment file", _ENV_LINES)
      for path in ("/.env", "/.env.production", "/.env.local", "/.env.backup", "/config/.env")],
    *_p("files", "git repository", rb"\[core\]|repositoryformatversion", "/.git/config"),
    *_p("files", "git repository", rb"^ref: refs/|^[0-9a-f]{40}\s*$", "/.git/HEAD"),
    *_p("files", "subversion / mercurial metadata", rb"\[paths\]|^\d+\s*$|svn:", "/.svn/entries", "/.hg/hgrc"),
    *_p("files", "macOS folder metadata", rb"Bud1", "/.DS_Store"),
    *_p("files", "backup or editor copy", None, "/index.php.bak", "/index.html.bak", "/config.php.bak",
        "/wp-config.php.bak", "/index.php~", "/.index.php.swp", "/web.config.bak", "/settings.py.bak"),
    *_p("files", "database dump or archive", rb"CREATE TABLE|INSERT INTO|^PK\x03\x04|^\x1f\x8b", "/backup.sql",
        "/dump.sql", "/database.sql", "/backup.zip", "/backup.tar.gz", "/site.tar.gz"),
    *_p("files", "credentials file", rb"auth|password|_authToken|\$apr1\$|:\{SHA\}|:\$2[aby]\$", "/.htpasswd",
        "/.npmrc", "/.docker/config.json", "/.aws/credentials"),
    *_p("files", "container or CI configuration", rb"services:|image:|environment:", "/docker-compose.yml",
        "/docker-compose.yaml", "/.gitlab-ci.yml"),
    *_p("debug", "debug page", None, "/debug", "/_debug", "/__debug__/", "/debug/vars", "/debug/default/view"),
    *_p("debug", "Go profiler", rb"profiles|goroutine|heap", "/debug/pprof/"),
    *_p("debug", "Spring Boot actuator", rb"propertySources|_links|activeProfiles|heapdump",
        "/actuator", "/actuator/env", "/actuator/configprops", "/actuator/heapdump"),
    *_p("debug", "server status page", rb"Server Status for|Apache Server Status|Server Information|"
        rb"Active connections:", "/server-status", "/server-info", "/nginx_status"),
    *_p("debug", "PHP information page", rb"phpinfo\(\)|PHP Version", "/phpinfo.php", "/info.php"),
    *_p("debug", ".NET error and trace log", rb"Error Log for|Application Trace|elmah", "/elmah.axd", "/trace.axd"),
    *_p("debug", "framework profiler or console", None, "/_profiler", "/telescope", "/console", "/h2-console",
        "/rails/info/properties", "/__clockwork"),
    *_p("debug", "admin console", None, "/admin", "/admin/", "/adminer.php", "/phpmyadmin/", "/manager/html",
        "/jmx-console/", "/_admin"),
    *_p("listings", "directory listing", _LISTING, "/static/", "/assets/", "/uploads/", "/files/", "/backup/",
        "/images/"),
)

GROUPS = ("files", "debug", "listings")


def probes(group: str, *, extra: list[str] | None = None, skip: list[str] | None = None) -> list[Probe]:
    """The catalogue's probes of ``group``, plus ``extra`` paths (judged without a signature, or as a listing),
    minus ``skip``."""
    if group not in GROUPS:
        from ..errors import SuiteError

        raise SuiteError(f"no probe group {group!r}: the groups are {', '.join(GROUPS)}")
    chosen = [p for p in CATALOGUE if p.group == group]
    known = {p.path for p in chosen}
    signature = re.compile(_LISTING, re.IGNORECASE) if group == "listings" else None
    chosen += [Probe(path, group, "added by the environment", signature) for path in extra or () if path not in known]
    return [p for p in chosen if p.path not in set(skip or ())]
