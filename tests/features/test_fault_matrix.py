"""Every check is proven at the step that fails (DESIGN principle 6).

Each fault of ``faults/`` starts a sandbox broken one way (an environment variable named as the seeds
name it, a ``SANDBOX_FAULTS`` switch, a dependency taken down; faults that fail disjoint scenarios and reach
nothing else share a sandbox, see ``groups``), runs ``pytest --env=local -m smoke``
against it exactly as a user would, and asserts, for every scenario that does not pass: the failing
step, the verdict kind and a fragment of the first line of its message; every other scenario passes.
"""

from __future__ import annotations

import json
import os
import re
import signal

import pytest
from faults import (
    Fault,
    assert_fails_exactly,
    data_integrity,
    email_delivery,
    rate_limit,
    security,
    smoke,
)
from harness import ROOT, Run, run_features

from postdeploy import local

try:
    from faults import release
except ImportError:  # the bad-release faults are optional while they are being written
    release = None

FAULTS: list[Fault] = [*smoke.FAULTS, *(release.FAULTS if release else [])]
# every family's faults, for the tests that every Then step is proven and for docs/fault-matrix.md; each other
# family's matrix runs in a module of its own (test_<family>_matrix.py): the database changes of @data_integrity
# on one sandbox, each undone; @security and @email_delivery on sandboxes started per round
# the TLS rounds of @security serve HTTPS with certificate variants of their own (test_security_matrix.py)
TLS_FAULTS = [Fault(f"tls: {', '.join(variants)}", {"certificates": "+".join(variants)}, failures,
                    why=f"HTTPS served with the certificate variant(s) {', '.join(variants)}.", family="security")
              for variants, failures in security.TLS_ROUNDS]
ALL_FAULTS: list[Fault] = [*FAULTS, *data_integrity.FAULTS, *security.FAULTS, *TLS_FAULTS, *email_delivery.FAULTS,
                           *rate_limit.FAULTS]


def assert_matches(fault: Fault, run: Run) -> None:
    """Exactly the fault's scenarios fail, each at its step, with its kind and message; the rest pass."""
    __tracebackhide__ = True
    assert_fails_exactly(fault.failures, run)
    assert run.passed == set(run.outcomes) - set(fault.failures) - {
        n for n, o in run.details.items() if o.verdict == "not_applicable"}


SANDBOX_FAULTS = [f for f in FAULTS if f.id != "database_outage"]

#: faults whose effect reaches beyond the scenarios they fail (every answer slower, every sign-in refused, every
#: error answer changed, every health or CORS answer): each gets a sandbox of its own
ALONE = {"slow_api", "MAINTENANCE_MODE=true", "jwt_secret_mismatch", "auth_bypass", "health_degraded_200",
         "DEBUG=true", "CORS_ORIGINS=*", "SMTP_PORT=1", "cors_reflect_any", "cors_wildcard_credentials",
         "cors_credentials_without_origin"}
GROUP_SIZE = 4


def _combinable(group: list[Fault], fault: Fault) -> bool:
    variables = {k for f in group for k in f.config if k != "SANDBOX_FAULTS"}
    return (group[0].id not in ALONE and len(group) < GROUP_SIZE and all(f.args == fault.args for f in group)
            and not any(set(f.failures) & set(fault.failures) for f in group)
            and not variables & (set(fault.config) - {"SANDBOX_FAULTS"}))


def groups(faults: list[Fault]) -> list[list[Fault]]:
    """Faults that fail disjoint scenarios and touch nothing else share one sandbox and one run (a sandbox start
    and a smoke run each, instead of one per fault); the matrix still asserts every scenario's failing step."""
    packed: list[list[Fault]] = []
    for fault in faults:
        home = None if fault.id in ALONE else next((g for g in packed if _combinable(g, fault)), None)
        if home is None:
            packed.append([fault])
        else:
            home.append(fault)
    return packed


def _config(group: list[Fault]) -> dict[str, str]:
    switches = [f.config["SANDBOX_FAULTS"] for f in group if f.config.get("SANDBOX_FAULTS")]
    merged = {k: v for f in group for k, v in f.config.items() if k != "SANDBOX_FAULTS"}
    return {**merged, **({"SANDBOX_FAULTS": ",".join(switches)} if switches else {})}


GROUPS = groups(SANDBOX_FAULTS)


