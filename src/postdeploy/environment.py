"""Environment files: ``environments/NAME.yaml`` validated once into a frozen, typed object.

An environment file holds everything that differs between targets (URLs, accounts, expected
values, safety rules), so that one feature file verifies local, staging and prod alike.
Secrets never live in the file: they are written as ``${VAR}`` and read from the process
environment when the file is loaded. A secret is a field typed :class:`Secret` (an account's password
or token, the database DSN's password, a mailbox password, an entry of ``secrets:``, a family's
token...): after validation :func:`secret_values` walks the model and every ``Secret`` value is
registered with the redactor, so it can never reach a report. A ``${VAR}`` elsewhere (a URL, an
address under ``values:``) is not a secret, whatever its field is called.

Variables are needed per section, when a step needs that section: a missing variable in the
services, auth, browser, safety, expect, objectives or sandbox sections (or a top-level scalar)
stops :func:`load`; one in a *lazy* part (each account, each ``values`` and ``secrets`` entry, ``database``,
``mailbox``, ``rate_limits``, ``release``, a section a family declares) is recorded, and only using
that part raises :class:`MissingSecret` (:meth:`Environment.account`, :meth:`Environment.section`, :func:`expand`).
The validated model still holds placeholders there, so steps reach these parts only through
those accessors, never as ``env.database`` or ``env.accounts[...]``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import string
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    PrivateAttr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import core_schema

from .errors import EnvironmentFileError, MissingSecret

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

DEFAULT_TIMEOUT_S = 10.0
# Sections whose ${VAR}s are needed only when a step uses them (accounts and values: per entry).
LAZY_SECTIONS = ("database", "mailbox", "rate_limits", "release")
LAZY_ENTRIES = ("accounts", "values", "secrets")
#: a timeout in seconds: a positive, finite number (0 or a negative value would make every request fail)
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
#: a database timeout in milliseconds: a positive whole number
Milliseconds = Annotated[int, Field(gt=0)]
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ALL_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_DOCS_PATHS = (
    "/docs", "/redoc", "/openapi.json", "/swagger.json", "/swagger-ui.html", "/swagger-ui/",
    "/api-docs", "/v3/api-docs", "/api/docs", "/api/v1/docs", "/api/v1/openapi.json",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---- secrets: a type, registered by walking the model ---------------------------------------------

class Secret(str):
    """A secret of the environment file (a password, a token, an API key).

    A ``str``, so steps use it as one (``account.password`` goes into a login form as it is), but its
    ``repr`` is masked. Declare a field ``Secret`` (or ``Secret | None``) and :func:`load` registers its
    value with the redactor: the type decides what is secret, not the field's name.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}('[REDACTED]')"

    def secret_values(self) -> set[str]:
        """What the redactor must mask: the value itself."""
        return {str(self)}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"))


class Dsn(Secret):
    """A PostgreSQL connection string (URL or keyword form): its password is the secret, read as libpq
    reads it (``redact.dsn_passwords``); the host and database name stay readable in messages."""

    __slots__ = ()

    def secret_values(self) -> set[str]:
        from .redact import dsn_passwords

        return dsn_passwords(str(self))


def secret_values(model: BaseModel, skip: Iterable[str] = ()) -> set[str]:
    """Every :class:`Secret` in a validated model (its sections, entries and lists), found by type.

    ``skip`` holds dotted paths (``accounts.admin.password``) that hold the placeholder of an unset
    variable, not a secret (registering it would mask the word "unset" everywhere).
    """
    skipped = tuple(skip)
    found: set[str] = set()

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Secret):
            if not any(_overlaps(path, s) for s in skipped):
                found.update(v for v in value.secret_values() if v)
        elif isinstance(value, BaseModel):
            for name, field in type(value).model_fields.items():
                walk(getattr(value, name), _join(path, field.alias or name))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, _join(path, str(key)))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(model, "")
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


#: a URL that steps send requests to: absolute http(s)
def _absolute_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    return value.rstrip("/")


HttpUrl = Annotated[str, BeforeValidator(lambda v: _absolute_url(v) if isinstance(v, str) else v)]


class HealthSpec(_Model):
    """What a healthy answer looks like: real systems differ, so this is data, not code."""

    path: str = "/health"
    status: list[int] = Field(default_factory=lambda: [200])
    json_fields: dict[str, Any] = Field(default_factory=dict, alias="json")
    body: str | None = None
    contains: str | None = None
    follow_redirects: bool = False

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
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        return value.rstrip("/")


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
    """A signed-in page is reached through the login form (by its labels) or by storage."""

    kind: Literal["form", "local_storage", "cookie"] = "form"
    path: str = "/login"
    username_label: str = "Email"
    password_label: str = "Password"
    submit: str = "Sign in"
    success_path: str | None = None
    storage_key: str = "access_token"


class BrowserSpec(_Model):
    service: str = "frontend"
    login: BrowserLogin = Field(default_factory=BrowserLogin)
    viewport: tuple[int, int] = (1280, 800)
    timeout_s: Seconds = 15.0


class CorsSpec(_Model):
    allowed_origins: list[str] = Field(default_factory=list)
    credentials: bool = True


