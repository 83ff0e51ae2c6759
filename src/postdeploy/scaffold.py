"""``postdeploy init DIR``: a verification suite of a team's own, for a system postdeploy has never seen.

The new project uses the installed product and nothing of this repository: its own ``environments/``,
``features/`` (bound by its own ``features/test_scenarios.py``, so it runs only its features), ``steps/`` for
phrases the step language lacks, and a ``conftest.py`` that registers the plugin and every family's steps.
Nothing is overwritten: when a file the project would have exists already, nothing is written at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import PostdeployError

#: template file -> path in the project (files a package cannot ship under their real name)
_RENAMED = {"gitignore": ".gitignore"}
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class InitError(PostdeployError):
    """The project cannot be created as asked (files in the way, a bad name); nothing was written."""


@dataclass(frozen=True)
class Answers:
    """What the templates are filled with."""

    name: str  # the system's name, as people say it
    env: str = "staging"  # the first environment's name (its file: environments/<env>.yaml)
    base_url: str = "https://staging.example.com"
    health_path: str = "/health"

    def fields(self) -> dict[str, str]:
        project = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "system"
        return {"name": self.name, "project": f"{project}-verification", "env": self.env,
                "base_url": self.base_url, "health_path": self.health_path}


def _templates() -> list[tuple[str, str]]:
    """(relative path in the project, template text) for every file of the project template."""
    root = resources.files("postdeploy") / "templates" / "project"
    found: list[tuple[str, str]] = []

    def walk(folder, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name == "__pycache__":
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            else:
                found.append((prefix + _RENAMED.get(entry.name, entry.name), entry.read_text(encoding="utf-8")))

    walk(root, "")
    return found


def plan(target: Path, answers: Answers) -> dict[Path, str]:
    """The files ``init`` would write (path -> content), without writing anything."""
    if not _ENV_NAME.fullmatch(answers.env):
        raise InitError(f"the environment name {answers.env!r} becomes a file name (environments/<name>.yaml) and "
                        "the value of --env: use letters, digits, '.', '_' and '-' (e.g. 'staging').")
    if not re.match(r"https?://[^\s/]+", answers.base_url):
        raise InitError(f"--base-url {answers.base_url!r} is not an http(s) address; write e.g. "
                        "https://staging.example.com")
    fields = answers.fields()
    files: dict[Path, str] = {}
    for relative, text in _templates():
        if relative.startswith("environments/"):
            relative = f"environments/{answers.env}.yaml"
        content = text.format(**fields) if relative.endswith((".yaml", ".toml", ".md")) else text
        files[target / relative] = content
    return files


def init(target: Path, answers: Answers) -> list[Path]:
    """Create the project in ``target`` (which may exist, but must not hold any of its files)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} is a file; give a directory for the new project (it may not exist yet).")
    files = plan(target, answers)
    in_the_way = sorted(str(path.relative_to(target)) for path in files if path.exists())
    if in_the_way:
        raise InitError(
            f"{target} already has {', '.join(in_the_way)}; postdeploy init never overwrites, so nothing was "
            "written. Choose an empty or new directory, or move those files away first.")
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return sorted(files)


def next_steps(target: Path, answers: Answers) -> str:
    rows = [
        (f"cd {target}", ""),
        (f"edit environments/{answers.env}.yaml", "the services, their health, accounts and safety"),
        ("postdeploy steps", "the phrases your features can use"),
        (f"pytest --env={answers.env} -m smoke", "exit code 0 only when everything selected was verified"),
        ("postdeploy report", "the HTML report of the last run"),
    ]
    width = max(len(command) for command, _ in rows) + 3
    lines = [f"created a verification suite for {answers.name} in {target}", "next:"]
    lines += [f"  {command:<{width}}{f'({why})' if why else ''}".rstrip() for command, why in rows]
    return "\n".join(lines)
