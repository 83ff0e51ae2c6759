"""Binds save_preferences.feature; run only by tests/features/test_safety.py, which names this file (it is not
test_*.py, so a run of tests/ does not collect it)."""

from pytest_bdd import scenarios

scenarios("save_preferences.feature")
