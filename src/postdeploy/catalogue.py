"""The step catalogue, generated from the step modules themselves so it never goes stale.

``postdeploy steps`` prints it; ``docs/steps.md`` is its Markdown form (a self-test fails when
the file differs from what the code says). The step modules are those of the families
(``postdeploy.families``) of the project in the current directory, its own ``families/`` included.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import families


@dataclass(frozen=True)
class StepDoc:
    module: str
    keyword: str
    phrase: str
    parameters: tuple[str, ...]
    summary: str
    example: str
    table: bool
    docstring: bool


def step_modules(root: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """The step modules of the project's families, in their order, then the project's own ``steps/*.py`` (the
    catalogue's order, the order ``conftest.py`` registers them)."""
    own = families.project_step_modules(root if root is not None else Path.cwd())
    return tuple(dict.fromkeys([*families.discover(root).step_modules(), *own]))


def collect(root: str | os.PathLike[str] | None = None) -> list[StepDoc]:
    """Every step of the families' step modules, for the project at ``root`` (default: the current directory)."""
    modules = step_modules(root)
    project = str(Path(root if root is not None else Path.cwd()).resolve())
    if project not in sys.path:  # a project's own step modules live at its root, as under pytest
        sys.path.insert(0, project)
    for name in modules:
        importlib.import_module(name)
    found = []
    for context in _step_definitions(modules):
        func = context.step_func
        doc = inspect.getdoc(func) or ""
        summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
        example = _example(doc)
        params = tuple(_parameters(context.parser.name))
        signature = inspect.signature(func).parameters
        found.append(StepDoc(
            module=func.__module__,
            keyword=(context.type or "step").capitalize(),
            phrase=re.sub(r"\{(\w+):\w+\}", r"{\1}", context.parser.name),
            parameters=params,
            summary=summary,
            example=example,
            table="datatable" in signature,
            docstring="docstring" in signature,
        ))
    order = {m: i for i, m in enumerate(modules)}
    keywords = {"Given": 0, "When": 1, "Then": 2}
    return sorted(found, key=lambda s: (order[s.module], keywords.get(s.keyword, 3), s.phrase))


def _example(doc: str) -> str:
    """The docstring's ``Example:`` line and the indented lines after it (its table or doc string)."""
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Example:")), None)
    if start is None:
        return ""
    block = [lines[start].split(":", 1)[1].strip()]
    for line in lines[start + 1:]:
        if not line.startswith(" ") or not line.strip():
            break
        block.append(line.rstrip())
    return "\n".join(block)


def _step_definitions(modules: tuple[str, ...]) -> list:
    """What pytest-bdd recorded of each step defined in ``modules`` (imported): its ``step_func``, ``type``
    (given/when/then, None for ``@step``) and ``parser.name`` (the phrase).

    pytest-bdd internals, on purpose: its public API has no way to list step definitions. ``given``/``when``/
    ``then``/``step`` return the function unchanged and keep the phrase and type only in
    ``pytest_bdd.steps.step_function_context_registry`` (and in the ``pytestbdd_stepdef_*`` fixtures they add to the
    module, internal too); its public hooks see a step only while a scenario runs it.
    """
    from pytest_bdd.steps import step_function_context_registry

    return [context for context in list(step_function_context_registry.values())
            if context.step_func.__module__ in modules]


def _parameters(phrase: str) -> list[str]:
    return [f"{name} ({kind})" if kind else name
            for name, kind in re.findall(r"\{(\w+)(?::(\w+))?\}", phrase)]


_KINDS = {"d": "integer", "w": "word"}


def _describe(param: str) -> str:
    name, _, kind = param.partition(" (")
    kind = kind.rstrip(")")
    return f"`{name}`" + (f" ({_KINDS.get(kind, kind)})" if kind else " (text)")


# the parts of an environment the suite itself reads, whatever the steps: how to reach and sign in to the
# target, what it may send, the run's placeholders
_READ_BY_EVERY_RUN = {
    "name": "the file's name", "description": "the file only", "sandbox": "the plugin (local sandbox)",
    "safety": "every client (postdeploy.safety)", "timeout_s": "every request", "services": "every client",
    "accounts": "every sign-in", "auth": "every sign-in", "values": "every {{placeholder}}",
    "secrets": "every {{placeholder}}, the redactor", "objectives": "the steps that name an objective",
}


def readers(root: str | os.PathLike[str] | None = None) -> dict[str, list[str]]:
    """Each field of the environment a step's docstring names (````expect.api_docs````, ````routes:````), and every
    top-level field and section (the families' included) -> the steps that name it; a section of a family with
    steps is read by that family's steps."""
    registry = families.discover(root)
    top = [name for name in registry.environment_model.model_fields if name != "name"]
    found: dict[str, list[str]] = {name: [] for name in top}
    for step in collect(root):
        for match in re.finditer(r"``([a-z_]+)((?:\.[a-z_]+)*)(?:\.[A-Z][A-Z_.]*)?(?::[^`]*)?``", step.summary):
            name, rest = match.group(1), match.group(2)
            if name in found:
                entry = found.setdefault(name + rest, [])
                if f"{step.keyword} {step.phrase}" not in entry:
                    entry.append(f"{step.keyword} {step.phrase}")
    for section, (_, owner) in registry.sections().items():
        if registry[owner].step_modules and section in found and not found[section]:
            found[section].append(f"the @{owner} steps")
    return dict(sorted(found.items(), key=lambda item: (top.index(item[0].split(".")[0]), item[0])))


def readers_markdown(root: str | os.PathLike[str] | None = None) -> str:
    """The table of docs/environments.md's "Which steps read which field"."""
    lines = ["| field | read by |", "|---|---|"]
    readers_of = readers(root)
    for name, steps in readers_of.items():
        by = _READ_BY_EVERY_RUN.get(name)
        cell = "; ".join(s if s.startswith("the @") else f"`{s}`" for s in steps)
        if by:
            cell = by + (f"; {cell}" if cell else "")
        elif not cell and any(other.startswith(name + ".") for other in readers_of):
            cell = "its fields, below"
        lines.append(f"| `{name}` | {(cell or '**no installed step**: refused when set').replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"


def as_text(root: str | os.PathLike[str] | None = None) -> str:
    lines = []
    module = None
    for step in collect(root):
        if step.module != module:
            module = step.module
            lines += ["", f"== {module} =="]
        extras = [p for p in step.parameters] + (["+ data table"] if step.table else []) + (["+ docstring"] if step.docstring else [])
        lines.append(f"{step.keyword} {step.phrase}" + (f"    [{', '.join(extras)}]" if extras else ""))
        lines.append(f"    {step.summary}")
        if step.example:
            first, *rest = step.example.splitlines()
            lines += [f"    e.g. {first}", *(f"         {line}" for line in rest)]
    return "\n".join(lines).lstrip() + "\n"


def as_markdown(root: str | os.PathLike[str] | None = None) -> str:
    out = [
        "# Step catalogue",
        "",
        "Generated by `postdeploy steps --markdown` from the step modules; do not edit by hand",
        "(a self-test fails when this file and the code disagree). Every string argument may hold",
        "`{{name}}` placeholders, filled from the environment file (`values:`, or any dotted path such",
        "as `{{accounts.admin.username}}`).",
    ]
    module = None
    for step in collect(root):
        if step.module != module:
            module = step.module
            title = importlib.import_module(module).__doc__ or ""
            out += ["", f"## `{module}`", "", title.strip().split("\n\n")[0].replace("\n", " ")]
        params = ", ".join(_describe(p) for p in step.parameters) or "none"
        extra = " Takes a data table." if step.table else ""
        extra += " Takes a docstring." if step.docstring else ""
        out += ["", f"### {step.keyword} {step.phrase}", "", f"{step.summary}{extra}", "",
                f"Parameters: {params}."]
        if step.example:
            out += ["", "```gherkin", step.example, "```"]
    return "\n".join(out) + "\n"


def families_table(registry: families.Registry | None = None) -> str:
    """The Markdown table of the built-in families (docs/families.md holds it; a self-test compares them)."""
    registry = registry if registry is not None else families.Registry(families.builtin())

    def names(values: Iterable[str]) -> str:
        return ", ".join(f"`{value}`" for value in values) or "none"

    rows = ["| tag | marker help | step modules | sections | requires |", "|---|---|---|---|---|"]
    for family in registry:
        sections = ", ".join(f"`{name}` ({getattr(kind, '__name__', kind)})" for name, kind in family.sections.items())
        rows.append(f"| `@{family.name}` | {family.description} | {names(family.step_modules)} | "
                    f"{sections or 'none'} | {names(family.requires)} |")
    return "\n".join(rows) + "\n"
