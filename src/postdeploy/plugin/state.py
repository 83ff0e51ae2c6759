"""What the plugin's modules share: the config's stash keys, the variables handed to xdist workers, and
which process this is. The controller sets the variables; workers inherit them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from .. import families
from ..environment import Environment
from ..verdicts import Kind

UNREACHABLE_VAR = "POSTDEPLOY_UNREACHABLE"
PREFLIGHT_VAR = "POSTDEPLOY_PREFLIGHT"
RELEASE_VAR = "POSTDEPLOY_RELEASE_VERSION"
RUN_ID_VAR = "POSTDEPLOY_RUN_ID"

ENV_KEY = pytest.StashKey[Environment]()
FAMILIES_KEY = pytest.StashKey[families.Registry]()
STOP_KEY = pytest.StashKey[Any]()  # stops the sandbox this run started
EXPORTED_KEY = pytest.StashKey[list[str]]()  # the sandbox's variables this run set
TALLY_KEY = pytest.StashKey[dict[str, tuple[Kind, str]]]()  # nodeid -> (verdict kind, first line)
REQUESTS_KEY = pytest.StashKey[dict[str, int]]()  # service -> requests sent
EXIT_KEY = pytest.StashKey[int]()
STEP_KEY = pytest.StashKey[str]()  # on an item: its failing step
OUTCOME_KEY = pytest.StashKey[dict[str, Any]]()  # on an item: its reports by phase


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def env_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("postdeploy_env_dir") or os.environ.get("POSTDEPLOY_ENV_DIR")
    return Path(chosen).resolve() if chosen else config.rootpath / "environments"


def unreachable() -> dict[str, str]:
    """What the preflight found: {service: why it did not answer}."""
    return json.loads(os.environ.get(UNREACHABLE_VAR) or "{}")
