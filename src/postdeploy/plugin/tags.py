"""Tags with a value: ``@severity:<level>`` and ``@checklist:<item id>`` (every family's tag is a marker, from the
registry in ``postdeploy.families``; these are the plugin's own)."""

from __future__ import annotations

from typing import Any

import pytest

# One marker each, whatever the value (pytest_bdd_apply_tag).
VALUE_TAGS = {
    "severity": "@severity:<blocker|critical|normal|minor|trivial>: how bad a failure of the scenario is (Allure severity)",
    "checklist": "@checklist:<item id>: the deployment checklist item the scenario verifies",
}
SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")


def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Tags with a value (``@severity:critical``, ``@checklist:v2-rollback``) need no marker per value: they
    become the ``severity``/``checklist`` marker with the value as its argument, and the Allure label."""
    key, sep, value = tag.partition(":")
    if not sep or key not in ("severity", "checklist"):
        return None  # pytest-bdd's default: the tag is a marker of that name (--strict-markers checks it)
    if not value or (key == "severity" and value not in SEVERITIES):  # the scenario is a suite error; others run
        return pytest.mark.postdeploy_bad_tag(
            f"the tag @{tag} needs a value: @severity:<{'|'.join(SEVERITIES)}> or @checklist:<item id>")(function)
    function = getattr(pytest.mark, key)(value)(function)
    return pytest.mark.allure_label(value, label_type=key)(function)
