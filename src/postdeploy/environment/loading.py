"""Loading ``environments/NAME.yaml``: the YAML read with a repeated key refused, ``${VAR}`` replaced
from the process environment (an unset one stops the load in an eager section, and is recorded for a
lazy part), and the result validated into :class:`Environment`, with a one-paragraph error otherwise."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import EnvironmentFileError, MissingSecret
from .common import _did_you_mean
from .explain import _dotted, _explain, _location
from .model import Environment, _missing_message
from .secrets import secret_values

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Sections whose ${VAR}s are needed only when a step uses them (accounts and values: per entry).
LAZY_SECTIONS = ("database", "mailbox", "rate_limits", "release")
LAZY_ENTRIES = ("accounts", "values", "secrets")


def available(env_dir: Path) -> list[str]:
    return sorted(p.stem for p in env_dir.glob("*.yaml")) if env_dir.is_dir() else []


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
