"""A family added with files alone: a project with ``families/toy.py``, its step module and a feature,
and the same computed conftest.py as this repository. Nothing of postdeploy is edited."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from postdeploy import families

ROOT = Path(__file__).resolve().parents[2]

TOY_FAMILY = '''\
from postdeploy.families import Family, Section


class ToySection(Section):
    greeting: str


FAMILY = Family(
    name="toy",
    description="a family added with files alone",
    step_modules=("toy_steps",),
    sections={"toy_section": ToySection},
    requires=("toy_section",),
)
'''

TOY_STEPS = '''\
"""Toy steps: the greeting of the environment's toy section."""

from pytest_bdd import parsers, then

from postdeploy import checks


@then(parsers.parse('the toy greeting is "{text}"'))
def _(env, text: str) -> None:
    """The toy section of the environment greets with ``text``.

    Example: Then the toy greeting is "hello"
    """
    seen = env.section("toy_section").greeting
    if seen != text:
        checks.fail(f"expected the toy greeting {text!r}, got {seen!r}")
'''

FEATURE = """\
Feature: Toy
  @toy
  Scenario: The toy greets
    Then the toy greeting is "hello"

  Scenario: Not a toy scenario
    Then the toy greeting is "hello"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((ROOT / "conftest.py").read_text())  # the computed one, as it is in this repository
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\n")
    pytester.mkdir("families").joinpath("toy.py").write_text(TOY_FAMILY)
    pytester.path.joinpath("toy_steps.py").write_text(TOY_STEPS)
    pytester.mkdir("features").joinpath("toy.feature").write_text(FEATURE)
    pytester.path.joinpath("features", "test_scenarios.py").write_text("from pytest_bdd import scenarios\nscenarios('.')\n")
    envs = pytester.mkdir("environments")
    envs.joinpath("with_toy.yaml").write_text("services: {}\ntoy_section: {greeting: hello}\n")
    envs.joinpath("without_toy.yaml").write_text("services: {}\n")
    return pytester


def test_the_toy_tag_is_a_registered_marker_and_selects_its_scenario(project):
    result = project.runpytest_subprocess("features", "--env=with_toy", "-m", "toy")  # --strict-markers is on
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["postdeploy verdict: VERIFIED: 1 passed (exit code 0)"])
    markers = project.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.toy: a family added with files alone"])


def test_without_the_family_file_the_toy_tag_is_a_plain_tag_and_its_steps_are_unknown(project):
    (project.path / "families" / "toy.py").unlink()
    result = project.runpytest_subprocess("features", "--env=without_toy", "-m", "toy")
    # @toy is still a tag of the project's features (no configuration needed), but no module defines its steps
    assert result.ret == 9, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["*suite error*"])
    section = project.runpytest_subprocess("features", "--env=with_toy")  # nor is its section
    assert section.ret == pytest.ExitCode.USAGE_ERROR
    section.stderr.fnmatch_lines(["*with_toy.yaml does not match the schema: 'toy_section' is not a known field*"])


def test_its_step_checks_its_typed_section(project):
    (project.path / "environments" / "other.yaml").write_text("services: {}\ntoy_section: {greeting: bonjour}\n")
    result = project.runpytest_subprocess("features", "--env=other", "-m", "toy")
    assert result.ret == 1
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*the toy greeting*bonjour*"])
    (project.path / "environments" / "typo.yaml").write_text("services: {}\ntoy_section: {greting: hello}\n")
    typo = project.runpytest_subprocess("features", "--env=typo")
    assert typo.ret == pytest.ExitCode.USAGE_ERROR
    typo.stderr.fnmatch_lines(["*'toy_section.greting' is not a known field (did you mean 'greeting'?)*"])


def test_without_the_required_section_the_scenario_is_inconclusive(project):
    result = project.runpytest_subprocess("features", "--env=without_toy", "-m", "toy", "-rs")
    assert result.ret == 10
    result.assert_outcomes(skipped=1, deselected=1)
    result.stdout.fnmatch_lines([
        "*inconclusive: environment 'without_toy' has no 'toy_section:' section, which @toy needs*",
        "postdeploy verdict: NOT VERIFIED: 1 inconclusive, 0 passed (exit code 10)",
    ])


def test_the_toy_family_runs_on_xdist_workers_too(project):
    result = project.runpytest_subprocess("features", "--env=with_toy", "-n", "2")
    result.assert_outcomes(passed=2)


def test_the_step_catalogue_lists_the_toy_step(project):
    result = project.run(sys.executable, "-m", "postdeploy.cli", "steps")  # `postdeploy steps`, in the project
    assert result.ret == 0, result.stderr.str()
    first = families.Registry(families.builtin())["smoke"].step_modules[0]
    result.stdout.fnmatch_lines([f"== {first} ==", "*", "== toy_steps ==", 'Then the toy greeting is "{text}"    [text]',
                                 "    The toy section of the environment greets with ``text``.",
                                 '    e.g. Then the toy greeting is "hello"'], consecutive=False)


def test_a_family_declared_twice_stops_the_run_in_one_paragraph(project):
    project.path.joinpath("families", "copy.py").write_text(TOY_FAMILY)
    result = project.runpytest_subprocess("features", "--env=with_toy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: postdeploy: the family 'toy' is declared twice: "
                                 "by */families/copy.py and by */families/toy.py. A family is declared once*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
