"""Binding feature files to pytest without letting one broken file stop the others.

``pytest_bdd.scenarios(".")`` parses every feature file at import time, so one Gherkin syntax error
stops the collection of all of them behind the parser's frames. :func:`feature_files` parses each
file on its own, returns the ones that parse (for ``scenarios(*feature_files("."))``), and keeps a
one-paragraph suite error for each one that does not; the plugin reports those as items of their
own (after ``-m``/``-k`` selection, so they are never deselected) and the exit code says so.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from pytest_bdd.exceptions import GherkinParseError
from pytest_bdd.feature import get_features

_BROKEN: dict[str, str] = {}  # feature file -> what is wrong with it


def feature_files(*paths: str) -> list[str]:
    """The feature files under ``paths`` (relative to the calling module) that parse, as absolute paths."""
    caller = Path(inspect.stack()[1].filename).resolve().parent
    found: list[Path] = []
    for path in paths:
        root = (caller / path).resolve()
        found += sorted(root.rglob("*.feature")) if root.is_dir() else [root]
    good = []
    for file in found:
        try:
            get_features([str(file)])
        except GherkinParseError as exc:
            _BROKEN[str(file)] = describe(exc)
        except OSError as exc:
            _BROKEN[str(file)] = f"feature file {file} cannot be read: {exc}."
        else:
            good.append(str(file))
    return good


def describe(exc: GherkinParseError) -> str:
    line = (exc.line_content or "").strip()
    return (f"feature file {exc.filename}, line {exc.line}: {exc.message.rstrip('.')}"
            f"{f' (the line reads: {line!r})' if line else ''}. Fix the Gherkin (a keyword such as Feature:, "
            "Scenario:, Given/When/Then, or the indentation of a table); the other feature files still run.")


def broken() -> dict[str, str]:
    return dict(_BROKEN)