class Expectations(_Model):
    api_docs: Literal["disabled", "enabled", "any"] = "disabled"
    docs_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_DOCS_PATHS))
    debug: Literal["disabled", "any"] = "disabled"
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


class Database(_Model):
    dsn: Dsn
    statement_timeout_ms: Milliseconds = 5000
    lock_timeout_ms: Milliseconds = 1000
    migrations_table: str = "schema_migrations"


# ---- mailbox: a union on kind ------------------------------------------------------------------------

_RECIPIENT_FIELDS = ("run_id", "n")


def _recipient_pattern(value: str) -> str:
    """``postdeploy+{run_id}-{n}@example.com``: an address with ``{run_id}`` (unique per run) and optionally
    ``{n}`` (a counter within the run); no other field."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid pattern ({exc}); write e.g. 'qa+{{run_id}}-{{n}}@example.com'") from None
    unknown = [name for name in fields if name not in _RECIPIENT_FIELDS]
    if unknown:
        raise ValueError(f"{value!r} uses {{{unknown[0]}}}; a recipient pattern knows only {{run_id}} and {{n}}")
    if "run_id" not in fields:
        raise ValueError(f"{value!r} has no {{run_id}}: every run needs addresses of its own "
                         "(e.g. 'qa+{run_id}-{n}@example.com')")
    if "@" not in value:
        raise ValueError(f"{value!r} is not an email address (no '@')")
    return value


RecipientPattern = Annotated[str, BeforeValidator(lambda v: _recipient_pattern(v) if isinstance(v, str) else v)]
DEFAULT_RECIPIENT_PATTERN = "postdeploy+{run_id}-{n}@example.com"


class MailDev(_Model):
    """A MailDev server's web API (``GET {url}/email``)."""

    kind: Literal["maildev"] = "maildev"
    url: HttpUrl
    recipient_pattern: RecipientPattern = DEFAULT_RECIPIENT_PATTERN


class MailpitAuth(_Model):
    """Basic authentication of Mailpit's web UI and API (``--ui-auth-file``)."""

    username: str
    password: Secret


class Mailpit(_Model):
    """A Mailpit server's API (``{url}/api/v1/messages``), with basic authentication when it asks for it."""

    kind: Literal["mailpit"]
    url: HttpUrl
    auth: MailpitAuth | None = None
    recipient_pattern: RecipientPattern = DEFAULT_RECIPIENT_PATTERN


class Imap(_Model):
    """A real mailbox read over IMAP: ``tls: implicit`` (IMAPS, port 993 by default), ``starttls`` or ``none``
    (port 143 by default)."""

    kind: Literal["imap"]
    host: str = Field(min_length=1)
    port: int = Field(default=0, ge=0, le=65535)  # 0: the default port of ``tls``
    username: str
    password: Secret
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    folder: str = "INBOX"
    recipient_pattern: RecipientPattern = DEFAULT_RECIPIENT_PATTERN

    @model_validator(mode="after")
    def _default_port(self) -> Imap:
        if self.port == 0:
            object.__setattr__(self, "port", 993 if self.tls == "implicit" else 143)
        return self

    @field_validator("host")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError(f"a host name such as imap.example.com, not a URL; got {value!r}")
        return value


MAILBOX_KINDS = ("maildev", "mailpit", "imap")


def _mailbox_kind(value: Any) -> str | None:
    """The tag of a mailbox: its ``kind`` (``maildev`` when not written, as before the union)."""
    if isinstance(value, dict):
        return str(value.get("kind", "maildev"))
    return getattr(value, "kind", None)


#: where test emails are read: ``kind`` selects the model (MailDev, Mailpit or IMAP), each with its own fields
Mailbox = Annotated[
    Union[Annotated[MailDev, Tag("maildev")], Annotated[Mailpit, Tag("mailpit")], Annotated[Imap, Tag("imap")]],  # noqa: UP007
    Discriminator(_mailbox_kind, custom_error_type="mailbox_kind",
                  custom_error_message=f"'kind' must be one of {', '.join(MAILBOX_KINDS)}"),
]
Mailbox.__name__ = "Mailbox"  # type: ignore[attr-defined]  # how the families table names it


class SandboxSpec(_Model):
    autostart: bool = True


#: the identity of a caller without credentials, in the ``routes`` table
ANONYMOUS = "anonymous"


