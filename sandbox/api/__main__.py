"""python -m sandbox.api: how the launcher starts the api."""

from . import main

main()
