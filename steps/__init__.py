"""pytest-bdd step definitions, one module per capability. Thin: they call the postdeploy library.

Registered once, from the root conftest.py (``pytest_plugins``). ``postdeploy steps`` prints the
catalogue of every phrase from these modules.
"""