class Route(_Model):
    """One route of the release and the status each caller must get from it.

    Written flat: ``{method: GET, path: /api/v1/users, anonymous: 401, customer: 403, admin: 200}``;
    every key that is not ``method``, ``path`` or ``service`` names a caller (``anonymous`` or an
    account) and gives its status: a number, ``401|403`` or a list for any of several. A caller
    the row does not name is not asked (a mutating route an account may really call, say).
    """

    method: str = "GET"
    path: str
    service: str | None = None  # default: the service of ``auth``
    answers: dict[str, list[int]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _callers_as_columns(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        own = {"method", "path", "service", "answers"}
        answers = dict(data.get("answers") or {})
        answers.update({str(k): v for k, v in data.items() if k not in own and v is not None})
        return {**{k: v for k, v in data.items() if k in own}, "answers": answers}

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.upper() not in ALL_METHODS:
            raise ValueError(f"unknown HTTP method {value!r}; use one of {list(ALL_METHODS)}")
        return value.upper()

    @field_validator("answers", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        parsed = {}
        for who, status in value.items():
            items = status if isinstance(status, list) else re.split(r"\s*(?:\||,|\bor\b)\s*", str(status).strip())
            try:
                codes = [int(s) for s in items if str(s).strip()]
            except ValueError:
                raise ValueError(f"'{who}': expected an HTTP status (401, '401|403' or a list), got {status!r}") from None
            if not codes or any(not 100 <= c <= 599 for c in codes):
                raise ValueError(f"'{who}': expected HTTP statuses between 100 and 599, got {status!r}")
            parsed[who] = codes
        return parsed


class VersionSource(_Model):
    """Where a service reports the version it runs: a path, and in its answer a JSON path or a header
    (neither: the whole body). ``samples`` > 1 asks that many times on fresh connections, so that
    every instance behind a load balancer gets a chance to answer."""

    path: str = "/version"
    json_path: str | None = Field(default=None, alias="json")
    header: str | None = None
    samples: int = Field(default=1, ge=1, le=50)


class Release(_Model):
    """The release that should be live (``version``; the variable ``POSTDEPLOY_RELEASE_VERSION`` or
    ``--release`` overrides it) and where each service reports the version it runs."""

    version: str | None = None
    services: dict[str, VersionSource] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


# ---- objectives: a unit and green / yellow / red levels -------------------------------------------

Unit = Literal["ms", "s", "percent", "count", "per_minute"]
#: an objective's name ending in one of these gives its unit when the entry does not say it
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_ms", "ms"), ("_s", "s"), ("_seconds", "s"), ("_pct", "percent"), ("_percent", "percent"),
    ("_per_minute", "per_minute"), ("_per_min", "per_minute"), ("_count", "count"),
)
_UNIT_WORDS = {
    "ms": "ms", "millisecond": "ms", "milliseconds": "ms", "s": "s", "sec": "s", "second": "s", "seconds": "s",
    "%": "percent", "percent": "percent", "/min": "per_minute", "per minute": "per_minute", "/m": "per_minute",
}
_SHOWN_UNIT = {"ms": " ms", "s": " s", "percent": "%", "per_minute": "/min", "count": "", None: ""}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(%|ms|s|sec|seconds?|milliseconds?|percent|/min|/m|per minute)?\s*$", re.I)
_THRESHOLDS = ("green_below", "red_above", "green_above", "red_below")


class Level(StrEnum):
    """How a measured value stands against an objective: green (fine), yellow (watch), red (roll back)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def unit_of_name(name: str) -> str | None:
    """The unit an objective's name implies (``p95_ms``: ms; ``error_rate_pct``: percent), None if none."""
    return next((unit for suffix, unit in UNIT_SUFFIXES if name.endswith(suffix)), None)


def _quantity(value: Any) -> tuple[Any, str | None]:
    """``0.5%`` -> (0.5, "percent"), ``600 ms`` -> (600, "ms"), 600 -> (600, None); anything else unchanged."""
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a number with an optional unit (600, 600 ms, 5 s, 0.5%, 10/min)")
        unit = match.group(2)
        return float(match.group(1)), (_UNIT_WORDS[unit.lower()] if unit else None)
    return value, None


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


class Objective(_Model):
    """A threshold a measured value is graded against, in a unit, with green / yellow / red levels.

    Lower is better (latency, error rate): ``green_below`` and, for a yellow band, ``red_above``
    (``{unit: percent, green_below: 0.5, red_above: 1}`` reads "< 0.5% green, 0.5-1% yellow, > 1% red").
    Higher is better (throughput, days before a certificate expires): ``green_above`` and ``red_below``.
    Without the red limit there is no yellow band: what is not green is red. The limits may carry their
    unit (``green_below: 0.5%``, ``red_above: 1 s``): it must agree with ``unit`` (seconds and milliseconds
    convert).
    """

    unit: Unit | None = None  # None: a plain number ("as is")
    green_below: float | None = Field(default=None, allow_inf_nan=False)
    red_above: float | None = Field(default=None, allow_inf_nan=False)
    green_above: float | None = Field(default=None, allow_inf_nan=False)
    red_below: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _limits_with_units(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError("an objective is a number or a mapping such as {unit: ms, green_below: 600, red_above: 1000}")
        if isinstance(data, (int, float, str)):
            data = {"green_below": data}  # a bare limit: green below it, red from it on
        if not isinstance(data, dict):
            return data
        data = dict(data)
        limits = {key: _quantity(data[key]) for key in _THRESHOLDS if key in data}
        unit = data.get("unit") or next((written for _, written in limits.values() if written), None)
        for key, (number, written) in limits.items():
            if written is not None and written != unit:
                if {written, unit} != {"ms", "s"}:
                    raise ValueError(f"'{key}' is {data[key]!r}, in {written}, but the objective is in {unit}")
                number = number * 1000 if written == "s" else number / 1000  # 1 s in an objective in ms
            data[key] = number
        if unit is not None:
            data["unit"] = unit
        return data

    @model_validator(mode="after")
    def _one_direction(self) -> Objective:
        lower = self.green_below is not None or self.red_above is not None
        higher = self.green_above is not None or self.red_below is not None
        if lower and higher:
            raise ValueError("use green_below with red_above (lower is better) or green_above with red_below "
                             "(higher is better), not both")
        if self.green_below is None and self.green_above is None:
            raise ValueError("needs its green limit: green_below (lower is better, e.g. latency) or green_above "
                             "(higher is better, e.g. days before a certificate expires)")
        if self.green_below is not None and self.red_above is not None and self.red_above <= self.green_below:
            raise ValueError(f"red_above ({_number(self.red_above)}) must be greater than green_below "
                             f"({_number(self.green_below)}); leave red_above out for no yellow band")
        if self.green_above is not None and self.red_below is not None and self.red_below >= self.green_above:
            raise ValueError(f"red_below ({_number(self.red_below)}) must be less than green_above "
                             f"({_number(self.green_above)}); leave red_below out for no yellow band")
        return self

    @property
    def higher_is_better(self) -> bool:
        return self.green_above is not None

    @property
    def green(self) -> float:
        """The green limit, in the objective's unit."""
        return self.green_above if self.green_above is not None else self.green_below  # type: ignore[return-value]

    @property
    def red(self) -> float | None:
        """The red limit (None: no yellow band, what is not green is red)."""
        return self.red_below if self.higher_is_better else self.red_above

    def grade(self, value: float) -> Level:
        """Green, yellow or red: lower is better: green below ``green_below``, red above ``red_above``, yellow
        from one to the other, both included (the seeds' "< 0.5% green, 0.5-1% yellow, > 1% red"); higher is
        better: the mirror image. Without a red limit, what is not green is red."""
        if math.isnan(value):
            return Level.RED
        if self.higher_is_better:
            if value > self.green:
                return Level.GREEN
            return Level.RED if self.red is None or value < self.red else Level.YELLOW
        if value < self.green:
            return Level.GREEN
        return Level.RED if self.red is None or value > self.red else Level.YELLOW

    def show(self, value: float) -> str:
        """A value in the objective's unit: ``600 ms``, ``0.5%``, ``10/min``."""
        return f"{_number(value)}{_SHOWN_UNIT[self.unit]}"

    def describe(self) -> str:
        """``green below 600 ms, yellow 600-1000 ms, red above 1000 ms``: the levels as a release manager reads them."""
        green, red = self.green, self.red
        if self.higher_is_better:
            if red is None:
                return f"green above {self.show(green)}, red from {self.show(green)} down"
            return (f"green above {self.show(green)}, yellow {_number(red)}-{self.show(green)}, "
                    f"red below {self.show(red)}")
        if red is None:
            return f"green below {self.show(green)}, red from {self.show(green)} up"
        return f"green below {self.show(green)}, yellow {_number(green)}-{self.show(red)}, red above {self.show(red)}"

    def grade_ms(self, elapsed_ms: float) -> Level:
        """:meth:`grade` for a duration measured in milliseconds (the objective in ms or s)."""
        return self.grade(elapsed_ms / self.milliseconds(1.0))

    def latency_note(self, elapsed_ms: float) -> str:
        """``" (yellow: green below 600 ms, yellow 600-1000 ms, red above 1000 ms)"`` for an objective with a
        yellow band; "" for a bare limit (what is not green is red, as the message already says)."""
        if self.red is None:
            return ""
        return f" ({self.grade_ms(elapsed_ms)}: {self.describe()})"

    def milliseconds(self, value: float | None = None, name: str = "") -> float:
        """A duration of this objective (by default its green limit) in milliseconds; an objective that is
        not a duration (percent, a count, no unit) raises :class:`EnvironmentFileError`."""
        value = self.green if value is None else value
        if self.unit == "ms":
            return value
        if self.unit == "s":
            return value * 1000
        what = f"the objective '{name}'" if name else "the objective"
        unit = f"in {self.unit}" if self.unit else "a plain number"
        raise EnvironmentFileError(
            f"{what} is {unit}, not a duration; a latency needs one in ms or s "
            "(a name ending in _ms or _s, or unit: ms)")


# ---- rate limits -----------------------------------------------------------------------------------

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?\s*$", re.I)
_WINDOW_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def window_seconds(value: Any) -> Any:
    """``1m``, ``60s``, ``60``, ``1 minute``, ``1h``, ``500ms`` -> seconds; anything else is left to the schema."""
    if isinstance(value, bool):
        raise ValueError(f"a window is a duration such as 1m, 60s or 60 (seconds), got {value!r}")
    if isinstance(value, str):
        match = _WINDOW.match(value)
        if match is None:
            raise ValueError(f"a window is a duration such as 1m, 60s, 1h or 60 (seconds), got {value!r}")
        unit = (match.group(2) or "s").lower()
        factor = _WINDOW_UNITS["ms"] if unit == "ms" else _WINDOW_UNITS[unit[0]]
        return float(match.group(1)) * factor
    return value


#: a rate-limit window: ``1m``, ``60s``, ``1h`` or a number of seconds, held in seconds
Window = Annotated[float, BeforeValidator(window_seconds), Field(gt=0, allow_inf_nan=False)]
#: the prefix of an identity that names an API key of the ``secrets:`` section
SECRET_IDENTITY = "secrets."


def _route_regex(route: str) -> re.Pattern[str]:
    """``/api/*`` (``*``: anything, ``/`` included) and ``/orders/{id}`` (one segment) as a regex."""
    out = ""
    for token in re.split(r"(\*+|\{[^{}/]*\})", route):
        if token.startswith("*"):
            out += ".*"
        elif token.startswith("{") and token.endswith("}"):
            out += "[^/]+"
        else:
            out += re.escape(token)
    return re.compile(out)


class RateLimit(_Model):
    """A limit the deployment promises: ``limit`` requests of ``method route`` per ``window`` for ``identity``.

    ``route`` is a path or a pattern (``*``: anything, ``/`` included, so ``/api/*`` is every API route;
    ``{id}``: one segment);
    a pattern needs ``probe``, the concrete path a check sends its burst to. ``identity`` is ``anonymous``, an
    account, or ``secrets.NAME`` (an API key of the ``secrets:`` section, sent in ``api_key_header``).
    ``headers`` says which headers the deployment promises on its answers (``ietf``: ``RateLimit`` and
    ``RateLimit-Policy``; ``x-ratelimit``: ``X-RateLimit-Limit``/``-Remaining``/``-Reset``; ``none``), and
    ``retry_after`` whether its 429 carries ``Retry-After``.
    """

    route: str
    probe: str | None = None
    service: str | None = None  # default: the service of ``auth``
    method: str = "GET"
    identity: str = ANONYMOUS
    api_key_header: str = "X-API-Key"
    limit: int = Field(ge=1)
    window: Window
    headers: Literal["ietf", "x-ratelimit", "none"] = "none"
    retry_after: bool = False

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.upper() not in ALL_METHODS:
            raise ValueError(f"unknown HTTP method {value!r}; use one of {list(ALL_METHODS)}")
        return value.upper()

    @field_validator("route", "probe")
    @classmethod
    def _a_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"a path starting with '/', got {value!r}")
        return value

    @model_validator(mode="after")
    def _probe_of_a_pattern(self) -> RateLimit:
        if self.is_pattern and self.probe is None:
            raise ValueError(f"route {self.route!r} is a pattern: add 'probe', the path a check sends its burst to "
                             "(e.g. probe: /api/v1/users/me)")
        if self.probe is not None and not _route_regex(self.route).fullmatch(self.probe):
            raise ValueError(f"probe {self.probe!r} is not a path of the route {self.route!r}")
        return self

    @property
    def is_pattern(self) -> bool:
        return "*" in self.route or "{" in self.route

    @property
    def path(self) -> str:
        """The path a check sends requests to: ``probe``, or the route itself."""
        return self.probe or self.route

    @property
    def api_key(self) -> str | None:
        """The name of the ``secrets:`` entry this limit's identity uses, if it is an API key."""
        return self.identity[len(SECRET_IDENTITY):] if self.identity.startswith(SECRET_IDENTITY) else None

    def describe(self) -> str:
        """``100 requests per 60 s to GET /api/* as anonymous``."""
        return (f"{self.limit} requests per {_number(self.window)} s to {self.method} {self.route} "
                f"as {self.identity}")


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
        names = sorted(self.services)
        if self.auth.service not in self.services and self.accounts:
            raise ValueError(_unknown("auth.service", self.auth.service, names))
        if self.browser and self.browser.service not in self.services:
            raise ValueError(_unknown("browser.service", self.browser.service, names))
        both = sorted(set(map(str, self.values)) & set(map(str, self.secrets)))
        if both:
            raise ValueError(f"'{both[0]}' is both under values: and under secrets:; {{{{{both[0]}}}}} must name one")
        return self

    @model_validator(mode="after")
    def _rate_limit_identities(self) -> Environment:
        names = sorted(self.services)
        identities = [ANONYMOUS, *self.accounts, *(SECRET_IDENTITY + key for key in self.secrets)]
        for i, limit in enumerate(self.rate_limits):
            if limit.service is not None and limit.service not in self.services:
                raise ValueError(_unknown(f"rate_limits[{i}].service", limit.service, names))
            if limit.identity not in identities:
                raise ValueError(
                    f"rate_limits[{i}] ({limit.method} {limit.route}) names the identity '{limit.identity}', which is "
                    f"neither '{ANONYMOUS}', an account nor '{SECRET_IDENTITY}NAME' of a secrets: entry"
                    f"{_did_you_mean(limit.identity, identities)}; the identities are: {', '.join(identities)}")
        return self

    @model_validator(mode="after")
    def _routes_and_release(self) -> Environment:
        names = sorted(self.services)
        callers = [ANONYMOUS, *self.accounts]
        for i, route in enumerate(self.routes):
            if route.service is not None and route.service not in self.services:
                raise ValueError(_unknown(f"routes[{i}].service", route.service, names))
            for who in route.answers:
                if who not in callers:
                    raise ValueError(
                        f"routes[{i}] ({route.method} {route.path}) lists the caller '{who}', which is neither "
                        f"'{ANONYMOUS}' nor an account{_did_you_mean(who, callers)}; its callers are: {', '.join(callers)}")
        for name in self.release.services:
            if name not in self.services:
                raise ValueError(_unknown(f"release.services.{name}", name, names))
        return self

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


def _did_you_mean(name: str, options: Mapping[str, Any] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown(field: str, value: str, names: list[str]) -> str:
    return f"{field} names the service '{value}', which is not defined{_did_you_mean(value, names)}"


def available(env_dir: Path) -> list[str]:
    return sorted(p.stem for p in env_dir.glob("*.yaml")) if env_dir.is_dir() else []


def _overlaps(a: str, b: str) -> bool:
    """Whether two dotted paths are the same, or one lies inside the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


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


def _interpolate_by_part(raw: dict[Any, Any], variables: Mapping[str, str],
                         lazy_sections: tuple[str, ...] = LAZY_SECTIONS,
                         ) -> tuple[dict[Any, Any], list[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    """Interpolate the whole file; sort unset variables into eager ones and lazy part -> its ones."""
    data: dict[Any, Any] = {}
    eager: list[tuple[str, str]] = []
    lazy: dict[str, list[tuple[str, str]]] = {}
    for key, value in raw.items():
        section = str(key)
        if section in LAZY_ENTRIES and isinstance(value, dict):
            entries = {}
            for entry, item in value.items():
                found: list[tuple[str, str]] = []
                entries[entry] = interpolate(item, variables, f"{section}.{entry}", found)
                if found:
                    lazy[f"{section}.{entry}"] = found
            data[key] = entries
            continue
        found = []
        data[key] = interpolate(value, variables, section, found)
        if not found:
            continue
        if section in lazy_sections or section in LAZY_ENTRIES:
            lazy[section] = found
        else:
            eager.extend(found)
    return data, eager, lazy


class _DuplicateKey(Exception):
    def __init__(self, key: str, first: int, second: int, where: str) -> None:
        super().__init__(key)
        self.key, self.first, self.second, self.where = key, first, second, where


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses a key repeated in one mapping (PyYAML keeps the last silently)."""

    _root: yaml.Node | None = None

    def construct_document(self, node: yaml.Node) -> Any:
        self._root = node
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # merged keys may be overridden; complex keys are left to PyYAML
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    continue
                if first is not None:
                    raise _DuplicateKey(key_node.value, first, line, _node_path(self._root, node) or "")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _node_path(node: yaml.Node | None, target: yaml.Node, path: str = "", visited: set[int] | None = None) -> str | None:
    """The dotted path of ``target`` inside the document ``node`` ("" for the top level)."""
    visited = set() if visited is None else visited
    if node is None or id(node) in visited:
        return None
    if node is target:
        return path
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            found = _node_path(value_node, target, f"{path}.{key}" if path else str(key), visited)
            if found is not None:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found = _node_path(item, target, f"{path}[{index}]", visited)
            if found is not None:
                return found
    return None


def interpolate(data: Any, variables: Mapping[str, str], path: str = "",
                missing: list[tuple[str, str]] | None = None) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` everywhere. What is secret is decided by the schema
    (fields typed :class:`Secret`), after validation, not here.

    With ``missing`` given, an unset variable is recorded there as (name, field) and replaced by a
    placeholder, so that the schema can be checked before the missing variables are reported.
    """
    if isinstance(data, dict):
        return {k: interpolate(v, variables, f"{path}.{k}" if path else str(k), missing) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, variables, f"{path}[{i}]", missing) for i, v in enumerate(data)]
    if not isinstance(data, str):
        return data

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            value = variables[name]
        elif default is not None:
            value = default
        elif missing is not None:
            missing.append((name, path))
            return "http://unset.invalid" if path.endswith("url") else "unset"
        else:
            raise MissingSecret(
                f"'{path}' needs the variable ${{{name}}}, which is not set. Export it before the run "
                f"(export {name}=...), or provide it through your CI's secret store; postdeploy never "
                "reads secrets from the environment file itself."
            )
        return value

    return _VAR.sub(replace, data)


def load(
    name: str,
    env_dir: Path,
    variables: Mapping[str, str] | None = None,
    provide: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
    model: type[Environment] | None = None,
) -> tuple[Environment, set[str]]:
    """Load and validate ``env_dir/name.yaml``. Returns the environment and its secret values: every
    :class:`Secret` of the validated model (:func:`secret_values`), those of unset variables excepted.

    ``provide`` sees the raw file before interpolation and may add variables (the local
    sandbox's addresses, known only once it runs). ``model`` is :class:`Environment` with the
    sections the families declare (``postdeploy.families``); those sections are lazy too.
    """
    model = model or Environment
    if not env_dir.is_dir():
        what = "is not a directory" if env_dir.exists() else "does not exist"
        raise EnvironmentFileError(
            f"the environment directory {env_dir} {what}, so environment '{name}' cannot be loaded. "
            "Point --env-dir DIR (or $POSTDEPLOY_ENV_DIR) at the directory that holds your NAME.yaml files, "
            "or create environments/ in the project and put them there."
        )
    names = available(env_dir)
    path = env_dir / f"{name}.yaml"
    if name not in names:
        hint = _did_you_mean(name, names)
        choices = ", ".join(names) if names else f"none: {env_dir} has no *.yaml files"
        raise EnvironmentFileError(
            f"unknown environment '{name}'{hint}. --env takes the name of a file in {env_dir}; "
            f"available: {choices}."
        )
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader: safe_load semantics
    except _DuplicateKey as dup:
        inside = f" in '{dup.where}'" if dup.where else ""
        lines = f"both on line {dup.first}" if dup.first == dup.second else f"lines {dup.first} and {dup.second}"
        raise EnvironmentFileError(
            f"environment file {path} has the key '{dup.key}' twice{inside} ({lines}); "
            "the second would silently replace the first. Keep one (merge the two into one if both hold settings)."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvironmentFileError(f"cannot read environment file {path}: {exc}.") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise EnvironmentFileError(
            f"environment file {path} is not valid YAML{line}: {problem}. Fix the syntax (indentation, "
            "a missing colon or quote) and run again."
        ) from None
    if not isinstance(raw, dict):
        raise EnvironmentFileError(f"environment file {path} must be a mapping of sections (services:, accounts:, ...).")
    raw.setdefault("name", name)
    scope = dict(os.environ if variables is None else variables)
    if provide is not None:
        scope.update(provide(raw))
    family_sections = tuple(field for field in model.model_fields if field not in Environment.model_fields)
    data, eager, lazy = _interpolate_by_part(raw, scope, (*LAZY_SECTIONS, *family_sections))
    env = _validate(path, data, eager, lazy, model)
    env._missing = lazy
    env._source = str(path)
    # placeholders of unset variables are not secrets (and would redact the word "unset")
    return env, secret_values(env, skip=(field for entries in lazy.values() for _, field in entries))


def _validate(path: Path, data: dict[Any, Any], eager: list[tuple[str, str]],
              lazy: dict[str, list[tuple[str, str]]], model: type[Environment] | None = None) -> Environment:
    """Validate the interpolated file; raise for schema errors, then for unset variables of eager sections.

    A placeholder that fails the schema (a number written as ``${VAR}`` and not set) is reported as the
    unset variable it is; in a lazy part, the field takes its default so that ``load`` succeeds, and the
    part still raises :class:`MissingSecret` when it is used.
    """
    placeholders = {field: var for entries in (eager, *lazy.values()) for var, field in entries}

    def unset_eager() -> MissingSecret:
        return MissingSecret(_missing_message(
            f"environment '{data.get('name')}' ({path})", eager,
            "the services, auth, browser, safety, expect and objectives sections are needed by every run"))

    model = model or Environment
    try:
        env = model.model_validate(data)
    except ValidationError as exc:
        if any(_dotted(_location(model, error["loc"])[0]) not in placeholders for error in exc.errors()):
            raise EnvironmentFileError(_explain(path, exc, placeholders, model)) from None
        if eager:
            raise unset_eager() from None
        for error in exc.errors():
            _drop(data, _location(model, error["loc"])[0])
        try:
            env = model.model_validate(data)
        except ValidationError as again:
            raise EnvironmentFileError(_explain(path, again, placeholders, model)) from None
    if eager:
        raise unset_eager()
    return env


def _dotted(loc: tuple[Any, ...]) -> str:
    """A validation error's location written as interpolate() names fields: ``a.b[0].c``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _drop(data: Any, loc: tuple[Any, ...]) -> None:
    """Remove the value at ``loc`` (so that its field takes its default); nothing if it is not there."""
    for part in loc[:-1]:
        if isinstance(data, list) and isinstance(part, int) and -len(data) <= part < len(data):
            data = data[part]
        elif isinstance(data, dict):
            data = next((v for k, v in data.items() if str(k) == str(part)), None)
        else:
            return
    if isinstance(data, dict):
        for key in [k for k in data if str(k) == str(loc[-1])]:
            del data[key]


def _first_fields(entries: list[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for var, field in entries:
        first.setdefault(var, field)
    return first


def _explain(path: Path, exc: ValidationError, placeholders: Mapping[str, str] | None = None,
             model: type[BaseModel] | None = None) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where, _ = _location(model or Environment, error["loc"])
        loc = _dotted(where) or "(top level)"
        unset = (placeholders or {}).get(_dotted(where))
        if unset:
            problems.append(f"'{loc}' needs ${{{unset}}}, which is not set")
        elif error["type"] == "extra_forbidden":
            parent_model = _location(model or Environment, error["loc"][:-1])[1]
            fields = list(parent_model.model_fields) if parent_model else []
            aliases = [f.alias for f in parent_model.model_fields.values() if f.alias] if parent_model else []
            problems.append(f"'{loc}' is not a known field{_did_you_mean(str(where[-1]), fields + aliases)}")
        elif error["type"] == "missing":
            problems.append(f"'{loc}' is required but missing")
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found", "mailbox_kind"):
            key = str((error.get("ctx") or {}).get("discriminator", "kind")).strip("'")
            tags = _tags(_walk(model or Environment, error["loc"])[1], key)
            given = error["input"].get(key) if isinstance(error["input"], dict) else None
            if given is None:
                problems.append(f"'{loc}.{key}' is required but missing: one of {', '.join(tags)}")
            else:
                problems.append(f"'{loc}.{key}' must be one of {', '.join(tags)}, got {given!r}"
                                f"{_did_you_mean(str(given), tags)}")
        elif error["type"] in _NUMBER_LIMITS:
            unit = " (milliseconds)" if loc.endswith("_ms") else " (seconds)" if loc.endswith(("_s", "window")) else ""
            problems.append(f"'{loc}': {_must(error['msg'])}, got {error['input']!r}{unit}")
        else:
            problems.append(f"'{loc}': {_must(error['msg'])}")
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return (
        f"environment file {path} does not match the schema: {'; '.join(problems)}{more}. "
        "See docs/environments.md for the fields each section takes."
    )


_NUMBER_LIMITS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "finite_number")


def _must(message: str) -> str:
    """pydantic's "Input should be greater than 0" reads as "must be greater than 0"; a validator's
    "Value error, needs ..." reads as "needs ..."."""
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    return re.sub(r"^(?:Input|List|Dictionary|String|Tuple) should ", "must ", message).replace(" after validation", "")


def _location(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], type[BaseModel] | None]:
    """A validation error's location as the file writes it, and the model it ends in (None if it ends
    elsewhere): the schema is followed field by field, and the tags pydantic inserts for a union
    (``mailbox.imap.port`` for the file's ``mailbox.port``) are dropped."""
    where, current = _walk(model, loc)
    end = _unwrap(current)
    return where, end if isinstance(end, type) and issubclass(end, BaseModel) else None


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any]:
    """:func:`_location`'s walk: the location without union tags, and the annotation it ends in."""
    where: list[Any] = []
    current: Any = model
    for part in loc:
        shape = _unwrap(current)
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            field = shape.model_fields.get(str(part)) or next(
                (f for f in shape.model_fields.values() if f.alias == part), None)
            current = field.annotation if field is not None else None
            where.append(part)
            continue
        origin = typing.get_origin(shape)
        if origin in (dict, Mapping, list, tuple):
            current = typing.get_args(shape)[-1] if typing.get_args(shape) else None
            where.append(part)
            continue
        member = next((m for m in _union_members(shape) if _tagged(m, part)), None)
        if member is not None:
            current = member  # a union's tag: not a key of the file
            continue
        current = None
        where.append(part)
    return tuple(where), current


def _tags(annotation: Any, key: str) -> list[str]:
    """The values the union at ``annotation`` accepts for its discriminator ``key`` (``kind``)."""
    tags: list[str] = []
    for member in _union_members(_unwrap(annotation)):
        field = member.model_fields.get(key) if isinstance(member, type) and issubclass(member, BaseModel) else None
        if field is not None and typing.get_origin(field.annotation) is Literal:
            tags += [str(arg) for arg in typing.get_args(field.annotation)]
    return tags


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> X; a union of several types stays a union."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _union_members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return []
    return [_unwrap(arg) for arg in typing.get_args(annotation) if arg is not type(None)]


def _tagged(member: Any, tag: Any) -> bool:
    """Whether ``tag`` is the discriminator value of the union member ``member`` (a Literal field of it)."""
    if not (isinstance(member, type) and issubclass(member, BaseModel)):
        return False
    return any(typing.get_origin(f.annotation) is Literal and tag in typing.get_args(f.annotation)
               for f in member.model_fields.values())


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\[\]-]+)\s*\}\}")


def expand(env: Environment, text: str, extra: Mapping[str, Any] | None = None) -> str:
    """Fill ``{{name}}`` placeholders in a step argument from the environment.

    ``{{x}}`` looks in ``values``, then ``secrets``; ``{{services.api.base_url}}``, ``{{accounts.admin.username}}``,
    ``{{objectives.p95_ms}}`` and any other dotted path reach the whole environment, so a feature
    can name a per-environment value without holding it.
    """
    from . import paths

    extra = extra or {}
    document = {**env.model_dump(by_alias=True), **env.values, **env.secrets, **extra}
    # {{objectives.NAME}} is the objective's green limit, a number, as when objectives were bare numbers
    document["objectives"] = {name: spec.green for name, spec in env.objectives.items()}

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        try:
            value = paths.resolve(document, key)
        except (paths.PathNotFound, ValueError):
            raise EnvironmentFileError(
                f"the step needs '{{{{{key}}}}}', which environment '{env.name}' does not define"
                f"{_did_you_mean(key, [*env.values, *env.secrets])}; add it under 'values:' in its file "
                "(under 'secrets:' if it is a secret)."
            ) from None
        parts = [str(part) for part in paths.parse(key)]
        if parts and parts[0] not in extra:
            full = (["values", *parts] if parts[0] in env.values else ["secrets", *parts] if parts[0] in env.secrets
                    else parts)
            env.require(".".join(full), f"'{{{{{key}}}}}' in a step")
        return str(value)

    return _PLACEHOLDER.sub(fill, text)
