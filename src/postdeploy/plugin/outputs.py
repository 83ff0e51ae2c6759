"""Where a run's results go by default: ``reports/allure-results/`` and ``reports/junit.xml``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .. import runmarker
from .state import is_worker


def default_outputs(config: pytest.Config, *, stopping: bool = False) -> None:
    """Results under reports/ by default, emptied by allure-pytest-bdd's own ``--clean-alluredir``: turned on here,
    before allure's plugin configures (this hook is tryfirst) and reads it. xdist workers get the same default
    (xdist does not pass options set in code), but only the controller clears old results and writes the JUnit file:
    a worker starts after the controller wrote the run marker, so it never cleans, even when told to."""
    reports = Path(config.getoption("postdeploy_reports") or config.rootpath / "reports")
    if config.option.allure_report_dir is None:
        config.option.allure_report_dir = str(reports / "allure-results")
        config.option.clean_alluredir = True
    if is_worker(config):
        config.option.clean_alluredir = False
        return
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(reports / "junit.xml")
    if config.option.collectonly:  # allure-pytest-bdd does not clean for --collect-only either
        return
    if stopping and config.option.clean_alluredir:  # the run stops before allure's plugin configures: clean as it would
        from allure_commons.logger import AllureFileLogger

        AllureFileLogger(config.option.allure_report_dir, clean=True)
    runmarker.forget_previous(config.option.allure_report_dir, getattr(config.option, "xmlpath", None))
