"""The ``security:`` section of an environment file: where the @security checks send their probes, and what
this environment expects (docs/security.md). Every field has a default or makes its scenarios not applicable,
so a file without the section still validates."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..families._family import Section

GRADES = ("A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F")


class ForgedTokens(Section):
    """A protected GET route: tokens forged with well-known secrets are sent there, each must be refused."""

    service: str = "api"
    path: str = Field(pattern=r"^/")
    #: secrets tried besides the built-in catalogue (:data:`postdeploy.security.tokens.WELL_KNOWN_SECRETS`)
    secrets: list[str] = Field(default_factory=list, max_length=50)


class ServiceToken(Section):
    """The route another service calls with a shared token: well-known default tokens sent there are refused.

    A POST route is probed with a body that changes nothing when accepted (an id that does not exist), and only
    in an environment that allows the method (the scenario is ``@mutating``)."""

    service: str = "api"
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/")
    header: str = "X-Service-Token"
    #: the JSON body sent with each token (None: no body)
    json_body: Any = Field(default=None, alias="json")
    #: tokens tried besides the built-in catalogue (the platform's documented defaults)
    defaults: list[str] = Field(default_factory=list, max_length=50)


class Expected(Section):
    """One setting a service reports: where (a JSON path of the answer) and what it must be."""

    at: str
    equals: Any = None
    one_of: list[Any] | None = None


class Reported(Section):
    """Where a service reports its settings (``/version``, ``/health``) and what each must be."""

    path: str = Field(pattern=r"^/")
    settings: dict[str, Expected] = Field(min_length=1)


class Exposure(Section):
    """The probe catalogue's changes for this environment: paths added per group, paths left out."""

    extra: dict[Literal["files", "debug", "listings"], list[str]] = Field(default_factory=dict)
    skip: list[str] = Field(default_factory=list)

    @field_validator("skip")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"a path starts with '/', got {path!r}")
        return value


class Security(Section):
    forged_tokens: ForgedTokens | None = None
    service_token: ServiceToken | None = None
    #: the longest lifetime (``exp - iat``) a sign-in's token may have, in seconds
    max_token_lifetime_s: int | None = Field(default=None, gt=0)
    #: the lowest grade the security headers of an answer may get (Mozilla HTTP Observatory's scale)
    min_header_grade: Literal[GRADES] = "A"  # type: ignore[valid-type]
    #: headers an answer must carry besides those graded (Permissions-Policy, Cross-Origin-Opener-Policy ...)
    required_headers: list[str] = Field(default_factory=list)
    #: service -> the pages whose scripts and cookies are checked
    pages: dict[str, list[str]] = Field(default_factory=dict)
    #: cookie names that hold a session (besides names with session, sid, token, auth, jwt, refresh)
    session_cookies: list[str] = Field(default_factory=list)
    exposure: Exposure = Exposure()
    #: service -> where it reports its settings and what each must be
    reported: dict[str, Reported] = Field(default_factory=dict)

    @field_validator("min_header_grade", mode="before")
    @classmethod
    def _grade(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value
