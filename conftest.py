# The postdeploy plugin, the step modules of every family (postdeploy.families: the built-in ones, installed
# packages' entry points, and families/*.py next to this file), then this project's own step modules
# (steps/*.py), registered once for the project.
from pathlib import Path

from postdeploy.families import step_modules

ROOT = Path(__file__).parent
OWN_STEPS = [f"steps.{path.stem}" for path in sorted((ROOT / "steps").glob("*.py")) if not path.name.startswith("_")]

pytest_plugins = list(dict.fromkeys(["postdeploy.plugin", *step_modules(ROOT), *OWN_STEPS]))
