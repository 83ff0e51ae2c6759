"""Binds every feature file under features/ to pytest, in one place (so nothing is collected twice).

A file with a Gherkin syntax error is reported as a suite error of its own; the others still run.
"""

from pytest_bdd import scenarios

from postdeploy.binding import feature_files

scenarios(*feature_files("."))
