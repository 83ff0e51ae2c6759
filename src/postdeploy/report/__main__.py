"""``python -m postdeploy.report``: the same as ``postdeploy report``."""

import sys

from .cli import main

raise SystemExit(main(sys.argv[1:]))
