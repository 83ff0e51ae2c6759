"""Redaction, applied in one layer before anything leaves the process.

Everything postdeploy prints, logs or attaches goes through :func:`redact` (text, bytes) or
:func:`redact_headers` / :func:`redact_json` (structures). Three rules, the same everywhere:

* **Secrets by value.** Values registered with :func:`register` (passwords and tokens from the
  environment file, tokens obtained at run time, DSN passwords from :func:`dsn_passwords`) are masked
  wherever they appear, and so are their encoded forms: URL-encoded, JSON-escaped, HTML-escaped and
  base64. The forms are computed once at registration, so redacting is one pass of replacements.
* **Secrets by name.** A header, a JSON field, a table column or a ``key=value`` / ``"key": "value"``
  pair of free text is masked when its name holds a sensitive word *as a whole word*: the name is split
  on ``_ - .``, spaces and camelCase, so ``access_token``, ``X-Api-Key`` and ``sessionId`` are masked and
  ``passengers``, ``compass``, ``bypass_cache`` and ``tokenizer`` are not. A name that only describes a
  credential is not masked: a descriptive word after the sensitive one (``token_type``, ``password_hint``,
  ``token_url``, ``session_timeout``) or a flag word before it (``allow_credentials``, ``has_password``).
  The list is :data:`SENSITIVE_KEY_NAMES`; :func:`add_sensitive_keys` extends it.
* **Secrets by shape.** JWTs, ``Bearer``/``Basic`` credentials and the password of ``scheme://user:pw@host``
  URLs (up to the last ``@`` before the host, so a password holding ``@`` is masked whole).

Screenshots and other pixels cannot be redacted by text replacement; see :func:`postdeploy.evidence.image`.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote

MASK = "[REDACTED]"
_MASK = MASK.encode()
MIN_SECRET_LENGTH = 4

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
     "x-service-token", "x-auth-token", "x-csrf-token"}
)

SENSITIVE_KEY_NAMES: tuple[str, ...] = (
    "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "access_token", "refresh_token",
    "id_token", "auth_token", "jwt", "authtoken", "accesstoken", "refreshtoken", "api_key", "apikey", "authorization",
    "credential", "credentials", "cookie", "cookies", "session", "sessionid", "sessid", "jsessionid",
    "phpsessid", "private_key", "privatekey", "client_secret", "clientsecret", "dsn", "connection_string",
)
"""Sensitive names, each matched as a whole word (or a run of whole words: ``api_key``) of a key."""

_DESCRIPTIVE_WORDS = frozenset({
    "type", "types", "kind", "name", "names", "label", "url", "urls", "uri", "endpoint", "path", "file", "env",
    "var", "variable", "field", "header", "param", "parameter", "location", "expires", "expiry", "expiration",
    "exp", "ttl", "lifetime", "age", "timeout", "length", "len", "size", "count", "min", "max", "policy",
    "rule", "rules", "hint", "format", "pattern", "strength", "required", "enabled", "disabled", "present",
    "exists", "changed", "updated", "created", "at", "last", "version", "algorithm", "alg", "scope", "scopes",
    "audience", "issuer", "source", "method", "strategy", "mode", "status", "attempts",
})
"""A word after the last sensitive word that makes the key describe a credential instead of holding one."""

_FLAG_WORDS = frozenset({
    "allow", "allows", "allowed", "with", "without", "has", "have", "is", "no", "require", "requires",
    "required", "use", "uses", "supports", "include", "includes", "need", "needs", "show",
})
"""A word before the first sensitive word that makes the key a flag about a credential."""

_METADATA_WORDS = _DESCRIPTIVE_WORDS | {
    "domain", "origin", "site", "secure", "only", "user", "username", "email", "login", "scheme", "realm"}
"""Inside a credential container (``cookies: [...]``), fields whose last word is one of these stay visible."""

_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
# scheme://[user]:password@host: the password runs to the last "@" before the end of the authority
_URL_PASSWORD = re.compile(rb"""(\b[a-z][a-z0-9+.-]*://[^:/?#@\s"'<>]*:)([^\s/?#"'<>]+)(@)""", re.I)
# a credential after Bearer/Basic: 8+ characters with a digit or a symbol, or 12+ letters (not "bearer passengers")
_BEARER = re.compile(
    rb"(\b(?:Bearer|Basic)\s+)(?=[A-Za-z0-9._~+/=-]{8})"
    rb"(?:[A-Za-z]*[0-9._~+/=-][A-Za-z0-9._~+/=-]*|[A-Za-z]{12,})", re.I)
# key [closing quote] (: or =) value, tried only where a sensitive word occurs (_key_word), so that long
# traces stay fast; the key is then checked by whole words (is_sensitive_key)
_KEY_VALUE = re.compile(
    rb"""(?:(?<=\\[nrt])|(?<![A-Za-z0-9_.\-/\\]))"""
    rb"""(?P<key>[A-Za-z0-9_][A-Za-z0-9_.\-]*)(?P<head>(?:\\?["'])?[ \t]*[:=][ \t]*)"""
    rb"""(?:(?P<eq>\\")(?P<ev>.*?)\\"|(?P<dq>")(?P<dv>(?:[^"\\\n]|\\.)*)"|(?P<sq>')(?P<sv>[^'\n]*)'"""
    rb"""|(?P<bare>(?:(?:Bearer|Basic|Digest)[ \t]+)?(?:\[REDACTED\]|\$\{\w+\}|\{\{[^{}\n]+\}\}|[^\s&,;}\]"'<>]+)))"""
)
_PLACEHOLDER = re.compile(rb"\$\{\w+\}|\{\{[^{}\n]+\}\}")  # ${VAR} of an environment file, {{value}} of a step
_KEY_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# {"name": "Authorization", "value": "..."}: HAR headers, cookies, local storage entries
_NAME_VALUE_TEMPLATE = (
    rb"""(?P<head>"name"\s*:\s*"(?P<name>[^"\\]{0,100}?(?:%s)[^"\\]{0,100})"\s*,\s*"value"\s*:\s*")"""
    rb"""(?P<value>(?:[^"\\]|\\.)*)(?=")""")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_lock = threading.Lock()
_secrets: set[str] = set()
_forms: tuple[bytes, ...] = ()  # every registered secret in every encoded form, longest first
_key_names: set[tuple[str, ...]] = set()
_key_word: re.Pattern[bytes] = re.compile(rb"(?!)")  # a word of every sensitive name, as a substring
_name_value: re.Pattern[bytes] = re.compile(rb"(?!)")


# ---------------------------------------------------------------- sensitive names

def _words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(name))


