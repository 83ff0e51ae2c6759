"""What an item's outcome is: an exception raised by a step or a fixture becomes the outcome its verdict kind shows
as, and every report carries its verdict (and the failing step) as user properties, for the tally and JUnit."""

from __future__ import annotations

from typing import Any

import pytest

from .. import redact, verdicts
from ..errors import AlreadyReported, CheckFailed, Inconclusive, SuiteError
from ..verdicts import Kind
from .state import ENV_KEY, FAMILIES_KEY, OUTCOME_KEY, STEP_KEY


def _verdict_of_exception(exc: BaseException) -> None:
    """Turn what a step or fixture raised into the outcome its verdict kind shows as.

    An unreachable service reported once by the preflight and an inconclusive check become skips whose
    reason names their kind; a target defect raised as another type (a browser timeout) becomes a
    failed check, so that reports file it with the other target defects.
    """
    __tracebackhide__ = True
    if isinstance(exc, AlreadyReported):  # whatever needed the service (a step, a fixture, a sign-in)
        pytest.skip(verdicts.skip_reason(Kind.ENVIRONMENT_ERROR, str(exc)))
    if isinstance(exc, Inconclusive):
        pytest.skip(verdicts.skip_reason(Kind.INCONCLUSIVE, str(exc)))
    if verdicts.classify(exc) is Kind.TARGET_DEFECT and not isinstance(exc, AssertionError):
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckFailed(redact.redact(message)) from None


def _require_sections(item: pytest.Item) -> None:
    """A scenario of a family whose required environment section is absent cannot reach a verdict."""
    env, registry = item.config.stash.get(ENV_KEY, None), item.config.stash.get(FAMILIES_KEY, None)
    if env is not None and registry is not None:
        problems = registry.unmet(env, dict.fromkeys(marker.name for marker in item.iter_markers()))
        if problems:
            raise Inconclusive("; ".join(problems))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    bad_tag = item.get_closest_marker("postdeploy_bad_tag")
    if bad_tag is not None:
        raise SuiteError(bad_tag.args[0])
    try:
        _require_sections(item)
        return (yield)
    except Exception as exc:
        _verdict_of_exception(exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except Exception as exc:
        _verdict_of_exception(exc)
        raise


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    """Remember the step that failed: the fault matrix and the report name it."""
    request.node.stash.setdefault(STEP_KEY, f"{step.type.capitalize()} {step.name}")


def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    pytest_bdd_step_error(request, step)  # an undefined step is the failing step too


def _kind_of(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[Any]) -> Kind | None:
    if report.passed:
        return Kind.PASSED if report.when == "call" else None
    if report.skipped:
        if call.excinfo is not None and isinstance(call.excinfo.value, pytest.skip.Exception):
            return verdicts.classify_skip(str(call.excinfo.value.msg or ""))
        return Kind.NOT_APPLICABLE
    if call.excinfo is None:
        return Kind.SUITE_ERROR
    return verdicts.classify(call.excinfo.value)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    item.stash.setdefault(OUTCOME_KEY, {})[report.when] = report
    kind = _kind_of(item, report, call) if item.config.stash.get(ENV_KEY, None) is not None else None
    if kind is not None:
        # one verdict per item, its heaviest phase's: a scenario that passed and then failed in teardown (a cleanup
        # that left something behind) is that failure. pytest copies the item's properties into each phase's
        # report (JUnit writes the teardown report's), so the item holds the verdict so far and each report a copy.
        previous = next((Kind(v) for k, v in item.user_properties if k == "verdict"), None)
        if previous is None or kind.rank > previous.rank:
            properties = [("verdict", kind.value)]
            if kind is not Kind.PASSED and STEP_KEY in item.stash:
                properties.append(("failing_step", item.stash[STEP_KEY]))
            item.user_properties[:] = [p for p in item.user_properties if p[0] not in _VERDICT_PROPERTIES] + properties
        report.user_properties = [p for p in report.user_properties if p[0] not in _VERDICT_PROPERTIES] + [
            p for p in item.user_properties if p[0] in _VERDICT_PROPERTIES]
    return report


_VERDICT_PROPERTIES = ("verdict", "failing_step")


def failed(item: pytest.Item) -> bool:
    """Did the scenario fail so far (used by teardown to keep failure evidence)?"""
    reports = item.stash.get(OUTCOME_KEY, {})
    return any(r.failed for r in reports.values())
