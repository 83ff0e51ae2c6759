"""The suite treats the sandbox as a black box: only the launcher glue may import it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {ROOT / "src" / "postdeploy" / "local.py", ROOT / "src" / "postdeploy" / "cli.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_library_and_steps_reach_the_sandbox_only_over_the_network():
    offenders = []
    for path in [*(ROOT / "src" / "postdeploy").rglob("*.py"), *(ROOT / "steps").rglob("*.py")]:
        uses = {m for m in imported_modules(path) if m == "sandbox" or m.startswith("sandbox.")}
        if uses and path not in ALLOWED:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(uses)}")
    assert offenders == []


def test_the_launcher_glue_uses_only_the_launcher():
    for path in ALLOWED:
        uses = {m for m in imported_modules(path) if m.startswith("sandbox")}
        assert uses <= {"sandbox", "sandbox.launcher", "sandbox.cli"}, (path, uses)
