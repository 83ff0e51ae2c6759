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

The package, one module a job (each imports only those before it in this list):

* ``common``: the base model, field types (seconds, an absolute URL, an HTTP method), "did you mean".
* ``secrets``: the :class:`Secret` and :class:`Dsn` types, and :func:`secret_values`, which finds them.
* ``objectives``: :class:`Objective`, its unit and its green / yellow / red :class:`Level`.
* ``sections``: the roadmap families' sections: ``database``, ``mailbox``, ``routes``, ``release``, ``rate_limits``.
* ``model``: the core sections and :class:`Environment`, the whole file, with its accessors.
* ``explain``: a validation error as one paragraph.
* ``loading``: :func:`load`: YAML without repeated keys, ``${VAR}`` expansion, eager and lazy variables.
* ``placeholders``: :func:`expand`, ``{{name}}`` in step arguments.
"""

from ..errors import EnvironmentFileError, MissingSecret
from .common import ALL_METHODS, SAFE_METHODS, HttpUrl, Method, Milliseconds, Seconds
from .loading import _VAR, LAZY_ENTRIES, LAZY_SECTIONS, available, interpolate, load
from .model import (
    DEFAULT_DOCS_PATHS,
    DEFAULT_TIMEOUT_S,
    Account,
    AuthSpec,
    BrowserLogin,
    BrowserSpec,
    CorsSpec,
    Dependent,
    Environment,
    Expectations,
    HealthSpec,
    Safety,
    SandboxSpec,
    Service,
)
from .objectives import UNIT_SUFFIXES, Level, Objective, Unit, unit_of_name
from .placeholders import expand
from .secrets import Dsn, Secret, secret_values
from .sections import (
    ANONYMOUS,
    DEFAULT_RECIPIENT_PATTERN,
    MAILBOX_KINDS,
    SECRET_IDENTITY,
    Database,
    Imap,
    Mailbox,
    MailDev,
    Mailpit,
    MailpitAuth,
    RateLimit,
    RecipientPattern,
    Release,
    Route,
    VersionSource,
    Window,
    window_seconds,
)

__all__ = [
    "ALL_METHODS",
    "ANONYMOUS",
    "DEFAULT_DOCS_PATHS",
    "DEFAULT_RECIPIENT_PATTERN",
    "DEFAULT_TIMEOUT_S",
    "LAZY_ENTRIES",
    "LAZY_SECTIONS",
    "MAILBOX_KINDS",
    "SAFE_METHODS",
    "SECRET_IDENTITY",
    "UNIT_SUFFIXES",
    "_VAR",
    "Account",
    "AuthSpec",
    "BrowserLogin",
    "BrowserSpec",
    "CorsSpec",
    "Database",
    "Dependent",
    "Dsn",
    "Environment",
    "EnvironmentFileError",
    "Expectations",
    "HealthSpec",
    "HttpUrl",
    "Imap",
    "Level",
    "MailDev",
    "Mailbox",
    "Mailpit",
    "MailpitAuth",
    "Method",
    "Milliseconds",
    "MissingSecret",
    "Objective",
    "RateLimit",
    "RecipientPattern",
    "Release",
    "Route",
    "Safety",
    "SandboxSpec",
    "Seconds",
    "Secret",
    "Service",
    "Unit",
    "VersionSource",
    "Window",
    "available",
    "expand",
    "interpolate",
    "load",
    "secret_values",
    "unit_of_name",
    "window_seconds",
]
