"""Run metadata written next to the results: ``environment.properties``, ``executor.json`` and ``categories.json``
(what Allure 3 reads from each: :mod:`postdeploy.report`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .categories import categories


def _escape_property(text: str, *, key: bool) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch in "=:#!" and (key or i == 0):
            out.append("\\" + ch)
        elif ch == " " and (key or i == 0):
            out.append("\\ ")
        else:
            out.append(ch)
    return "".join(out)


def write_run_metadata(
    results_dir: Path,
    *,
    environment: str,
    properties: Mapping[str, str],
    executor: Mapping | None = None,
) -> None:
    """Write ``environment.properties``, ``executor.json`` and ``categories.json`` into ``results_dir``.

    ``properties`` are shown in the report's metadata block in the given order, after the environment name
    (target base URLs, suite version, Python/pytest versions, browser...). The executor is postdeploy; ``executor``
    entries are added to it (the plugin gives the run id as ``buildName``). The CI system is Allure 3's to detect
    when the report is built (module docstring).
    """
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)

    lines = [f"environment={_escape_property(environment, key=False)}"]
    for name, value in properties.items():
        if name == "environment":
            continue
        lines.append(f"{_escape_property(str(name), key=True)}={_escape_property(str(value), key=False)}")
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")

    info = {"name": "postdeploy", "type": "postdeploy"}
    if executor:
        info.update({k: v for k, v in executor.items() if v is not None})
    (results_dir / "executor.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    (results_dir / "categories.json").write_text(json.dumps(categories(), indent=2) + "\n", encoding="utf-8")


def read_properties(path: Path) -> dict[str, str]:
    """What ``environment.properties`` says (empty when there is none)."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        out[key.replace("\\", "")] = value
    return out
