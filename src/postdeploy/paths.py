"""A small JSON path: ``checks.database``, ``items[0].id``, ``$.data.user.email``.

Enough for checks written in Gherkin, with errors that say where the path stopped matching.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")


class PathNotFound(LookupError):
    def __init__(self, path: str, reached: str, reason: str) -> None:
        super().__init__(f"JSON path '{path}' not found: {reason} at '{reached or '$'}'")
        self.path, self.reached, self.reason = path, reached, reason


def parse(path: str) -> list[str | int]:
    path = path.strip()
    if path in ("", "$"):
        return []
    if path.startswith("$"):
        path = path[1:]
    parts: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(path):
        if match.start() != position:
            raise ValueError(f"malformed JSON path '{path}' near position {position}")
        key, index = match.groups()
        parts.append(int(index) if index is not None else key)
        position = match.end()
    if position != len(path):
        raise ValueError(f"malformed JSON path '{path}' near position {position}")
    return parts


def resolve(document: Any, path: str) -> Any:
    current = document
    reached = "$"
    for part in parse(path):
        if isinstance(part, int):
            if not isinstance(current, list):
                raise PathNotFound(path, reached, f"expected a list, found {type(current).__name__}")
            if not -len(current) <= part < len(current):
                raise PathNotFound(path, reached, f"index {part} out of range (length {len(current)})")
            current = current[part]
            reached += f"[{part}]"
        else:
            if not isinstance(current, dict):
                raise PathNotFound(path, reached, f"expected an object, found {type(current).__name__}")
            if part not in current:
                keys = ", ".join(sorted(map(str, current))[:10])
                raise PathNotFound(path, reached, f"no key '{part}' (keys: {keys})")
            current = current[part]
            reached += f".{part}"
    return current


def exists(document: Any, path: str) -> bool:
    try:
        resolve(document, path)
    except PathNotFound:
        return False
    return True
