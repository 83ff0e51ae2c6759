"""The schema of an environment file: the models of its core sections (services and their health,
accounts, auth, browser, expectations, safety, sandbox) and :class:`Environment`, the whole file, with
the checks across its sections and the accessors steps reach its parts through (:meth:`~Environment.service`,
:meth:`~Environment.account`, :meth:`~Environment.section`, :meth:`~Environment.objective_spec`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from ..errors import EnvironmentFileError, MissingSecret
from .common import (
    ALL_METHODS,
    SAFE_METHODS,
    Method,
    Seconds,
    _absolute_url,
    _did_you_mean,
    _Model,
    _overlaps,
)
from .objectives import UNIT_SUFFIXES, Objective, unit_of_name
from .secrets import Secret
from .sections import (
    ANONYMOUS,
    SECRET_IDENTITY,
    Database,
    Mailbox,
    RateLimit,
    Release,
    Route,
)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_DOCS_PATHS = (
    "/docs", "/redoc", "/openapi.json", "/swagger.json", "/swagger-ui.html", "/swagger-ui/",
    "/api-docs", "/v3/api-docs", "/api/docs", "/api/v1/docs", "/api/v1/openapi.json",
)


class Dependent(_Model):
    """A call that needs what the health claims is up (its database, a downstream API): when the health says
    healthy and this call fails, the health check hides a dependency outage."""

    path: str
    method: Method = "GET"
    account: str | None = None  # sent as this account (its sign-in is part of the call); default anonymous
    status: list[int] = Field(default_factory=lambda: [200])

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) else value


class HealthSpec(_Model):
    """What a healthy answer looks like: real systems differ, so this is data, not code."""

    path: str = "/health"
    status: list[int] = Field(default_factory=lambda: [200])
    json_fields: dict[str, Any] = Field(default_factory=dict, alias="json")
    body: str | None = None
    contains: str | None = None
    follow_redirects: bool = False
    # calls that need the dependencies the health vouches for: a healthy answer while one of them fails is a defect
    depends_on: list[Dependent] = Field(default_factory=list)

    @field_validator("status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) else value


class Service(_Model):
    base_url: str
    health: HealthSpec = Field(default_factory=HealthSpec)
    timeout_s: Seconds | None = None
    verify_tls: bool = True

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return _absolute_url(value)


class Account(_Model):
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    role: str | None = None


class AuthSpec(_Model):
    """How a session is obtained from the target."""

    kind: Literal["json_login", "form_login", "bearer", "api_key", "cookie_login"] = "json_login"
    service: str = "api"
    path: str = "/api/v1/auth/login"
    username_field: str = "username"
    password_field: str = "password"
    token_path: str = "access_token"
    header: str = "Authorization"
    scheme: str = "Bearer"
    cookie: str | None = None


class BrowserLogin(_Model):
    """A signed-in page is reached through the login form or by placing the API sign-in's session in the browser.

    ``username_label``, ``password_label`` and ``submit`` are locators (``postdeploy.browser.locate``): a bare text
    is the field's exact label or the button's exact name; ``label=``, ``placeholder=``, ``testid=``, ``text=``,
    ``role=button[name="..."]`` or ``css=`` say otherwise. ``success`` is a locator that shows once signed in (an
    SPA that keeps its URL); ``storage_key`` the local-storage key or cookie name the session goes in;
    ``cookie_service`` the service whose address the cookie is for (default: the browser's own)."""

    kind: Literal["form", "local_storage", "cookie"] = "form"
    path: str = "/login"
    username_label: str = "Email"
    password_label: str = "Password"
    submit: str = "Sign in"
    success_path: str | None = None
    success: str | None = None
    storage_key: str = "access_token"
    cookie_service: str | None = None


class BrowserSpec(_Model):
    service: str = "frontend"
    login: BrowserLogin = Field(default_factory=BrowserLogin)
    viewport: tuple[int, int] = (1280, 800)
    timeout_s: Seconds = 15.0


class CorsSpec(_Model):
    allowed_origins: list[str] = Field(default_factory=list)
    credentials: bool = True
    # origins that must be refused besides the ones derived from the allowed ones (null, look-alikes, the other
    # scheme, an unrelated site): e.g. a partner's old domain, or the staging frontend in production
    refused_origins: list[str] = Field(default_factory=list)


class Expectations(_Model):
    api_docs: Literal["disabled", "enabled", "any"] = "disabled"
    docs_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_DOCS_PATHS))
    cors: CorsSpec = Field(default_factory=CorsSpec)


