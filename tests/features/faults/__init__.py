"""The fault matrix as data: for each fault, the scenarios it fails and how (DESIGN principle 6).

A fault is a way to break the sandbox (an environment variable named as the seeds name it, a
``SANDBOX_FAULTS`` switch, a database change). For every scenario the fault must fail, the matrix
names the failing step (as the feature writes it, with ``Given``/``When``/``Then`` in place of
``And``/``But``), the verdict kind and a fragment of the first line of the failure message. Every
other scenario of the family must pass. ``tests/features/test_fault_matrix.py`` runs them all;
``docs/fault-matrix.md`` is generated from these modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Failure:
    step: str                    # e.g. 'Then the response status is 401'
    message: str                 # a fragment of the first line of the failure message
    kind: str = "target_defect"  # target_defect | environment_error | suite_error | inconclusive


@dataclass(frozen=True)
class Fault:
    id: str
    config: dict[str, str]       # the sandbox's configuration: variables, SANDBOX_FAULTS
    failures: dict[str, Failure]  # scenario test name -> how it fails
    why: str = ""                # one line for the generated docs: what the fault does
    family: str = "smoke"
    args: tuple[str, ...] = field(default=("-m", "smoke"))


def assert_fails_exactly(failures: Mapping[str, Failure], run: Any) -> None:
    """Exactly these scenarios fail, each at its step, with its kind and message; every other one passes.

    ``run`` is a finished run of the features (``harness.Run``: its ``not_passed`` scenarios, its output)."""
    __tracebackhide__ = True
    assert run.outcomes, f"no scenario ran:\n{run.output[-3000:]}"
    seen = {name: Failure(o.step, o.message, o.verdict) for name, o in run.not_passed.items()}
    problems = []
    for name in sorted(set(failures) | set(seen)):
        want, got = failures.get(name), seen.get(name)
        if want is None:
            problems.append(f"{name}: expected to pass, got {got}")
        elif got is None:
            problems.append(f"{name}: expected to fail at {want.step!r}, but it passed")
        elif (got.step, got.kind) != (want.step, want.kind) or want.message not in got.message:
            problems.append(f"{name}: expected {want}, got {got}")
    assert not problems, "\n".join(problems) + "\n" + run.output[-3000:]


def rounds(faults: list[Fault]) -> list[list[Fault]]:
    """Faults grouped so that one sandbox and one run prove a whole group: no two of a group fail the same scenario,
    set a variable to different values (``SANDBOX_FAULTS`` switches aside, they combine) or run a different
    selection (``args``)."""
    groups: list[list[Fault]] = []
    for fault in faults:
        for group in groups:
            scenarios = {name for f in group for name in f.failures}
            values = {key: value for f in group for key, value in f.config.items() if key != "SANDBOX_FAULTS"}
            clash = any(key in values and values[key] != value for key, value in fault.config.items()
                        if key != "SANDBOX_FAULTS")
            if not scenarios & set(fault.failures) and not clash and group[0].args == fault.args:
                group.append(fault)
                break
        else:
            groups.append([fault])
    return groups


def configuration(faults: list[Fault]) -> dict[str, str]:
    """The sandbox configuration of a group of faults: their variables, their switches joined with commas."""
    merged: dict[str, str] = {}
    for fault in faults:
        for key, value in fault.config.items():
            merged[key] = f"{merged[key]},{value}" if key == "SANDBOX_FAULTS" and key in merged else value
    return merged
