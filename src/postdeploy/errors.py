"""The exception tree.

Two kinds of trouble are kept apart everywhere (DESIGN principle 5):

* a *target defect* is a check that ran and saw the deployment misbehave: it is an
  ``AssertionError`` (``CheckFailed``) and shows as *failed*;
* a *suite/environment error* means the suite could not do its job: a bad environment file, a
  missing secret, an unreachable service, a refused unsafe action. These derive from
  ``EnvironmentProblem``, show as *broken*, and the report files them under their own category.
"""

from __future__ import annotations


class PostdeployError(Exception):
    """Base of every error postdeploy raises on purpose."""


class CheckFailed(AssertionError, PostdeployError):
    """A check saw the target misbehave. The first line says expected, seen and where."""


class EnvironmentProblem(PostdeployError):
    """The suite could not use the target environment; not a defect of the target."""


class EnvironmentFileError(EnvironmentProblem):
    """An environment file is missing, unreadable or does not match the schema."""


class MissingSecret(EnvironmentFileError):
    """A ``${VAR}`` in an environment file names a variable that is not set."""


class ServiceUnreachable(EnvironmentProblem):
    """A service did not answer at all (connection refused, DNS, timeout, TLS)."""


class AlreadyReported(ServiceUnreachable):
    """A service the preflight found unreachable: reported once; the scenarios that need it are skipped."""


class UnsafeOperation(EnvironmentProblem):
    """The environment's safety settings forbid what a step asked for."""


class SandboxStartError(EnvironmentProblem):
    """The local sandbox could not be started for the run."""
