"""The fault matrix as data: for each fault, the scenarios it fails and how (DESIGN principle 6).

A fault is a way to break the sandbox (an environment variable named as the seeds name it, a
``SANDBOX_FAULTS`` switch, a database change). For every scenario the fault must fail, the matrix
names the failing step (as the feature writes it, with ``Given``/``When``/``Then`` in place of
``And``/``But``), the verdict kind and a fragment of the first line of the failure message. Every
other scenario of the family must pass. ``tests/features/test_fault_matrix.py`` runs them all;
``docs/fault-matrix.md`` is generated from these modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