def add_sensitive_keys(*names: str) -> None:
    """Treat these names as sensitive too (whole words, like the built-in list); e.g. ``"x_tenant_key"``."""
    global _key_word, _name_value
    with _lock:
        _key_names.update(w for w in map(_words, names) if w)
        # one word per name (its longest), none that holds another: the fewest places to try a key at
        singles = {phrase[0] for phrase in _key_names if len(phrase) == 1}
        longest = {max(p, key=len) for p in _key_names if len(p) == 1 or not singles.intersection(p)}
        needles = sorted(w for w in longest if not any(o != w and o in w for o in longest))
        alternatives = b"|".join(re.escape(w.encode()) for w in needles)
        _key_word = re.compile(alternatives)  # searched in the lower-cased text: much faster than re.I
        _name_value = re.compile(_NAME_VALUE_TEMPLATE % alternatives, re.I)
    is_sensitive_key.cache_clear()


def reset_sensitive_keys() -> None:
    """Back to :data:`SENSITIVE_KEY_NAMES` alone (a new environment, a test)."""
    with _lock:
        _key_names.clear()
    add_sensitive_keys(*SENSITIVE_KEY_NAMES)


def sensitive_keys() -> frozenset[tuple[str, ...]]:
    """The sensitive names in effect, each as its tuple of words."""
    with _lock:
        return frozenset(_key_names)


@functools.lru_cache(maxsize=4096)
def is_sensitive_key(name: str) -> bool:
    """Whether a header, field, column or free-text key of this name holds a credential."""
    words = _words(name)
    first, last = len(words), -1
    with _lock:
        names = tuple(_key_names)
    for i in range(len(words)):
        for phrase in names:
            if words[i:i + len(phrase)] == phrase:
                first, last = min(first, i), max(last, i + len(phrase))
    if last < 0:
        return False
    return not (_DESCRIPTIVE_WORDS.intersection(words[last:]) or _FLAG_WORDS.intersection(words[:first]))


