"""Environment files: ``environments/NAME.yaml`` validated once into a frozen, typed object.

An environment file holds everything that differs between targets (URLs, accounts, expected
values, safety rules), so that one feature file verifies local, staging and prod alike.
Secrets never live in the file: they are written as ``${VAR}`` and read from the process
environment when the file is loaded. Every value that came from a variable in a secret-bearing
field is registered with the redactor, so it can never reach a report.

Variables are needed per section, when a step needs that section: a missing variable in the
services, auth, browser, safety, expect, objectives or sandbox sections (or a top-level scalar)
stops :func:`load`; one in a *lazy* part (each account, each ``values`` entry, ``database``,
``mailbox``, ``rate_limits``, ``release``, a section a family declares) is recorded, and only using
that part raises :class:`MissingSecret` (:meth:`Environment.account`, :meth:`Environment.section`, :func:`expand`).
The validated model still holds placeholders there, so steps reach these parts only through
those accessors, never as ``env.database`` or ``env.accounts[...]``.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import EnvironmentFileError, MissingSecret

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_FIELDS = ("password", "token", "api_key", "dsn", "secret", "readonly_dsn")

DEFAULT_TIMEOUT_S = 10.0
# Sections whose ${VAR}s are needed only when a step uses them (accounts and values: per entry).
LAZY_SECTIONS = ("database", "mailbox", "rate_limits", "release")
LAZY_ENTRIES = ("accounts", "values")
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
    password: str | None = Field(default=None, repr=False)
    token: str | None = Field(default=None, repr=False)
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
    dsn: str = Field(repr=False)
    statement_timeout_ms: Milliseconds = 5000
    lock_timeout_ms: Milliseconds = 1000
    migrations_table: str = "schema_migrations"


class Mailbox(_Model):
    kind: Literal["maildev", "mailpit", "imap"] = "maildev"
    url: str
    recipient_pattern: str = "postdeploy+{run_id}-{n}@example.com"


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
    objectives: dict[str, float] = Field(default_factory=dict)
    values: dict[str, Any] = Field(default_factory=dict)
    # Sections for the families on the roadmap: validated now, used by their steps later, and
    # only through section(): their ${VAR}s are needed when a step uses them (see the module doc).
    database: Database | None = None
    mailbox: Mailbox | None = None
    rate_limits: list[dict[str, Any]] = Field(default_factory=list)
    release: Release = Field(default_factory=Release)
    # every route of the release and what each caller (anonymous or an account) must get from it
    routes: list[Route] = Field(default_factory=list)

    # lazy part ("database", "accounts.admin", "values.key") -> its unset variables [(VAR, field)]
    _missing: dict[str, list[tuple[str, str]]] = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _references(self) -> Environment:
        names = sorted(self.services)
        if self.auth.service not in self.services and self.accounts:
            raise ValueError(_unknown("auth.service", self.auth.service, names))
        if self.browser and self.browser.service not in self.services:
            raise ValueError(_unknown("browser.service", self.browser.service, names))
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


def _interpolate_by_part(raw: dict[Any, Any], variables: Mapping[str, str], secrets: set[str],
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
                entries[entry] = interpolate(item, variables, secrets, f"{section}.{entry}", found)
                if found:
                    lazy[f"{section}.{entry}"] = found
            data[key] = entries
            continue
        found = []
        data[key] = interpolate(value, variables, secrets, section, found)
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


def interpolate(data: Any, variables: Mapping[str, str], secrets: set[str], path: str = "",
                missing: list[tuple[str, str]] | None = None) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` everywhere; collect secret values.

    With ``missing`` given, an unset variable is recorded there as (name, field) and replaced by a
    placeholder, so that the schema can be checked before the missing variables are reported.
    """
    if isinstance(data, dict):
        return {k: interpolate(v, variables, secrets, f"{path}.{k}" if path else str(k), missing) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, variables, secrets, f"{path}[{i}]", missing) for i, v in enumerate(data)]
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
        if value and any(word in path.rsplit(".", 1)[-1].lower() for word in _SECRET_FIELDS):
            secrets.add(value)
        return value

    return _VAR.sub(replace, data)


