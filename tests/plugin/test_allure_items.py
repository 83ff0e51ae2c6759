"""Items that are not scenarios (an unreachable service, a feature file that does not parse) get an Allure result
built with allure's model, written by allure's own reporter."""

from __future__ import annotations

import json

import pytest

GOOD = """\
Feature: Health
  Scenario: The API is healthy
    When I send a GET request to "/health" on the "api" service
    Then the response status is 200
"""

BAD = """\
Feature: A typo in the Gherkin
  Scenario: Misspelt keyword
    When I send a GET request to "/health" on the "api" service
    Thne the response status is 200
"""


def test_an_unreachable_service_and_a_broken_feature_file_are_broken_allure_results(bdd_project):
    bdd_project.feature("good.feature", GOOD)
    bad_feature = bdd_project.feature("bad.feature", BAD)
    dead = bdd_project.environment_file("dead", f"services:\n  api: {{base_url: 'http://127.0.0.1:{bdd_project.closed_port()}'}}\n")
    result = bdd_project.runpytest(dead)
    assert result.ret == 9, result.stdout.str()  # a suite error outranks the environment error
    results = bdd_project.allure_results()
    service, feature = results["Environment: service 'api' answers"], results["Feature file bad.feature parses"]
    assert service["status"] == feature["status"] == "broken"
    assert service["statusDetails"]["message"].startswith("postdeploy.errors.ServiceUnreachable: service 'api' does "
                                                          "not answer at http://127.0.0.1:")
    assert feature["statusDetails"]["message"].startswith(
        f"postdeploy.errors.SuiteError: feature file {bad_feature}, line 4: ")
    labels = {label["name"]: label["value"] for label in feature["labels"]}
    assert labels["parentSuite"] == "feature files" and labels["tag"] == "suite_error"
    assert labels["framework"] == "postdeploy"
    assert feature["parameters"] == [{"name": "file", "value": str(bad_feature)}]
    assert {label["name"]: label["value"] for label in service["labels"]}["tag"] == "environment_error"
    assert service["historyId"] != feature["historyId"] and service["stop"] >= service["start"] > 0
    assert service["fullName"] == "features/test_scenarios.py::environment[api]"


@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_run_starts_from_empty_default_results_and_xdist_workers_do_not_clean(bdd_project, args):
    """allure-pytest-bdd's --clean-alluredir, turned on by the plugin for the default directory, on the controller only
    (a worker cleaning after the controller wrote the run marker would remove it)."""
    from postdeploy import runmarker

    bdd_project.feature("good.feature", GOOD)
    dead = bdd_project.environment_file("dead", f"services:\n  api: {{base_url: 'http://127.0.0.1:{bdd_project.closed_port()}'}}\n")
    results = bdd_project.results
    results.mkdir(parents=True)
    results.joinpath("0a-result.json").write_text(json.dumps({"name": "old", "status": "passed"}))
    result = bdd_project.runpytest(dead, *args)
    assert result.ret == 8, result.stdout.str()
    assert not results.joinpath("0a-result.json").exists()
    assert set(bdd_project.allure_results()) == {"Environment: service 'api' answers", "The API is healthy"}
    marker = runmarker.read(results) or {}
    assert marker.get("completed") is True and marker["environment"] == "dead" and marker["run_id"], marker
