# The postdeploy plugin and the step modules of every family: the ones postdeploy installs, installed
# packages' families (entry points), and this project's own (families/*.py, steps/*.py), registered once.
from pathlib import Path

from postdeploy.families import step_modules

pytest_plugins = ["postdeploy.plugin", *step_modules(Path(__file__).parent)]
