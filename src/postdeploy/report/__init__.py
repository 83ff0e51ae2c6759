"""Allure report: run metadata written next to the results, and the HTML report built by Allure 3.

One module per job: ``categories`` (the category rules), ``metadata`` (``environment.properties``,
``executor.json``, ``categories.json``), ``allure_cli`` (finding the Allure 3 CLI), ``build`` (the HTML report),
``cli`` (``postdeploy report``). This module re-exports their public names.

What goes where (verified against the Allure 3 CLI from npm, ``allure@3``):

* ``environment.properties`` and ``executor.json`` in the results directory are read by Allure 3's
  results reader exactly as Allure 2 did: the first fills the *Metadata* block of the overview, the second
  the executor entry.
* The CI system is not detected here: Allure 3 detects it itself when it builds the report (``@allurereport/ci``:
  GitHub Actions, GitLab CI, Jenkins, Azure DevOps, Bitbucket Pipelines, CircleCI, Drone, AWS CodeBuild), adds
  the CI run's name to the report's title and links the CI job. ``executor.json`` says only what Allure 3 cannot
  know: which postdeploy run wrote the results.
* Categories are **not** read from ``categories.json`` by Allure 3's default (``awesome``) report; they must
  come from the ``categories`` key of the Allure config. :func:`write_run_metadata` still writes an
  Allure 2 style ``categories.json`` into the results (so Allure 2 and the ``classic`` plugin show them too),
  and :func:`build_report` turns that file into the config it hands to the CLI.
* History lives in one JSON-lines file (``historyPath`` in the config), one line per build.

How results are put in categories: :mod:`postdeploy.report.categories`.
"""

from __future__ import annotations

from .allure_cli import ReportError, find_allure
from .build import (
    CLI_TIMEOUT_S,
    HISTORY_FILE,
    HISTORY_LIMIT,
    INCOMPLETE_LABEL,
    build_report,
)
from .categories import (
    CATEGORY_ENVIRONMENT,
    CATEGORY_FLAKY,
    CATEGORY_INCONCLUSIVE,
    CATEGORY_OTHER_BROKEN,
    CATEGORY_TARGET,
    categories,
)
from .cli import DEFAULT_OUTPUT, DEFAULT_RESULTS, main
from .metadata import write_run_metadata

__all__ = [
    "CATEGORY_ENVIRONMENT",
    "CATEGORY_FLAKY",
    "CATEGORY_INCONCLUSIVE",
    "CATEGORY_OTHER_BROKEN",
    "CATEGORY_TARGET",
    "CLI_TIMEOUT_S",
    "DEFAULT_OUTPUT",
    "DEFAULT_RESULTS",
    "HISTORY_FILE",
    "HISTORY_LIMIT",
    "INCOMPLETE_LABEL",
    "ReportError",
    "build_report",
    "categories",
    "find_allure",
    "main",
    "write_run_metadata",
]
