"""Finding the Allure 3 command line (``allure@3`` from npm)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from postdeploy.errors import PostdeployError

_REPO_ROOT = Path(__file__).resolve().parents[3]


class ReportError(PostdeployError):
    """The HTML report could not be built (Allure CLI missing, failing, or no results)."""


HOW_TO_INSTALL = (
    "Install the Allure 3 command line (it needs Node.js 20+, no Java): run `npm install` in the repository "
    "(package.json pins `allure@3`), or `npm install -g allure@3`, or point POSTDEPLOY_ALLURE at an `allure` "
    "3.x executable. The raw results stay usable meanwhile: `npx allure generate <results>`."
)


def find_allure() -> list[str]:
    """The command that runs the Allure 3 CLI; raises :class:`ReportError` when there is none."""
    explicit = os.environ.get("POSTDEPLOY_ALLURE")
    if explicit:
        path = shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
        if not path:
            raise ReportError(
                f"POSTDEPLOY_ALLURE={explicit!r} does not name an executable file. {HOW_TO_INSTALL}"
            )
        return [path]
    for base in (_REPO_ROOT, Path.cwd()):
        candidate = base / "node_modules" / ".bin" / "allure"
        if candidate.is_file():
            return [str(candidate)]
    on_path = shutil.which("allure")
    if on_path:
        try:
            version = subprocess.run(
                [on_path, "--version"], check=False, capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            version = ""
        if version and not version.startswith("3"):
            raise ReportError(
                f"The `allure` on PATH ({on_path}) is version {version}, but postdeploy needs Allure 3 "
                f"(single-file report, history file, categories from config). {HOW_TO_INSTALL}"
            )
        return [on_path]
    raise ReportError(f"The Allure command line was not found. {HOW_TO_INSTALL}")