@pytest.mark.parametrize("group", GROUPS, ids=["+".join(f.id for f in g) for g in GROUPS])
def test_fault_fails_exactly_its_steps(sandbox_factory, tmp_path, group: list[Fault]):
    state = sandbox_factory(**_config(group))
    run = run_features(state, tmp_path / "reports", "--env=local", *group[0].args)
    failures = {name: failure for fault in group for name, failure in fault.failures.items()}
    assert_fails_exactly(failures, run)
    assert run.passed == set(run.outcomes) - set(failures) - {
        n for n, o in run.details.items() if o.verdict == "not_applicable"}
    assert run.returncode == 1


def test_database_outage_fails_the_checks_that_need_the_database(sandbox_factory, tmp_path):
    """The database dies under a running deployment: health says so, and everything that needs it fails.

    The sandbox's own crash detection would replace a sandbox with a dead process, so this run does not
    reuse it through ``sandbox: autostart``: it gets ``local.yaml`` without that section, and the sandbox's
    addresses as the variables ``local.yaml`` is written with.
    """
    fault = next(f for f in FAULTS if f.id == "database_outage")
    state_dir = sandbox_factory()
    state = json.loads((state_dir / "state.json").read_text())
    env_dir = tmp_path / "environments"
    env_dir.mkdir()
    text = (ROOT / "environments" / "local.yaml").read_text()
    (env_dir / "local.yaml").write_text(re.sub(r"(?m)^sandbox:\n(  .*\n)+", "", text))
    os.killpg(state["database"]["pid"], signal.SIGKILL)
    run = run_features(None, tmp_path / "reports", "--env=local", *fault.args, env_dir=env_dir,
                       env_extra=local.variables(state))
    assert_matches(fault, run)


# ---- the matrix itself -----------------------------------------------------------------------

def _then_steps_in_features() -> dict[str, str]:
    """Every Then step written in features/ -> the phrase of the step definition it runs."""
    from pytest_bdd.feature import get_features

    definitions = _then_definitions()
    found = {}
    for feature in get_features([str(p) for p in (ROOT / "features").rglob("*.feature")]):
        for scenario in feature.scenarios.values():
            for step in scenario.steps:
                if step.type == "then":
                    found[f"Then {step.name}"] = _definition(definitions, step.name)
    return found


def _then_definitions():
    from pytest_bdd.steps import step_function_context_registry

    from postdeploy import catalogue

    catalogue.collect()  # imports the step modules
    return [c for c in step_function_context_registry.values() if c.type == "then"]


def _definition(definitions, text: str) -> str:
    matching = [c.parser.name for c in definitions if c.parser.is_matching(text)]
    assert matching, f"no step definition matches 'Then {text}'"
    return matching[0]


def test_every_then_step_of_the_features_is_the_failing_step_of_a_fault():
    used = _then_steps_in_features()
    definitions = _then_definitions()
    proven = {_definition(definitions, f.step.removeprefix("Then ")) for fault in ALL_FAULTS
              for f in fault.failures.values() if f.step.startswith("Then ")}
    unproven = sorted({phrase for phrase in used.values() if phrase not in proven})
    assert unproven == [], "these Then steps are never the failing step of a fault: " + "; ".join(unproven)


def test_every_expected_step_is_written_in_a_feature():
    # a Scenario Outline's step is written with <placeholders>: any value of its Examples stands in for them
    written = [re.compile(re.sub(r"<\w+>", ".+", re.escape(f"{s.type.capitalize()} {s.name}")) + "$")
               for s in _all_steps()]
    wrong = sorted({(fault.id, f.step) for fault in ALL_FAULTS for f in fault.failures.values()
                    if not any(pattern.match(f.step) for pattern in written)})
    assert wrong == []


def _all_steps():
    from pytest_bdd.feature import get_features

    for feature in get_features([str(p) for p in (ROOT / "features").rglob("*.feature")]):
        for scenario in feature.scenarios.values():
            yield from scenario.steps


def test_docs_fault_matrix_md_is_generated_from_the_matrix():
    from faults import render

    doc = ROOT / "docs" / "fault-matrix.md"
    assert doc.read_text() == render.markdown(ALL_FAULTS), (
        "docs/fault-matrix.md is stale: regenerate it with `python tests/features/faults/render.py`")