class Safety(_Model):
    read_only: bool = True
    allowed_methods: list[str] | None = None
    # A 429 on a check that is not about rate limits: wait for Retry-After up to this long, retry once.
    rate_limit_wait_s: float = Field(default=30.0, ge=0)
    # The most requests one run (one process; each xdist worker has its own) sends to each service, the
    # browser's included; the requests beyond it are not sent and their checks are inconclusive (postdeploy.safety).
    max_requests: int = Field(default=2000, ge=1)

    @field_validator("allowed_methods")
    @classmethod
    def _known_methods(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        upper = [m.upper() for m in value]
        unknown = [m for m in upper if m not in ALL_METHODS]
        if unknown:
            raise ValueError(f"unknown HTTP method(s) {unknown}; use some of {list(ALL_METHODS)}")
        return upper

    @property
    def methods(self) -> tuple[str, ...]:
        if self.allowed_methods is not None:
            return tuple(self.allowed_methods)
        return SAFE_METHODS if self.read_only else ALL_METHODS


class SandboxSpec(_Model):
    autostart: bool = True


class Environment(_Model):
    """One target environment, as validated from its file."""

    name: str
    description: str = ""
    sandbox: SandboxSpec | None = None
    safety: Safety = Field(default_factory=Safety)
    timeout_s: Seconds = DEFAULT_TIMEOUT_S
    services: dict[str, Service]
    accounts: dict[str, Account] = Field(default_factory=dict)
    auth: AuthSpec = Field(default_factory=AuthSpec)
    browser: BrowserSpec | None = None
    expect: Expectations = Field(default_factory=Expectations)
    # name -> a limit with a unit and levels (a bare number: green below it, unit from the name's suffix)
    objectives: dict[str, Objective] = Field(default_factory=dict)
    # {{name}} in step arguments: plain values (never secrets, whatever they hold) ...
    values: dict[str, Any] = Field(default_factory=dict)
    # ... and secrets (API keys, a shared password): registered with the redactor, also usable as {{name}}
    secrets: dict[str, Secret] = Field(default_factory=dict)
    # Sections for the families on the roadmap: validated now, used by their steps later, and
    # only through section(): their ${VAR}s are needed when a step uses them (see the module doc).
    database: Database | None = None
    mailbox: Mailbox | None = None
    rate_limits: list[RateLimit] = Field(default_factory=list)
    release: Release = Field(default_factory=Release)
    # every route of the release and what each caller (anonymous or an account) must get from it
    routes: list[Route] = Field(default_factory=list)

    # lazy part ("database", "accounts.admin", "values.key") -> its unset variables [(VAR, field)]
    _missing: dict[str, list[tuple[str, str]]] = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="")

    @field_validator("objectives", mode="before")
    @classmethod
    def _units_of_names(cls, value: Any) -> Any:
        """A bare number (or an entry without ``unit``) takes the unit its name's suffix implies."""
        if not isinstance(value, dict):
            return value
        entries = {}
        for name, entry in value.items():
            implied = unit_of_name(str(name))
            if isinstance(entry, dict):
                written = entry.get("unit")
                if implied is not None and written is not None and written != implied:
                    suffix = next(s for s, u in UNIT_SUFFIXES if str(name).endswith(s) and u == implied)
                    raise ValueError(f"the objective '{name}' ends in '{suffix}' ({implied}) but says unit: {written}; "
                                     "rename it or change its unit")
                if written is None and implied is not None:
                    entry = {"unit": implied, **entry}
            elif implied is not None and isinstance(entry, (int, float, str)) and not isinstance(entry, bool):
                entry = {"unit": implied, "green_below": entry}
            entries[name] = entry
        return entries

    @model_validator(mode="after")
    def _references(self) -> Environment:
        if self.accounts:
            self._known_service("auth.service", self.auth.service)
        if self.browser:
            self._known_service("browser.service", self.browser.service)
        both = sorted(set(map(str, self.values)) & set(map(str, self.secrets)))
        if both:
            raise ValueError(f"'{both[0]}' is both under values: and under secrets:; {{{{{both[0]}}}}} must name one")
        return self

    @model_validator(mode="after")
    def _rate_limit_identities(self) -> Environment:
        identities = [ANONYMOUS, *self.accounts, *(SECRET_IDENTITY + key for key in self.secrets)]
        for i, limit in enumerate(self.rate_limits):
            self._known_service(f"rate_limits[{i}].service", limit.service)
            if limit.identity not in identities:
                raise ValueError(
                    f"rate_limits[{i}] ({limit.method} {limit.route}) names the identity '{limit.identity}', which is "
                    f"neither '{ANONYMOUS}', an account nor '{SECRET_IDENTITY}NAME' of a secrets: entry"
                    f"{_did_you_mean(limit.identity, identities)}; the identities are: {', '.join(identities)}")
        return self

    @model_validator(mode="after")
    def _routes_and_release(self) -> Environment:
        callers = [ANONYMOUS, *self.accounts]
        for i, route in enumerate(self.routes):
            self._known_service(f"routes[{i}].service", route.service)
            for who in route.answers:
                if who not in callers:
                    raise ValueError(
                        f"routes[{i}] ({route.method} {route.path}) lists the caller '{who}', which is neither "
                        f"'{ANONYMOUS}' nor an account{_did_you_mean(who, callers)}; its callers are: {', '.join(callers)}")
        for name in self.release.services:
            self._known_service(f"release.services.{name}", name)
        return self

    def _known_service(self, field: str, name: str | None) -> None:
        """``field`` names the service ``name`` (None: the default one): it must be defined."""
        if name is not None and name not in self.services:
            names = sorted(self.services)
            raise ValueError(f"{field} names the service '{name}', which is not defined{_did_you_mean(name, names)}")

    def __repr__(self) -> str:  # reports show step arguments by their repr: keep it short and secret-free
        return f"Environment(name={self.name!r}, services={sorted(self.services)})"

    __str__ = __repr__

    def service(self, name: str) -> Service:
        return self._named("services", "service", name, f"its services are: {', '.join(sorted(self.services))}")

    def account(self, name: str) -> Account:
        """The account ``name``; raises :class:`MissingSecret` if one of its ``${VAR}``s is not set."""
        account = self._named("accounts", "account", name, "add it under 'accounts:' in the environment file")
        self.require(f"accounts.{name}", f"account '{name}'")
        return account

    def section(self, name: str) -> Any:
        """A top-level section (``database``, ``mailbox``, ``rate_limits``, ``release``, ...), None if absent.

        The way steps reach the lazy sections: raises :class:`MissingSecret` naming the variables
        when a ``${VAR}`` in the section is not set, instead of handing out its placeholders.
        """
        if name not in type(self).model_fields:
            sections = ", ".join(type(self).model_fields)
            raise EnvironmentFileError(
                f"environment files have no section '{name}'{_did_you_mean(name, list(type(self).model_fields))}; "
                f"the sections are: {sections}."
            )
        self.require(name, f"section '{name}'")
        return getattr(self, name)

    @property
    def missing_variables(self) -> dict[str, list[tuple[str, str]]]:
        """Lazy parts whose variables are not set: part (``database``, ``accounts.admin``) -> [(VAR, field)]."""
        return {part: list(entries) for part, entries in self._missing.items()}

    def require(self, part: str, what: str | None = None) -> None:
        """Raise :class:`MissingSecret` if ``part`` (a dotted path such as ``database`` or ``accounts.admin``)
        is, contains or lies inside a lazy part with unset variables."""
        needed = [entry for lazy, entries in self._missing.items() if _overlaps(part, lazy) for entry in entries]
        if needed:
            source = f" ({self._source})" if self._source else ""
            raise MissingSecret(_missing_message(
                f"environment '{self.name}'{source}: {what or repr(part)}", needed,
                "only the checks that use this part need {them}"))

    def objective(self, name: str) -> float:
        """The green limit of the objective ``name``, in its own unit (:meth:`objective_spec` for the rest)."""
        return self.objective_spec(name).green

    def objective_spec(self, name: str) -> Objective:
        """The objective ``name``: its unit, its levels, :meth:`Objective.grade` for a measured value."""
        return self._named("objectives", "objective", name, "add it under 'objectives:'")

    def _named(self, section: str, kind: str, name: str, hint: str) -> Any:
        entries = getattr(self, section)
        if name in entries:
            return entries[name]
        raise EnvironmentFileError(
            f"environment '{self.name}' has no {kind} named '{name}'{_did_you_mean(name, entries)}; {hint}."
        )


def _missing_message(subject: str, entries: list[tuple[str, str]], note: str) -> str:
    """``SUBJECT needs ${A} (for 'x.y'), ${B} (for 'z'), which are not set. Export them ...``: each
    variable once, with the first field that needs it."""
    first = _first_fields(entries)
    listed = ", ".join(f"${{{var}}} (for '{field}')" for var, field in first.items())
    one = len(first) == 1
    them = "it" if one else "them"
    return (
        f"{subject} needs {listed}, which {'is' if one else 'are'} not set. Export {them} before the run "
        f"(export {next(iter(first))}=...) or inject {them} from your CI's secret store; "
        f"{note.format(them=them)}, and postdeploy never reads secrets from the environment file itself."
    )


def _first_fields(entries: list[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for var, field in entries:
        first.setdefault(var, field)
    return first
