"""The exception tree, one branch per verdict kind (DESIGN principle 5, ``postdeploy.verdicts``).

* *target defect*: a check ran and saw the deployment misbehave. :class:`CheckFailed` is an
  ``AssertionError`` and shows as *failed*; :class:`TargetStoppedAnswering` (a service that passed
  the preflight and then stopped answering) and :class:`InvalidCertificate` are target defects too;
* *environment error*: the suite could not reach or authenticate to what it needs before anything
  answered, or a secret is missing (:class:`EnvironmentProblem`; reported once per cause);
* *suite error*: the feature or the environment file is wrong (:class:`SuiteError`,
  :class:`EnvironmentFileError` other than a missing secret, an undefined step, an unsafe step in a
  scenario that is not tagged ``@mutating``);
* *inconclusive*: the check could not reach a verdict for a reason that is neither the target's fault
  nor the suite's: the target rate-limited a check that is not about rate limits beyond the retry
  budget, a dependency of the check is not configured, or a service it needs stopped answering earlier
  in the run (:class:`Inconclusive`).
"""

from __future__ import annotations

from collections.abc import Iterator


class PostdeployError(Exception):
    """Base of every error postdeploy raises on purpose."""


class CheckFailed(AssertionError, PostdeployError):
    """A check saw the target misbehave. The first line says expected, seen and where."""


class TargetStoppedAnswering(CheckFailed):
    """A service that answered the preflight (or earlier requests) stopped answering: a target defect."""


class InvalidCertificate(CheckFailed):
    """A service's TLS certificate does not verify: a defect of the deployment, not of the environment."""


class BrokenEncoding(CheckFailed):
    """A response whose body cannot be decoded as its headers say (Content-Encoding, charset)."""


class EnvironmentProblem(PostdeployError):
    """The suite could not use the target environment; not a defect of the target."""


class SuiteError(PostdeployError):
    """The feature or environment file is wrong: the check cannot be run as written."""


class EnvironmentFileError(EnvironmentProblem, SuiteError):
    """An environment file is missing, unreadable or does not match the schema (a suite error)."""


class MissingSecret(EnvironmentFileError):
    """A ``${VAR}`` in an environment file names a variable that is not set (an environment error)."""


class ServiceUnreachable(EnvironmentProblem):
    """A service did not answer at all (connection refused, DNS, timeout) before anything answered."""


class AlreadyReported(ServiceUnreachable):
    """A service the preflight found unreachable: reported once; the scenarios that need it are skipped."""


class UnsafeOperation(EnvironmentProblem, SuiteError):
    """The environment's safety settings forbid what a step asked for (the scenario is not ``@mutating``)."""


class SandboxStartError(EnvironmentProblem):
    """The local sandbox could not be started for the run."""


class Inconclusive(PostdeployError):
    """The check could not reach a verdict: neither a defect of the target nor an error of the suite."""


class RateLimited(Inconclusive):
    """The target answered 429 to a check that is not about rate limits, beyond the retry budget."""


class NotVerified(Inconclusive):
    """A service this check needs stopped answering earlier in the run (that was reported as a defect)."""


def tree(root: type[BaseException]) -> Iterator[type[BaseException]]:
    """``root`` and every subclass defined so far (those of modules not imported yet are not known)."""
    todo, seen = [root], set()
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.add(cls)
            yield cls
            todo.extend(cls.__subclasses__())
