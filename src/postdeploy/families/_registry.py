"""Finding the families and what derives from them: markers, step modules, environment sections.

Three places, in this order: the modules of this package, the entry points of the group
``postdeploy.families`` (a family shipped as a package), and ``families/*.py`` at the project's root
(a family a team adds with files in its repository). Every name is declared once: a second
declaration is an error that names both sources.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import sys
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

from ._family import Family, FamilyError

if TYPE_CHECKING:
    from ..environment import Environment

ENTRY_POINT_GROUP = "postdeploy.families"
#: the folder at the project's root whose ``*.py`` files declare the project's own families
PROJECT_DIR = "families"


@dataclass(frozen=True)
class Registered:
    family: Family
    source: str  # where it was declared: a module, an entry point or a file


class Registry:
    """The families, in discovery order, each with where it was declared."""

    def __init__(self, declared: Iterable[tuple[str, Family]]) -> None:
        entries: dict[str, Registered] = {}
        for source, family in declared:
            seen = entries.get(family.name)
            if seen is not None:
                raise FamilyError(
                    f"the family '{family.name}' is declared twice: by {seen.source} and by {source}. "
                    "A family is declared once: rename one of them or remove the copy.")
            entries[family.name] = Registered(family, source)
        self._entries = tuple(entries.values())
        self._sections = self._check_sections()

    def __iter__(self) -> Iterator[Family]:
        return (entry.family for entry in self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, name: str) -> Family:
        return self.entry(name).family

    def entry(self, name: str) -> Registered:
        for entry in self._entries:
            if entry.family.name == name:
                return entry
        raise KeyError(name)

    @property
    def entries(self) -> tuple[Registered, ...]:
        return self._entries

    def markers(self) -> dict[str, str]:
        """marker name -> its help, for ``pytest --markers`` and ``--strict-markers``."""
        return {family.name: family.description for family in self}

    def step_modules(self) -> tuple[str, ...]:
        """Every family's step modules, once each, in discovery order."""
        return tuple(dict.fromkeys(module for family in self for module in family.step_modules))

    def sections(self) -> dict[str, tuple[Any, str]]:
        """section name -> (its type, the family that declares it)."""
        return dict(self._sections)

    @functools.cached_property
    def environment_model(self) -> type[Environment]:
        """:class:`~postdeploy.environment.Environment` with the sections the families declare (each
        optional: a file without it is valid, and the family's scenarios say it is missing)."""
        from pydantic import create_model

        from ..environment import Environment

        added = {name: (Optional[kind], None)  # noqa: UP045 (the union is built from a value, not written)
                 for name, (kind, _) in self._sections.items() if name not in Environment.model_fields}
        if not added:
            return Environment
        return create_model("Environment", __base__=Environment, __module__=Environment.__module__, **added)

    def probing(self, env: Environment) -> list[Family]:
        """The families with a preflight probe whose required sections ``env`` has."""
        return [family for family in self
                if family.probe is not None and not any(_absent(env, section) for section in family.requires)]

    def unread(self, env: Environment, *, project_steps: bool = False) -> list[str]:
        """The sections ``env`` sets that no installed step reads, one sentence each: a section whose family has
        no step modules yet (a project with steps of its own, ``project_steps``, may read any section)."""
        if project_steps:
            return []
        problems = []
        for name, (_, owner) in self._sections.items():
            family = self[owner]
            if not family.step_modules and not _absent(env, name):
                problems.append(f"environment '{env.name}' sets '{name}:', which no installed step reads (the "
                                f"@{owner} family has no steps yet): remove the section, or install the package "
                                f"whose steps read it")
        return problems

    def unmet(self, env: Environment, tags: Iterable[str]) -> list[str]:
        """What a scenario with these tags needs and ``env`` lacks, one sentence per missing section."""
        problems = []
        for name in tags:
            entry = next((e for e in self._entries if e.family.name == name), None)
            for section in entry.family.requires if entry else ():
                if _absent(env, section):
                    problems.append(f"environment '{env.name}' has no '{section}:' section, which @{name} needs")
        return problems

    def _check_sections(self) -> dict[str, tuple[Any, str]]:
        from ..environment import Environment

        declared: dict[str, tuple[Any, str]] = {}
        for entry in self._entries:
            family = entry.family
            for name, kind in family.sections.items():
                if name in declared:
                    owner = self.entry(declared[name][1])
                    raise FamilyError(
                        f"the environment section '{name}' is declared twice: by the family '{owner.family.name}' "
                        f"({owner.source}) and by the family '{family.name}' ({entry.source}). A section has one "
                        "owner; another family lists it in its requires.")
                base = Environment.model_fields.get(name)
                if base is not None and kind != base.annotation and kind not in typing.get_args(base.annotation):
                    raise FamilyError(
                        f"the family '{family.name}' ({entry.source}) declares the section '{name}' as "
                        f"{getattr(kind, '__name__', kind)}, but postdeploy.environment already defines '{name}' "
                        f"as {base.annotation}; choose another name.")
                declared[name] = (kind, family.name)
        known = set(Environment.model_fields) | set(declared)
        for entry in self._entries:
            unknown = [name for name in entry.family.requires if name not in known]
            if unknown:
                raise FamilyError(
                    f"the family '{entry.family.name}' ({entry.source}) requires the section(s) {unknown}, which "
                    "neither postdeploy.environment nor any family declares; declare it in the family's sections.")
        return declared