def _is_metadata(name: str) -> bool:
    words = _words(name)
    return bool(words) and words[-1] in _METADATA_WORDS


reset_sensitive_keys()


# ---------------------------------------------------------------- secrets by value

def _encoded_forms(value: str) -> set[str]:
    """The forms a secret takes in URLs, JSON, HTML and base64 (standard and URL-safe, padded or not)."""
    forms = {value, quote(value), quote(value, safe=""), quote_plus(value)}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in list(forms)}
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    escaped = html.escape(value)
    forms |= {escaped, escaped.replace("&#x27;", "&#39;"), html.escape(value, quote=False)}
    raw = value.encode("utf-8", "surrogatepass")
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def register(*values: str | None) -> None:
    """Add values that must never appear in output, in any encoded form (ignores empty and short ones)."""
    global _forms
    fresh = [v for v in values if v and len(v) >= MIN_SECRET_LENGTH]
    if not fresh:
        return
    with _lock:
        _secrets.update(fresh)
        forms = {f.encode("utf-8", "surrogatepass") for v in _secrets for f in _encoded_forms(v)}
        _forms = tuple(sorted(forms, key=len, reverse=True))


def registered() -> frozenset[bytes]:
    """The registered values themselves (UTF-8)."""
    with _lock:
        return frozenset(v.encode("utf-8", "surrogatepass") for v in _secrets)


def registered_forms() -> tuple[bytes, ...]:
    """Every form in which a registered value is masked (what a scan of the artifacts should look for)."""
    return _forms


def clear() -> None:
    global _forms
    with _lock:
        _secrets.clear()
        _forms = ()


def dsn_passwords(dsn: str) -> set[str]:
    """The password(s) of a PostgreSQL DSN, URL or keyword form, as libpq reads them.

    ``postgresql://u:p%40ss@h/db`` yields ``p@ss``; ``host=h password='p ss'`` yields ``p ss``. A URL whose
    password holds a raw ``@`` is ambiguous (libpq splits at the first ``@``); both readings are returned,
    since either may be the secret. A DSN libpq cannot parse falls back to the URL reading.
    """
    found: set[str] = set()
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(dsn).get("password")
        if password:
            found.add(str(password))
    except Exception:  # not a libpq DSN (or no libpq): the URL reading below still applies
        pass
    match = _URL_PASSWORD.match(dsn.strip().encode("utf-8", "surrogatepass"))
    if match:
        found.add(unquote(match.group(2).decode("utf-8", "surrogatepass")))
    return found


# ---------------------------------------------------------------- text

def _mask_pair(match: re.Match[bytes]) -> bytes:
    head = match.group("key") + match.group("head")
    if not is_sensitive_key(match.group("key").decode("ascii")):  # keep it, look inside its value (next=/?token=)
        return head + _mask_pairs(match.group(0)[len(head):])
    value = next(v for v in match.group("ev", "dv", "sv", "bare") if v is not None)
    if _PLACEHOLDER.fullmatch(value):  # "write token: ${VAR}" names a secret, it is not one
        return match.group(0)
    for quote_group in ("eq", "dq", "sq"):
        if match.group(quote_group) is not None:
            return head + match.group(quote_group) + _MASK + match.group(quote_group)
    return head + _MASK


def _mask_pairs(data: bytes) -> bytes:
    """Mask the value of every ``key=value`` / ``key: value`` / ``"key": "value"`` whose key is sensitive."""
    out, done = [], 0
    for hit in _key_word.finditer(data.lower()):
        start = hit.start()
        if start < done:
            continue
        while start > done and data[start - 1] in _KEY_CHARS:  # back to the start of the key holding the word
            start -= 1
        if data[start - 1:start] == b"\\" and data[start:start + 1] in (b"n", b"r", b"t"):  # "...\npassword=..."
            start += 1
        match = _KEY_VALUE.match(data, start)
        if match is not None and match.end("key") >= hit.end():
            out += [data[done:start], _mask_pair(match)]
            done = match.end()
    return b"".join(out) + data[done:] if out else data


