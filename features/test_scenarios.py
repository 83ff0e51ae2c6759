"""Binds every feature file under features/ to pytest, in one place (so nothing is collected twice)."""

from pytest_bdd import scenarios

scenarios(".")