def _absent(env: Environment, section: str) -> bool:
    """Not written in the file (a default does not count), or written empty."""
    if section not in type(env).model_fields or section not in env.model_fields_set:
        return True
    return getattr(env, section) in (None, [], {})


# ---- discovery ---------------------------------------------------------------------------------

def discover(root: str | os.PathLike[str] | None = None) -> Registry:
    """The families for the project at ``root`` (a directory, or a file in it such as its conftest.py;
    default: the current directory). Computed once per root and process."""
    path = Path(root if root is not None else Path.cwd()).resolve()
    return _discover(path.parent if path.is_file() else path)


@functools.cache
def _discover(root: Path) -> Registry:
    return Registry([*builtin(), *from_entry_points(), *from_directory(root / PROJECT_DIR)])


def step_modules(root: str | os.PathLike[str] | None = None) -> list[str]:
    """The step modules to register as pytest plugins (the root conftest.py: ``pytest_plugins``).

    A wrong declaration gives none here: the plugin, always registered with them, discovers the same
    families at ``pytest_configure`` and stops the run with the error as one paragraph (usage error, exit
    code 4), where raising from the conftest would print a traceback of the import.
    """
    try:
        modules = list(discover(root).step_modules())
    except FamilyError:
        return []
    return list(dict.fromkeys([*modules, *project_step_modules(root)]))


#: the folder at the project's root whose ``*.py`` files are the project's own step modules
PROJECT_STEPS_DIR = "steps"


def project_step_modules(root: str | os.PathLike[str] | None = None) -> list[str]:
    """The project's own step modules, ``steps/*.py`` at its root (not ``_*.py``), as ``steps.<name>``: registered
    after the families' modules (pytest puts the root, where ``conftest.py`` is, on ``sys.path``)."""
    if root is None:
        return []
    folder = Path(root) / PROJECT_STEPS_DIR
    return [f"{PROJECT_STEPS_DIR}.{path.stem}" for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


def builtin() -> list[tuple[str, Family]]:
    """The families declared by the modules of ``postdeploy.families`` (those not starting with '_')."""
    package = importlib.import_module(__package__)
    found = []
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            found += declared_by(importlib.import_module(info.name), info.name)
    return found


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return sorted(found, key=lambda ep: (ep.dist.name if ep.dist else "", ep.name))


def from_entry_points() -> list[tuple[str, Family]]:
    """Families of installed packages: an entry point names a Family, a list of them, or a module
    that defines FAMILY or FAMILIES."""
    found: list[tuple[str, Family]] = []
    for ep in _entry_points():
        source = f"the entry point '{ep.name} = {ep.value}'" + (f" of {ep.dist.name}" if ep.dist else "")
        try:
            loaded = ep.load()
        except Exception as exc:
            raise FamilyError(f"{source} (group {ENTRY_POINT_GROUP}) cannot be loaded: "
                              f"{type(exc).__name__}: {exc}") from exc
        if isinstance(loaded, ModuleType):
            found += declared_by(loaded, source)
        elif isinstance(loaded, (list, tuple)):
            found += [(source, _family(value, source)) for value in loaded]
        else:
            found.append((source, _family(loaded, source)))
    return found


def from_directory(directory: Path) -> list[tuple[str, Family]]:
    """The project's own families: ``*.py`` files in ``directory`` (those not starting with '_')."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.py")):
        if not path.name.startswith("_"):
            found += declared_by(_load_file(path), str(path))
    return found


def _load_file(path: Path) -> ModuleType:
    tag = hashlib.sha1(str(path.parent).encode()).hexdigest()[:8]  # one name per folder and file
    name = f"_postdeploy_families_{tag}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses look the module up while the file runs
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise FamilyError(f"the family file {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    return module


def declared_by(module: ModuleType, source: str) -> list[tuple[str, Family]]:
    """The families a module declares: ``FAMILY``, ``FAMILIES`` (a list), or both."""
    if not hasattr(module, "FAMILY") and not hasattr(module, "FAMILIES"):
        raise FamilyError(f"{source} declares no family: define FAMILY = Family(...) or FAMILIES = [...] in it "
                          "(a helper module's name starts with '_')")
    values = [module.FAMILY] if hasattr(module, "FAMILY") else []
    many = getattr(module, "FAMILIES", ())
    if isinstance(many, Family) or not isinstance(many, (list, tuple)):
        raise FamilyError(f"{source}: FAMILIES is a list of Family, got {type(many).__name__}")
    return [(source, _family(value, source)) for value in [*values, *many]]


def _family(value: Any, source: str) -> Family:
    if not isinstance(value, Family):
        raise FamilyError(f"{source} declares {value!r}, which is not a postdeploy.families.Family")
    return value
