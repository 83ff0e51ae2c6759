"""The throwaway project the plugin's tests build with pytester: a conftest that registers the plugin and the steps
of the @smoke family (HTTP and browser, wherever the family declares them), strict markers, ``features/`` bound the way the repository binds it (``postdeploy.binding.feature_files``:
a broken feature file is reported, the others still run) and ``environments/``."""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from postdeploy import families

PLUGINS = ["postdeploy.plugin", *families.Registry(families.builtin())["smoke"].step_modules]
SCENARIOS_MODULE = "from pytest_bdd import scenarios\nfrom postdeploy.binding import feature_files\nscenarios(*feature_files(\".\"))\n"
INI = "[pytest]\naddopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest\n"


class BddProject:
    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        self.write_conftest()
        pytester.makeini(INI)
        self.features = pytester.mkdir("features")
        self.features.joinpath("test_scenarios.py").write_text(SCENARIOS_MODULE)
        self.environments = pytester.mkdir("environments")
        self.reports = pytester.path / "reports"
        self.results = self.reports / "allure-results"

    def write_conftest(self, extra: str = "") -> None:
        """The conftest that registers the plugin and the steps, then ``extra`` (more code)."""
        self.pytester.makeconftest(f"pytest_plugins = {PLUGINS!r}\n{extra}")

    def feature(self, name: str, text: str) -> Path:
        path = self.features / name
        path.write_text(textwrap.dedent(text))
        return path

    def environment_file(self, name: str, text: str) -> str:
        """``environments/<name>.yaml``; returns the name, for ``--env``."""
        self.environments.joinpath(f"{name}.yaml").write_text(text)
        return name

    def runpytest(self, env: str, *args: str, **kwargs: Any) -> pytest.RunResult:
        """pytest in a subprocess on ``features``, with ``--env-dir``: never a $POSTDEPLOY_ENV_DIR of the outer run."""
        return self.pytester.runpytest_subprocess("features", f"--env={env}", f"--env-dir={self.environments}",
                                                  *args, **kwargs)

    def allure_results(self) -> dict[str, dict[str, Any]]:
        """The run's Allure results by name."""
        return {r["name"]: r for r in (json.loads(p.read_text()) for p in self.results.glob("*-result.json"))}

    @staticmethod
    def closed_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]


@pytest.fixture
def bdd_project(pytester: pytest.Pytester) -> BddProject:
    return BddProject(pytester)
