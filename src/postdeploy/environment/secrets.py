"""Secrets are a type: :class:`Secret` (and :class:`Dsn`, whose password is the secret), found after
validation by walking the model (:func:`secret_values`) so that the redactor masks every one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

from .common import _overlaps


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
        from ..redact import dsn_passwords

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
