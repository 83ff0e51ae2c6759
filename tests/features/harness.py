"""Runs the features the way a user does (``pytest --env=local``), against a sandbox of the test's choosing."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 240


@dataclass(frozen=True)
class Outcome:
    """How one scenario ended, as the run's JUnit file records it."""

    outcome: str       # passed | failed | error | skipped
    verdict: str = ""  # the verdict kind the plugin recorded (postdeploy.verdicts.Kind)
    step: str = ""     # the failing step, as written (Given/When/Then)
    message: str = ""  # the first line of the failure or skip message


@dataclass
class Run:
    returncode: int
    output: str
    reports: Path
    outcomes: dict[str, str] = field(default_factory=dict)  # scenario test name -> passed|failed|error|skipped
    details: dict[str, Outcome] = field(default_factory=dict)

    def named(self, outcome: str) -> set[str]:
        return {name for name, seen in self.outcomes.items() if seen == outcome}

    @property
    def failed(self) -> set[str]:
        return self.named("failed") | self.named("error")

    @property
    def passed(self) -> set[str]:
        return self.named("passed")

    @property
    def not_passed(self) -> dict[str, Outcome]:
        """Every scenario whose verdict is not a pass (skips by policy, 'not_applicable', excluded)."""
        return {name: seen for name, seen in self.details.items() if seen.verdict not in ("passed", "not_applicable")}


def run_features(sandbox_dir: Path | None, reports: Path, *args: str, env_extra: dict[str, str] | None = None,
                 env_dir: Path | None = None) -> Run:
    """``pytest --env=local ARGS`` in a subprocess, reusing the sandbox in ``sandbox_dir``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "POSTDEPLOY_"))}
    if sandbox_dir is not None:
        environ["POSTDEPLOY_SANDBOX_DIR"] = str(sandbox_dir)
    environ.update(env_extra or {})
    command = [sys.executable, "-m", "pytest", f"--rootdir={ROOT}", f"--reports-dir={reports}", "-p", "no:xdist", "-q",
               "-o", "console_output_style=classic", *args]
    if env_dir is not None:
        command += [f"--env-dir={env_dir}"]
    proc = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          check=False)
    return read_run(proc, reports)


def read_run(proc: subprocess.CompletedProcess[str], reports: Path) -> Run:
    """A finished run: its exit code, output, and each scenario's outcome as its JUnit file records it."""
    run = Run(proc.returncode, proc.stdout + proc.stderr, reports)
    junit = reports / "junit.xml"
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            outcome, message = "passed", ""
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = {"failure": "failed"}.get(child.tag, child.tag)
                    message = (child.get("message") or "").strip().splitlines()[0] if child.get("message") else ""
            properties = {p.get("name"): p.get("value") for p in case.iter("property")}
            run.outcomes[case.get("name")] = outcome
            run.details[case.get("name")] = Outcome(outcome, properties.get("verdict", ""),
                                                    properties.get("failing_step", ""), message)
    return run


def environments_with(directory: Path, edit: Callable[[dict], None]) -> Path:
    """A copy of the repository's environments/ in ``directory`` whose local.yaml ``edit`` changed (a fault that
    needs the environment to say something else: a shorter wait, a limit the deployment does not keep)."""
    import shutil

    import yaml

    target = directory / "environments"
    shutil.copytree(ROOT / "environments", target)
    local = yaml.safe_load((target / "local.yaml").read_text())
    edit(local)
    (target / "local.yaml").write_text(yaml.safe_dump(local, sort_keys=False))
    return target
