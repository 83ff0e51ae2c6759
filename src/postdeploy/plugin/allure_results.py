"""What Allure shows beyond what allure-pytest-bdd reports by itself: a step's parameters without the fixtures its
function takes, and a result for each item that is not a scenario (an unreachable service, a broken feature file)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .. import redact
from .items import EnvironmentCheck, FeatureFileCheck

_PLAIN = (str, int, float, bool)


@pytest.hookimpl(trylast=True)  # after allure-pytest-bdd listed every argument of the step function
def pytest_bdd_before_step_call(request: pytest.FixtureRequest, step: Any, step_func_args: dict[str, Any],
                                **_: Any) -> None:
    """The report shows what the step says (its parsed values), not the fixtures the step function takes."""
    objects = {name for name, value in step_func_args.items() if not isinstance(value, _PLAIN)}
    if objects:
        for result in allure_steps(request, step):
            result.parameters = [p for p in result.parameters if p.name not in objects]


def allure_steps(request: pytest.FixtureRequest, step: Any) -> Iterator[Any]:
    """The Allure step result of this Gherkin step (none when allure-pytest-bdd is not reporting), to update."""
    from allure_commons.utils import md5
    from allure_pytest_bdd.pytest_bdd_listener import PytestBDDListener

    for plugin in request.config.pluginmanager.get_plugins():
        if isinstance(plugin, PytestBDDListener):
            with plugin.lifecycle.update_step(uuid=str(uuid.UUID(md5(id(step))))) as result:
                if result is not None:
                    yield result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if isinstance(item, (EnvironmentCheck, FeatureFileCheck)) and report.when == "call":
        _report_to_allure(item, call)
    return report


def _report_to_allure(item: EnvironmentCheck | FeatureFileCheck, call: pytest.CallInfo[Any]) -> None:
    """An unreachable service and a feature file that does not parse are items, not scenarios, so allure-pytest-bdd
    does not report them: their result is built with allure's model and handed to allure's reporters (the
    ``AllureFileLogger`` that allure-pytest-bdd registered for ``--alluredir``; none when there is no results dir)."""
    if not item.config.option.allure_report_dir:
        return
    import allure_commons
    from allure_commons import model2
    from allure_commons.types import LabelType
    from allure_commons.utils import format_exception, host_tag, md5, thread_tag, uuid4

    exc = call.excinfo.value if call.excinfo else None
    if isinstance(item, EnvironmentCheck):
        name, suite, tag = f"Environment: service '{item.service}' answers", "environment", "environment_error"
        parameters = [model2.Parameter(name="service", value=item.service)]
    else:
        name, suite, tag = f"Feature file {Path(item.file).name} parses", "feature files", "suite_error"
        parameters = [model2.Parameter(name="file", value=item.file)]
    history = md5(item.nodeid)
    message = redact.redact(format_exception(type(exc), exc).strip()) if exc is not None else None
    labels = {LabelType.PARENT_SUITE: suite, LabelType.TAG: tag, LabelType.FRAMEWORK: "postdeploy",
              LabelType.HOST: host_tag(), LabelType.THREAD: thread_tag()}
    result = model2.TestResult(
        uuid=uuid4(), historyId=history, testCaseId=history, name=name, fullName=item.nodeid,
        status=model2.Status.BROKEN if exc is not None else model2.Status.PASSED, stage="finished",
        statusDetails=model2.StatusDetails(message=message) if message else None,
        start=int(call.start * 1000), stop=int(call.stop * 1000), parameters=parameters,
        labels=[model2.Label(name=key, value=value) for key, value in labels.items()],
    )
    allure_commons.plugin_manager.hook.report_result(result=result)
