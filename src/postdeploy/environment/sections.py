"""The sections of the roadmap families, typed here and declared by the families (``postdeploy.families``):
``database``, ``mailbox`` (a union on ``kind``), ``routes``, ``release`` and ``rate_limits``. Their
``${VAR}``s are needed only when a step uses them (:meth:`Environment.section`)."""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from .common import HttpUrl, Method, Milliseconds, _Model, _number
from .secrets import Dsn, Secret


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
    #: a file of certificate authorities to verify the server with (a private CA), instead of the system's
    ca_file: str | None = None

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


# ---- routes and release -----------------------------------------------------------------------------

#: the identity of a caller without credentials, in the ``routes`` table
ANONYMOUS = "anonymous"


class Route(_Model):
    """One route of the release and the status each caller must get from it.

    Written flat: ``{method: GET, path: /api/v1/users, anonymous: 401, customer: 403, admin: 200}``;
    every key that is not ``method``, ``path`` or ``service`` names a caller (``anonymous`` or an
    account) and gives its status: a number, ``401|403`` or a list for any of several. A caller
    the row does not name is not asked (a mutating route an account may really call, say).
    """

    method: Method = "GET"
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
    # where a checklist item is described: "https://wiki.example/deploy-v2#{id}"; a scenario tagged
    # @checklist:<id> then links to its item in the report
    checklist_url: str | None = None

    @field_validator("checklist_url")
    @classmethod
    def _an_item_template(cls, value: str | None) -> str | None:
        if value is not None and ("{id}" not in value or not value.startswith(("http://", "https://"))):
            raise ValueError(f"an http(s) address with {{id}} where the item's id goes, e.g. "
                             f"'https://wiki.example/deploy-checklist#{{id}}'; got {value!r}")
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


# ---- rate limits ------------------------------------------------------------------------------------

_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?\s*$", re.IGNORECASE)
_WINDOW_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def window_seconds(value: Any) -> Any:
    """``1m``, ``60s``, ``60``, ``1 minute``, ``1h``, ``500ms`` -> seconds; anything else is left to the schema."""
    if isinstance(value, bool):
        raise ValueError(  # noqa: TRY004 (pydantic reports a ValueError as a schema error; a TypeError escapes)
            f"a window is a duration such as 1m, 60s or 60 (seconds), got {value!r}")
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
    method: Method = "GET"
    identity: str = ANONYMOUS
    api_key_header: str = "X-API-Key"
    limit: int = Field(ge=1)
    window: Window
    headers: Literal["ietf", "x-ratelimit", "none"] = "none"
    retry_after: bool = False

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
