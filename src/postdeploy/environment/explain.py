"""A validation error of an environment file as one paragraph: each problem at its place as the file
writes it (the schema followed field by field, a union's tags dropped), with "did you mean ...?" for an
unknown field and the variable a placeholder stands for."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ValidationError

from .common import _did_you_mean
from .model import Environment


def _dotted(loc: tuple[Any, ...]) -> str:
    """A validation error's location written as interpolate() names fields: ``a.b[0].c``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


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
