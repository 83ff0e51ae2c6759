"""A real browser for the frontend checks, launched only when a browser scenario runs.

Playwright is imported inside these functions, never at module import, so an API-only run
does not pay for it. Its own browser download does not work everywhere (no internet on CI
machines): an installed Chromium is used when Playwright's is missing, and
``POSTDEPLOY_BROWSER`` chooses the binary explicitly.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EnvironmentProblem
from .redact import redact_bytes

LAUNCH_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class BrowserUnavailable(EnvironmentProblem):
    """No browser could be found or launched."""


def find_executable() -> str | None:
    """The browser binary: $POSTDEPLOY_BROWSER, else Playwright's own if installed, else one on PATH."""
    chosen = os.environ.get("POSTDEPLOY_BROWSER")
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            raise BrowserUnavailable(f"POSTDEPLOY_BROWSER={chosen} is not an executable file.")
        return chosen
    cache = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    if sorted(cache.glob("chromium-*/chrome-linux*/chrome")):
        return None  # Playwright finds its own download
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserUnavailable(
        "no Chromium found: install one (apt-get install chromium, or `playwright install chromium` "
        "where downloads work) or point POSTDEPLOY_BROWSER at a Chromium/Chrome binary."
    )


def launch(playwright: Any, headless: bool = True) -> Any:
    executable = find_executable()
    try:
        return playwright.chromium.launch(executable_path=executable, headless=headless, args=list(LAUNCH_ARGS))
    except Exception as exc:  # Playwright raises its own Error type; say what failed and how to fix it
        raise BrowserUnavailable(
            f"could not launch the browser {executable or '(Playwright bundled chromium)'}: {str(exc).splitlines()[0]}. "
            "Set POSTDEPLOY_BROWSER to a working Chromium binary."
        ) from None


@dataclass
class PageWatch:
    """What the page did that a user would notice: console errors and failed requests."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def attach_to(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("requestfailed", lambda req: self.failed_requests.append(
            f"{req.method} {req.url}: {req.failure or 'failed'}"))
        page.on("response", self._on_response)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            where = f" ({location.get('url')}:{location.get('lineNumber')})" if location.get("url") else ""
            self.console_errors.append(f"{message.text}{where}")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.request.method} {response.url}: HTTP {response.status}")


_JWT_IN_TEXT = re.compile(rb"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def redact_trace(source: Path, target: Path) -> Path:
    """Copy a Playwright trace archive with every secret masked in every member."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if not info.filename.endswith((".png", ".jpeg", ".jpg", ".webp", ".woff", ".woff2")):
                data = redact_bytes(data)
            zout.writestr(info, data)
    return target


def temp_trace_path() -> Path:
    handle, name = tempfile.mkstemp(prefix="postdeploy-trace-", suffix=".zip")
    os.close(handle)
    return Path(name)
