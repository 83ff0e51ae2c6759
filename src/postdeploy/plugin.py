"""The pytest plugin: ``pytest --env=NAME`` chooses the target; everything else follows from it.

Layers (each a fixture, each overridable by name): the environment -> session clients
(``clients``, ``sessions``) -> per-scenario state (``credentials``, ``response``, ``page``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from . import __version__, environment, redact
from .auth import Credentials, Sessions
from .environment import Environment
from .errors import AlreadyReported, EnvironmentProblem, ServiceUnreachable
from .http import Clients

MARKERS = {
    "smoke": "post-deploy smoke checks: services up, login, pages, headers, configuration",
    "browser": "needs a real browser (Chromium via Playwright)",
    "mutating": "changes state on the target; skipped in read-only environments",
    "data_integrity": "read-only database checks",
    "backward_compatibility": "what the previous release's clients and data relied on",
    "rate_limit": "rate limits enforced as configured",
    "email_delivery": "emails arrive, once, on time, rendered",
    "release_health": "release health from metrics and logs",
    "security": "security posture",
}
PREFLIGHT_TIMEOUT_S = 5.0
_UNREACHABLE_VAR = "POSTDEPLOY_UNREACHABLE"
_RUN_ID_VAR = "POSTDEPLOY_RUN_ID"
_ENV_KEY = pytest.StashKey[Environment]()
_STOP_KEY = pytest.StashKey[Any]()
_EXPORTED_KEY = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("postdeploy", "post-deploy verification")
    group.addoption("--env", dest="postdeploy_env", metavar="NAME", default=None,
                    help="target environment: the name of a file in the environments directory (required to run features)")
    group.addoption("--env-dir", dest="postdeploy_env_dir", metavar="DIR", default=None,
                    help="directory of environment files (default: $POSTDEPLOY_ENV_DIR, else <rootdir>/environments)")
    group.addoption("--no-preflight", dest="postdeploy_preflight", action="store_false", default=True,
                    help="do not check that every service answers before the scenarios run")
    group.addoption("--reports-dir", dest="postdeploy_reports", metavar="DIR", default=None,
                    help="where results go: allure-results/ and junit.xml (default: <rootdir>/reports)")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def env_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("postdeploy_env_dir") or os.environ.get("POSTDEPLOY_ENV_DIR")
    return Path(chosen).resolve() if chosen else config.rootpath / "environments"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    redact.install_log_redaction()
    name = config.getoption("postdeploy_env")
    if not name:
        return
    directory = env_dir(config)
    provide = None
    if not _is_worker(config):
        provide = lambda raw: _sandbox_variables(config, raw)  # noqa: E731
    try:
        env, secrets = environment.load(name, directory, provide=provide)
    except EnvironmentProblem as exc:
        _stop_sandbox(config)
        raise pytest.UsageError(f"postdeploy: {exc}") from None
    redact.register(*secrets)
    config.stash[_ENV_KEY] = env
    os.environ.setdefault(_RUN_ID_VAR, time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6])
    if config.option.tbstyle == "auto":  # a failure's first line says it all; pytest's internals are noise for QA
        config.option.tbstyle = "short"
    _default_outputs(config)


def _default_outputs(config: pytest.Config) -> None:
    """Results under reports/ by default. xdist workers get the same default (xdist does not pass options
    set in code), but only the controller clears old results and writes the JUnit file."""
    reports = Path(config.getoption("postdeploy_reports") or config.rootpath / "reports")
    if config.option.allure_report_dir is None:
        results = reports / "allure-results"
        if results.exists() and not config.option.collectonly and not _is_worker(config):
            shutil.rmtree(results, ignore_errors=True)
        config.option.allure_report_dir = str(results)
    if getattr(config.option, "xmlpath", None) is None and not _is_worker(config):
        config.option.xmlpath = str(reports / "junit.xml")


def _sandbox_variables(config: pytest.Config, raw: dict[str, Any]) -> dict[str, str]:
    """For an environment with ``sandbox: {autostart: true}``: reuse or start the local sandbox."""
    spec = raw.get("sandbox") if isinstance(raw, dict) else None
    if not (spec is True or (isinstance(spec, dict) and spec.get("autostart", True))):
        return {}
    from . import local  # imports the sandbox launcher: only for environments that ask for it

    variables, stop = local.ensure_sandbox()
    if stop is not None:
        config.stash[_STOP_KEY] = stop
    os.environ.update(variables)  # xdist workers inherit them and never start a sandbox of their own
    config.stash[_EXPORTED_KEY] = list(variables)
    return variables


def _stop_sandbox(config: pytest.Config) -> None:
    stop = config.stash.get(_STOP_KEY, None)
    if stop is not None:
        del config.stash[_STOP_KEY]
        stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_sandbox(config)
    if config.stash.get(_ENV_KEY, None) is not None and not _is_worker(config):
        for name in (_UNREACHABLE_VAR, _RUN_ID_VAR, *config.stash.get(_EXPORTED_KEY, [])):
            os.environ.pop(name, None)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    env = config.stash.get(_ENV_KEY, None)
    if env is None:
        return None
    services = ", ".join(f"{n}={s.base_url}" for n, s in env.services.items())
    mode = "read-only" if env.safety.read_only else "read-write"
    return [redact.redact(f"postdeploy {__version__}: environment '{env.name}' ({mode}); services: {services}")]


# ---- preflight: unreachable services are found once, before any scenario runs -------------

def preflight(env: Environment) -> dict[str, str]:
    """Ask every service once, in parallel; return {service: why it did not answer}."""
    import httpx

    def probe(item: tuple[str, environment.Service]) -> tuple[str, str | None]:
        name, service = item
        url = service.base_url + service.health.path
        try:
            with httpx.Client(timeout=PREFLIGHT_TIMEOUT_S, verify=service.verify_tls) as client:
                client.get(url)
        except httpx.TransportError as exc:
            return name, (f"service '{name}' does not answer at {url}: {type(exc).__name__}"
                          f"{': ' + redact.redact(exc) if str(exc) else ''}")
        return name, None

    with ThreadPoolExecutor(max_workers=max(1, len(env.services))) as pool:
        results = list(pool.map(probe, env.services.items()))
    return {name: problem for name, problem in results if problem}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    env = config.stash.get(_ENV_KEY, None)
    if env is None or _is_worker(config):
        return
    unreachable = preflight(env) if config.getoption("postdeploy_preflight") else {}
    os.environ[_UNREACHABLE_VAR] = json.dumps(unreachable)


def _unreachable() -> dict[str, str]:
    return json.loads(os.environ.get(_UNREACHABLE_VAR) or "{}")


class EnvironmentCheck(pytest.Item):
    """One per unreachable service: the single place its problem is reported."""

    def __init__(self, *, service: str, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service, self.problem = service, problem
        self.add_marker(pytest.mark.environment_error)

    def runtest(self) -> None:
        raise ServiceUnreachable(self.problem + ". Scenarios that need it are skipped.")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return f"environment error: {excinfo.value}"

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"environment: service '{self.service}' reachable"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    scenarios = [item for item in items if _is_scenario(item)]
    env = config.stash.get(_ENV_KEY, None)
    if scenarios and env is None:
        names = ", ".join(environment.available(env_dir(config))) or "none found"
        raise pytest.UsageError(
            "postdeploy: choose the target environment with --env=NAME (available: " + names + "). "
            "There is no default, so a run never hits a shared or production system by accident."
        )
    if env is None:
        return
    if env.safety.read_only:
        reason = (f"@mutating scenario not run: environment '{env.name}' is read-only "
                  "(safety.read_only in its environment file)")
        for item in scenarios:
            if item.get_closest_marker("mutating"):
                item.add_marker(pytest.mark.skip(reason=reason))
    config.addinivalue_line("markers", "environment_error: a service of the environment did not answer")
    problems = _unreachable()
    if problems and scenarios:
        parent = scenarios[0].parent
        checks = [EnvironmentCheck.from_parent(parent, name=f"environment[{svc}]", service=svc, problem=why)
                  for svc, why in sorted(problems.items())]
        items[:0] = checks


def _is_scenario(item: pytest.Item) -> bool:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    return function is not None and function in scenario_wrapper_template_registry


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    problems = _unreachable()
    if problems and config.stash.get(_ENV_KEY, None) is not None and not _is_worker(config):
        terminalreporter.section("environment errors (not defects of the target)", red=True)
        for problem in problems.values():
            terminalreporter.line(problem)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    env = config.stash.get(_ENV_KEY, None)
    results = config.option.allure_report_dir if env is not None else None
    if env is None or _is_worker(config) or not results:
        return
    from . import report

    properties = {
        "environment": env.name,
        "postdeploy": __version__,
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "run_id": os.environ.get(_RUN_ID_VAR, ""),
        "markers": config.getoption("markexpr") or "(all)",
        **{f"service.{n}": s.base_url for n, s in env.services.items()},
    }
    report.write_run_metadata(Path(results), environment=env.name, properties=properties)


# ---- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def env(pytestconfig: pytest.Config) -> Environment:
    """The target environment, validated (``--env``)."""
    try:
        return pytestconfig.stash[_ENV_KEY]
    except KeyError:
        pytest.fail("postdeploy: no environment selected; run with --env=NAME", pytrace=False)


@pytest.fixture(scope="session")
def run_id() -> str:
    """This run's id: everything a mutating scenario creates carries it."""
    return os.environ[_RUN_ID_VAR]


