"""Four kinds of verdict, never confused (DESIGN principle 5), and the exit code they add up to.

Every outcome of a selected item that is not a pass is exactly one of:

* ``target_defect``: the deployment is wrong (a failed check, an invalid certificate, a 5xx, a
  service that passed the preflight and then stopped answering, a broken encoding, a slow answer);
* ``environment_error``: the suite could not reach or authenticate to something it needs before
  anything answered, or a secret is missing;
* ``suite_error``: the feature or environment file is wrong (an undefined step, a Then with nothing
  to check, an unknown service, a Gherkin syntax error, an unsafe step outside ``@mutating``);
* ``inconclusive``: the target rate-limited a check that is not about rate limits beyond the retry
  budget, a dependency of the check is not configured, or a service it needs stopped answering earlier.

Skips by policy (a ``@mutating`` scenario in a read-only environment, a check the environment says not
to constrain) are ``not_applicable``: reported, never counted against the run.
"""

from __future__ import annotations

import enum
from collections import Counter

from .errors import (
    CheckFailed,
    EnvironmentFileError,
    EnvironmentProblem,
    Inconclusive,
    MissingSecret,
    SuiteError,
)


class Kind(str, enum.Enum):
    PASSED = "passed"
    TARGET_DEFECT = "target_defect"
    ENVIRONMENT_ERROR = "environment_error"
    SUITE_ERROR = "suite_error"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def rank(self) -> int:
        """How much a phase's verdict weighs against another's of the same item (setup, call, teardown): the item's
        verdict is its heaviest (a scenario that passed and then failed to clean up is not a pass)."""
        return _RANK[self]


_RANK = {kind: rank for rank, kind in enumerate(
    (Kind.PASSED, Kind.NOT_APPLICABLE, Kind.INCONCLUSIVE, Kind.ENVIRONMENT_ERROR, Kind.SUITE_ERROR,
     Kind.TARGET_DEFECT))}


# Exit codes (docs/verdicts.md). pytest's own stay as they are: 2 interrupted, 3 internal error,
# 4 usage error (a bad environment file, an unknown --env, a missing variable), 5 nothing collected.
EXIT_OK = 0
EXIT_TARGET_DEFECT = 1
EXIT_ENVIRONMENT_ERROR = 8
EXIT_SUITE_ERROR = 9
EXIT_INCONCLUSIVE = 10

# Who must act first decides the code when several kinds occur.
_PRECEDENCE = (
    (Kind.TARGET_DEFECT, EXIT_TARGET_DEFECT),
    (Kind.SUITE_ERROR, EXIT_SUITE_ERROR),
    (Kind.ENVIRONMENT_ERROR, EXIT_ENVIRONMENT_ERROR),
    (Kind.INCONCLUSIVE, EXIT_INCONCLUSIVE),
)

# Skip reasons carry their kind as a prefix: ``pytest.skip("inconclusive: ...")``.
PREFIXES = {Kind.ENVIRONMENT_ERROR: "environment error: ", Kind.INCONCLUSIVE: "inconclusive: ",
            Kind.NOT_APPLICABLE: "not applicable: "}

# Exceptions of the libraries the steps drive, by qualified name (so that nothing is imported for them).
_TARGET_DEFECT_NAMES = ("playwright._impl._errors.TimeoutError",)
_SUITE_ERROR_NAMES = (
    "pytest_bdd.exceptions.StepDefinitionNotFoundError", "pytest_bdd.exceptions.GherkinParseError",
    "pytest_bdd.exceptions.ScenarioValidationError", "_pytest.fixtures.FixtureLookupError",
)


def _qualnames(exc: BaseException) -> set[str]:
    return {f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__}


def classify(exc: BaseException) -> Kind:
    """The verdict kind of an exception raised by a check, a step or a fixture."""
    if isinstance(exc, Inconclusive):
        return Kind.INCONCLUSIVE
    if isinstance(exc, MissingSecret):
        return Kind.ENVIRONMENT_ERROR
    if isinstance(exc, (SuiteError, EnvironmentFileError)):
        return Kind.SUITE_ERROR
    if isinstance(exc, EnvironmentProblem):
        return Kind.ENVIRONMENT_ERROR
    names = _qualnames(exc)
    if isinstance(exc, (CheckFailed, AssertionError)) or names & set(_TARGET_DEFECT_NAMES):
        return Kind.TARGET_DEFECT
    return Kind.SUITE_ERROR  # anything else is a bug in a step or in the suite: read the trace


def classify_skip(reason: str) -> Kind:
    for kind, prefix in PREFIXES.items():
        if reason.startswith((prefix, "Skipped: " + prefix)):
            return kind
    return Kind.NOT_APPLICABLE


def skip_reason(kind: Kind, message: str) -> str:
    prefix = PREFIXES[kind]
    return message if message.startswith(prefix) else prefix + message


def exit_code(counts: Counter[Kind]) -> int:
    """0 only when everything selected was verified: at least one pass and no other verdict but
    *not applicable*. A run where everything was skipped by policy verified nothing: inconclusive."""
    for kind, code in _PRECEDENCE:
        if counts[kind]:
            return code
    return EXIT_OK if counts[Kind.PASSED] else EXIT_INCONCLUSIVE


def summary_line(counts: Counter[Kind]) -> str:
    """``verdict: NOT VERIFIED: 1 target defect, 2 environment errors, 18 passed``."""
    problems = [(k, counts[k]) for k, _ in _PRECEDENCE if counts[k]]
    parts = [f"{n} {k.label}{'s' if n != 1 and k is not Kind.INCONCLUSIVE else ''}" for k, n in problems]
    parts.append(f"{counts[Kind.PASSED]} passed")
    if counts[Kind.NOT_APPLICABLE]:
        parts.append(f"{counts[Kind.NOT_APPLICABLE]} not applicable")
    if not problems:
        head = "VERIFIED" if counts[Kind.PASSED] else "NOTHING VERIFIED"
    elif counts[Kind.TARGET_DEFECT]:
        head = "DEFECTS FOUND"
    else:
        head = "NOT VERIFIED"
    return f"postdeploy verdict: {head}: {', '.join(parts)} (exit code {exit_code(counts)})"