def load(
    name: str,
    env_dir: Path,
    variables: Mapping[str, str] | None = None,
    provide: Callable[[dict[str, Any]], Mapping[str, str]] | None = None,
    model: type[Environment] | None = None,
) -> tuple[Environment, set[str]]:
    """Load and validate ``env_dir/name.yaml``. Returns the environment and its secret values.

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
    secrets: set[str] = set()
    scope = dict(os.environ if variables is None else variables)
    if provide is not None:
        scope.update(provide(raw))
    family_sections = tuple(field for field in model.model_fields if field not in Environment.model_fields)
    data, eager, lazy = _interpolate_by_part(raw, scope, secrets, (*LAZY_SECTIONS, *family_sections))
    env = _validate(path, data, eager, lazy, model)
    env._missing = lazy
    env._source = str(path)
    # placeholders of parts with unset variables are not secrets (and would redact the word "unset")
    for account_name, account in env.accounts.items():
        if f"accounts.{account_name}" not in lazy:
            secrets.update(v for v in (account.password, account.token) if v)
    if env.database and "database" not in lazy:
        secrets.update(_dsn_passwords(env.database.dsn))
    return env, secrets


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
        if any(_dotted(error["loc"]) not in placeholders for error in exc.errors()):
            raise EnvironmentFileError(_explain(path, exc, placeholders, model)) from None
        if eager:
            raise unset_eager() from None
        for error in exc.errors():
            _drop(data, error["loc"])
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


def _dsn_passwords(dsn: str) -> set[str]:
    """psycopg.conninfo reads URL and keyword DSNs, and passwords holding @ : / % and spaces."""
    from .redact import dsn_passwords

    return dsn_passwords(dsn)


def _explain(path: Path, exc: ValidationError, placeholders: Mapping[str, str] | None = None,
             model: type[BaseModel] | None = None) -> str:
    problems = []
    for error in exc.errors()[:5]:
        loc = ".".join(str(part) for part in error["loc"]) or "(top level)"
        unset = (placeholders or {}).get(_dotted(error["loc"]))
        if unset:
            problems.append(f"'{loc}' needs ${{{unset}}}, which is not set")
        elif error["type"] == "extra_forbidden":
            parent_model = _model_at(model or Environment, error["loc"][:-1])
            fields = list(parent_model.model_fields) if parent_model else []
            aliases = [f.alias for f in parent_model.model_fields.values() if f.alias] if parent_model else []
            problems.append(f"'{loc}' is not a known field{_did_you_mean(str(error['loc'][-1]), fields + aliases)}")
        elif error["type"] == "missing":
            problems.append(f"'{loc}' is required but missing")
        elif error["type"] in _NUMBER_LIMITS:
            unit = " (milliseconds)" if loc.endswith("_ms") else " (seconds)" if loc.endswith("_s") else ""
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
    """pydantic's "Input should be greater than 0" reads as "must be greater than 0"."""
    return "must be " + message[len("Input should be "):] if message.startswith("Input should be ") else message


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow a validation error location through the schema to the model it names."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            if isinstance(current, type) and issubclass(current, BaseModel):
                continue
            return None
        field = current.model_fields.get(str(part)) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            # a dict key (a service or account name): stay on the value type
            continue
        annotation = field.annotation
        current = _inner_model(annotation, typing)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any, typing: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg, typing)
        if found is not None:
            return found
    return None


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\[\]-]+)\s*\}\}")


def expand(env: Environment, text: str, extra: Mapping[str, Any] | None = None) -> str:
    """Fill ``{{name}}`` placeholders in a step argument from the environment.

    ``{{x}}`` looks in ``values``; ``{{services.api.base_url}}``, ``{{accounts.admin.username}}``,
    ``{{objectives.p95_ms}}`` and any other dotted path reach the whole environment, so a feature
    can name a per-environment value without holding it.
    """
    from . import paths

    extra = extra or {}
    document = {**env.model_dump(by_alias=True), **env.values, **extra}

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        try:
            value = paths.resolve(document, key)
        except (paths.PathNotFound, ValueError):
            raise EnvironmentFileError(
                f"the step needs '{{{{{key}}}}}', which environment '{env.name}' does not define"
                f"{_did_you_mean(key, list(env.values))}; add it under 'values:' in its file."
            ) from None
        parts = [str(part) for part in paths.parse(key)]
        if parts and parts[0] not in extra:
            full = ["values", *parts] if parts[0] in env.values else parts
            env.require(".".join(full), f"'{{{{{key}}}}}' in a step")
        return str(value)

    return _PLACEHOLDER.sub(fill, text)