@pytest.fixture(scope="session")
def clients(env: Environment) -> Iterator[Clients]:
    """One HTTP client per service for the whole session (connection reuse)."""
    pool = Clients(env, unreachable=_unreachable())
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def sessions(env: Environment, clients: Clients) -> Sessions:
    """Signs accounts in once per session."""
    return Sessions(env, clients)


@pytest.fixture
def credentials() -> Credentials | None:
    """Who the next request is sent as; anonymous until a step signs in."""
    return None


@pytest.fixture
def service_client(clients: Clients):
    """``service_client("api")``: a service's client (the seam to override, e.g. with a mock transport)."""
    return clients.__getitem__


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    try:
        return (yield)
    except AlreadyReported as exc:  # whatever needed the service (a step, a fixture, a sign-in): skip
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except AlreadyReported as exc:
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    item.stash.setdefault(_OUTCOME_KEY, {})[report.when] = report
    results = item.config.option.allure_report_dir
    if isinstance(item, EnvironmentCheck) and report.when == "call" and results:
        _write_environment_result(Path(results), item, call)
    return report


def _write_environment_result(results: Path, item: EnvironmentCheck, call: pytest.CallInfo[Any]) -> None:
    """Environment errors are not scenarios, so allure-pytest-bdd does not report them: write their result here."""
    import hashlib

    message = redact.redact(f"{type(call.excinfo.value).__module__}.{type(call.excinfo.value).__name__}: "
                            f"{call.excinfo.value}") if call.excinfo else ""
    history = hashlib.md5(item.nodeid.encode()).hexdigest()
    result = {
        "uuid": uuid.uuid4().hex, "historyId": history, "testCaseId": history,
        "name": f"Environment: service '{item.service}' answers", "fullName": item.nodeid,
        "status": "broken", "stage": "finished",
        "statusDetails": {"message": message, "trace": ""},
        "start": int(call.start * 1000), "stop": int(call.stop * 1000),
        "labels": [{"name": "parentSuite", "value": "environment"}, {"name": "tag", "value": "environment_error"},
                   {"name": "framework", "value": "postdeploy"}],
        "steps": [], "attachments": [], "parameters": [{"name": "service", "value": item.service}],
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")


_OUTCOME_KEY = pytest.StashKey[dict[str, Any]]()


def failed(item: pytest.Item) -> bool:
    """Did the scenario fail so far (used by teardown to keep failure evidence)?"""
    reports = item.stash.get(_OUTCOME_KEY, {})
    return any(r.failed for r in reports.values())