def _mask_name_value(match: re.Match[bytes]) -> bytes:
    if is_sensitive_key(match.group("name").decode("utf-8", "replace")):
        return match.group("head") + _MASK
    return match.group(0)


def redact_bytes(data: bytes) -> bytes:
    for form in _forms:
        data = data.replace(form, _MASK)
    data = _JWT.sub(_MASK, data)
    data = _URL_PASSWORD.sub(rb"\1" + _MASK + rb"\3", data)
    data = _BEARER.sub(rb"\1" + _MASK, data)
    data = _name_value.sub(_mask_name_value, data)
    return _mask_pairs(data)


def redact(text: Any) -> str:
    """Return ``text`` as a string with every secret masked."""
    if text is None:
        return ""
    raw = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogatepass")
    return redact_bytes(raw).decode("utf-8", "replace")


# ---------------------------------------------------------------- structures

def redact_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(k, MASK if k.lower() in SENSITIVE_HEADERS or is_sensitive_key(k) else redact(v)) for k, v in items]


def redact_value(value: Any) -> Any:
    """One scalar with registered secrets masked, keeping its type when it holds none (``42`` stays ``42``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return redact(value)
    shown = str(value)
    masked = redact(shown)
    return value if masked == shown else masked


def _mask_all(value: Any) -> Any:
    """A credential's value: scalars masked, containers masked field by field (their metadata kept)."""
    if value is None or isinstance(value, bool) or value in ("", b""):
        return value
    if isinstance(value, (Mapping, list, tuple)):
        return redact_json(value, _inside=True)
    return MASK


def redact_json(value: Any, _inside: bool = False) -> Any:
    """Mask credential-bearing fields by name, and secrets by value, in parsed JSON.

    A field whose name is sensitive (:func:`is_sensitive_key`) is masked; if it holds a list or an object,
    everything in it is masked except metadata fields (``name``, ``domain``, ``path``, ``expires`` ...), so
    ``cookies: [{"name": "sid", "value": "..."}]`` keeps the cookie names. A ``{"name": N, "value": V}``
    pair with a sensitive ``N`` (HAR headers, local storage) has ``V`` masked.
    """
    if isinstance(value, Mapping):
        name = value.get("name")
        pair = "value" in value and isinstance(name, str) and is_sensitive_key(name)
        out = {}
        for k, v in value.items():
            key = str(k)
            if is_sensitive_key(key) or (pair and key == "value") or (_inside and not _is_metadata(key)):
                out[k] = _mask_all(v)
            else:
                out[k] = redact_json(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_mask_all(v) if _inside else redact_json(v) for v in value]
    return _mask_all(value) if _inside else redact_value(value)


# ---------------------------------------------------------------- logging

class RedactingFilter(logging.Filter):
    """Redacts records in place, for handlers that write logs somewhere a person reads them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_previous_factory: Callable[..., logging.LogRecord] | None = None
_installs = 0


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = (_previous_factory or logging.LogRecord)(*args, **kwargs)
    if _installs:
        try:
            record.msg = redact(record.getMessage())
            record.args = None
        except Exception:  # a malformed log call must not break the run; keep the record as is
            pass
    return record


def install_log_redaction() -> Callable[..., logging.LogRecord]:
    """Every log record created from now on is redacted (captured logs end up in reports).

    Idempotent and counted: the factory is installed once, on top of the one in place, and each call is
    undone by one :func:`uninstall_log_redaction` (a pytest run inside a pytest run keeps the outer one's).
    Returns the factory that was in place before the first install.
    """
    global _previous_factory, _installs
    with _lock:
        if _installs == 0 and _previous_factory is None and logging.getLogRecordFactory() is not _factory:
            _previous_factory = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_factory)
        _installs += 1
        return _previous_factory or logging.LogRecord


def uninstall_log_redaction() -> None:
    """Undo one :func:`install_log_redaction`; the last one restores the previous record factory.

    If another factory was installed on top of ours meanwhile, ours stays in its chain but stops redacting.
    """
    global _previous_factory, _installs
    with _lock:
        if _installs == 0:
            return
        _installs -= 1
        if _installs == 0 and logging.getLogRecordFactory() is _factory and _previous_factory is not None:
            logging.setLogRecordFactory(_previous_factory)
            _previous_factory = None
