"""@security: what a release must not expose (docs/security.md): tokens forged with well-known secrets and default
service tokens refused, token lifetime, security headers graded like Mozilla's HTTP Observatory, no software
version announced, no configuration file, debug page or source map exposed, no secret in the scripts, cookies with
their attributes, and the production settings a service reports.

Its sections: ``security`` (where the probes go, what this environment expects) and ``tls`` (the hosts whose
certificates and protocols are checked: postdeploy.security.tls)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from ..security.section import Security
from ._family import Family, Section

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")


class Tls(Section):
    """The hosts (``host`` or ``host:port``, 443 by default) whose certificates must be valid for the host,
    not expire within ``expiry_margin_days``, and speak at least ``min_version``."""

    hosts: list[str] = Field(min_length=1)
    expiry_margin_days: int = Field(default=30, ge=0)
    min_version: Literal["1.2", "1.3"] = "1.2"
    #: a PEM file of certificate authorities trusted besides the system's (a private CA): an absolute path, or
    #: relative to the folder the run starts in
    ca_file: str | None = None

    @field_validator("hosts")
    @classmethod
    def _bare_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST.match(host):
                raise ValueError(f"a host is a name with an optional port (api.example.com, api.example.com:8443), "
                                 f"not a URL; got {host!r}")
        return value

    @field_validator("min_version", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:  # YAML reads 1.2 as a number
        return f"{value:.1f}" if isinstance(value, float) else value


FAMILY = Family(name="security", description="security posture: secrets, tokens, headers, exposure, cookies, settings",
                step_modules=("postdeploy.steps.security",), sections={"security": Security, "tls": Tls},
                requires=("security",))
