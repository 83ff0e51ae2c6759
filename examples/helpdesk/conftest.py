# The postdeploy plugin, the step modules of every family (postdeploy.families: the built-in ones, installed
# packages' entry points, and families/*.py next to this file), then this project's own step modules
# (steps/*.py), registered once for the project.
from pathlib import Path

from postdeploy.families import step_modules

pytest_plugins = ["postdeploy.plugin", *step_modules(Path(__file__).parent)]
