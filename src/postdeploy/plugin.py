"""The pytest plugin: ``pytest --env=NAME`` chooses the target; everything else follows from it.

Layers (each a fixture, each overridable by name): the environment -> session clients
(``clients``, ``sessions``) -> per-scenario state (``credentials``, ``response``, ``page``).
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from . import __version__, environment, errors, families, redact, runmarker, verdicts
from .auth import Credentials, Sessions
from .environment import Environment
from .errors import (
    AlreadyReported,
    CheckFailed,
    EnvironmentProblem,
    Inconclusive,
    PostdeployError,
    ServiceUnreachable,
    SuiteError,
)
from .http import Clients
from .verdicts import Kind

# Every family's tag is a marker, from the registry (postdeploy.families); these are the plugin's own
# tags with a value (pytest_bdd_apply_tag): one marker each, whatever the value.
VALUE_TAGS = {
    "severity": "@severity:<blocker|critical|normal|minor|trivial>: how bad a failure of the scenario is (Allure severity)",
    "checklist": "@checklist:<item id>: the deployment checklist item the scenario verifies",
}
SEVERITIES = ("blocker", "critical", "normal", "minor", "trivial")
PREFLIGHT_TIMEOUT_S = 5.0
_UNREACHABLE_VAR = "POSTDEPLOY_UNREACHABLE"
_PREFLIGHT_VAR = "POSTDEPLOY_PREFLIGHT"
_RELEASE_VAR = "POSTDEPLOY_RELEASE_VERSION"
_RUN_ID_VAR = "POSTDEPLOY_RUN_ID"
_ENV_KEY = pytest.StashKey[Environment]()
_FAMILIES_KEY = pytest.StashKey[families.Registry]()
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
    group.addoption("--release", dest="postdeploy_release", metavar="VERSION", default=None,
                    help="the release that should be live (overrides release.version of the environment file; "
                         "same as $POSTDEPLOY_RELEASE_VERSION)")
    group.addoption("--reports-dir", dest="postdeploy_reports", metavar="DIR", default=None,
                    help="where results go: allure-results/ and junit.xml (default: <rootdir>/reports)")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def env_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("postdeploy_env_dir") or os.environ.get("POSTDEPLOY_ENV_DIR")
    return Path(chosen).resolve() if chosen else config.rootpath / "environments"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        registry = families.discover(config.rootpath)  # the same project root as the conftest's step modules
    except families.FamilyError as exc:
        raise pytest.UsageError(f"postdeploy: {exc}") from None
    for taken in sorted(set(registry.markers()) & set(VALUE_TAGS)):
        raise pytest.UsageError(f"postdeploy: the family '{taken}' ({registry.entry(taken).source}) takes the name of "
                                f"the plugin's tag @{taken}:<value>; choose another name")
    config.stash[_FAMILIES_KEY] = registry
    for name, description in {**registry.markers(), **VALUE_TAGS}.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    config.addinivalue_line("markers", "postdeploy_bad_tag(message): a tag of the scenario is malformed (suite error)")
    redact.install_log_redaction()
    name = config.getoption("postdeploy_env")
    if not name:
        return
    directory = env_dir(config)
    provide = None
    if not _is_worker(config):
        provide = lambda raw: _sandbox_variables(config, raw)
    try:
        env, secrets = environment.load(name, directory, provide=provide, model=registry.environment_model)
    except EnvironmentProblem as exc:
        _stop_sandbox(config)
        _default_outputs(config, stopping=True)  # the previous run's results must not pass for this one's
        raise pytest.UsageError(f"postdeploy: {exc}") from None
    redact.register(*secrets)
    config.stash[_ENV_KEY] = env
    release = config.getoption("postdeploy_release")
    if release:  # xdist workers inherit it; the release check reads it
        os.environ[_RELEASE_VAR] = release
    config.pluginmanager.register(StepArguments(env), "postdeploy-step-arguments")
    if not _is_worker(config):
        config.pluginmanager.register(VerdictTally(config), "postdeploy-verdicts")
    os.environ.setdefault(_RUN_ID_VAR, time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6])
    if config.option.tbstyle == "auto":  # a failure's first line says it all; pytest's internals are noise for QA
        config.option.tbstyle = "short"
    _default_outputs(config)


def _default_outputs(config: pytest.Config, *, stopping: bool = False) -> None:
    """Results under reports/ by default, emptied by allure-pytest-bdd's own ``--clean-alluredir``: turned on here,
    before allure's plugin configures (this hook is tryfirst) and reads it. xdist workers get the same default
    (xdist does not pass options set in code), but only the controller clears old results and writes the JUnit file:
    a worker starts after the controller wrote the run marker, so it never cleans, even when told to."""
    reports = Path(config.getoption("postdeploy_reports") or config.rootpath / "reports")
    if config.option.allure_report_dir is None:
        config.option.allure_report_dir = str(reports / "allure-results")
        config.option.clean_alluredir = True
    if _is_worker(config):
        config.option.clean_alluredir = False
        return
    if getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(reports / "junit.xml")
    if config.option.collectonly:  # allure-pytest-bdd does not clean for --collect-only either
        return
    if stopping and config.option.clean_alluredir:  # the run stops before allure's plugin configures: clean as it would
        from allure_commons.logger import AllureFileLogger

        AllureFileLogger(config.option.allure_report_dir, clean=True)
    runmarker.forget_previous(config.option.allure_report_dir, getattr(config.option, "xmlpath", None))


def _sandbox_variables(config: pytest.Config, raw: dict[str, Any]) -> dict[str, str]:
    """For an environment with ``sandbox: {autostart: true}``: reuse or start the local sandbox."""
    spec = raw.get("sandbox") if isinstance(raw, dict) else None
    if not (spec is True or (isinstance(spec, dict) and spec.get("autostart", True))):
        return {}
    from . import (
        local,  # imports the sandbox launcher: only for environments that ask for it
    )

    variables, stop = local.ensure_sandbox()
    if stop is not None:
        config.stash[_STOP_KEY] = stop
        local.install_signal_cleanup(stop)  # SIGTERM/SIGINT/SIGHUP and interpreter exit stop it too
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
    redact.uninstall_log_redaction()
    if config.stash.get(_ENV_KEY, None) is not None and not _is_worker(config):
        for name in (_UNREACHABLE_VAR, _PREFLIGHT_VAR, _RUN_ID_VAR, *config.stash.get(_EXPORTED_KEY, [])):
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

    from .http import _certificate_problem
    from .safety import guard_for, guarded_client

    def probe(item: tuple[str, environment.Service]) -> tuple[str, str | None]:
        name, service = item
        url = service.base_url + service.health.path
        try:
            with guarded_client(guard_for(env), name, timeout=PREFLIGHT_TIMEOUT_S, verify=service.verify_tls) as client:
                client.get(url)
        except httpx.TransportError as exc:
            if _certificate_problem(exc):  # it answers, with a certificate that does not verify: a target defect
                return name, None
            return name, (f"service '{name}' does not answer at {url}: {type(exc).__name__}"
                          f"{': ' + redact.redact(exc) if str(exc) else ''}")
        except httpx.DecodingError:  # it answers; its checks will say what is wrong with the answer
            return name, None
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
    ran = bool(config.getoption("postdeploy_preflight"))
    unreachable = preflight(env) if ran else {}
    os.environ[_UNREACHABLE_VAR] = json.dumps(unreachable)
    os.environ[_PREFLIGHT_VAR] = "1" if ran else ""
    runmarker.start(config.option.allure_report_dir, run_id=os.environ.get(_RUN_ID_VAR, ""), environment=env.name)


def _unreachable() -> dict[str, str]:
    return json.loads(os.environ.get(_UNREACHABLE_VAR) or "{}")


class EnvironmentCheck(pytest.Item):
    """One per unreachable service: the single place its problem is reported."""

    def __init__(self, *, service: str, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service, self.problem = service, problem
        self.add_marker(pytest.mark.environment_error)

    def runtest(self) -> None:
        raise ServiceUnreachable(self.problem + ". Scenarios that need it are not verified.")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return f"environment error: {excinfo.value}"

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"environment: service '{self.service}' reachable"


class FeatureFileCheck(pytest.Item):
    """One per feature file that does not parse: a suite error; the other files still run."""

    def __init__(self, *, file: str, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file, self.problem = file, problem

    def runtest(self) -> None:
        raise SuiteError(self.problem)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return f"suite error: {excinfo.value}"

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"feature file {self.file} parses"


@pytest.hookimpl(trylast=True)  # after -m and -k deselected: the environment's problems are never deselected
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    from .binding import broken

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
        reason = verdicts.skip_reason(Kind.NOT_APPLICABLE, f"@mutating scenario not run: environment '{env.name}' "
                                      "is read-only (safety.read_only in its environment file)")
        for item in scenarios:
            if item.get_closest_marker("mutating"):
                item.add_marker(pytest.mark.skip(reason=reason))
    config.addinivalue_line("markers", "environment_error: a service of the environment did not answer")
    problems = _unreachable()
    parent = items[0].parent if items else session
    checks: list[pytest.Item] = [
        EnvironmentCheck.from_parent(parent, name=f"environment[{svc}]", service=svc, problem=why)
        for svc, why in sorted(problems.items())]
    checks += [FeatureFileCheck.from_parent(parent, name=f"feature[{Path(file).name}]", file=file, problem=why)
               for file, why in sorted(broken().items())]
    items[:0] = checks


def _is_scenario(item: pytest.Item) -> bool:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function = getattr(item, "obj", None)
    return function is not None and function in scenario_wrapper_template_registry


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if config.stash.get(_ENV_KEY, None) is None or _is_worker(config):
        return
    tally = config.stash.get(_TALLY_KEY, None)
    if tally is None:
        return
    titles = {Kind.TARGET_DEFECT: "target defects (the deployment is wrong)",
              Kind.SUITE_ERROR: "suite errors (a feature or environment file is wrong)",
              Kind.ENVIRONMENT_ERROR: "environment errors (not defects of the target)",
              Kind.INCONCLUSIVE: "inconclusive (no verdict could be reached)"}
    for kind, title in titles.items():
        entries = [(nodeid, line) for nodeid, (seen, line) in tally.items() if seen is kind]
        if entries:
            terminalreporter.section(title, red=kind is not Kind.INCONCLUSIVE, yellow=kind is Kind.INCONCLUSIVE)
            by_line: dict[str, list[str]] = {}
            for nodeid, line in entries:
                by_line.setdefault(line, []).append(nodeid.rsplit("::", 1)[-1])
            for line, names in by_line.items():  # one cause, said once: "... (9 scenarios)"
                more = ", ..." if len(names) > 3 else ""
                who = names[0] if len(names) == 1 else f"{len(names)} scenarios ({', '.join(names[:3])}{more})"
                terminalreporter.line(f"{who}: {line}")
    requests = config.stash.get(_REQUESTS_KEY, {})
    if requests:
        terminalreporter.line("requests sent: " + ", ".join(f"{k}={v}" for k, v in sorted(requests.items())))
    line = verdicts.summary_line(_counts(tally))
    final = int(config.stash.get(_EXIT_KEY, exitstatus))
    if final in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):  # not everything ran
        line = re.sub(r"^(postdeploy verdict: )[A-Z ]+(: .*)$", r"\1NOT VERIFIED (run interrupted)\2", line)
    line = re.sub(r"\(exit code \d+\)$", f"(exit code {final})", line)  # pytest's own codes (5: nothing ran) stay
    terminalreporter.write_line(line, bold=True)


# ---- verdicts: every outcome is one kind; the exit code adds them up -----------------------

_TALLY_KEY = pytest.StashKey[dict[str, tuple[Kind, str]]]()
_REQUESTS_KEY = pytest.StashKey[dict[str, int]]()
_EXIT_KEY = pytest.StashKey[int]()
_STEP_KEY = pytest.StashKey[str]()
_RANK = {kind: rank for rank, kind in enumerate(
    (Kind.PASSED, Kind.NOT_APPLICABLE, Kind.INCONCLUSIVE, Kind.ENVIRONMENT_ERROR, Kind.SUITE_ERROR,
     Kind.TARGET_DEFECT))}


def _counts(tally: dict[str, tuple[Kind, str]]) -> Counter[Kind]:
    return Counter(kind for kind, _ in tally.values())


def _first_line(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2]).removeprefix("Skipped: ")
    else:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr or "")
    named = _EXCEPTION_PREFIX.match(text)  # "postdeploy.errors.CheckFailed: expected ..." -> "expected ..."
    if named and named.group(1) in {c.__name__ for c in errors.tree(PostdeployError)} | {"AssertionError", "Failed"}:
        text = text[named.end():]
    return redact.redact(text.strip().splitlines()[0] if text.strip() else "")


_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(\w+): ")


class VerdictTally:
    """One verdict per selected item, tallied on the controller (xdist workers' reports included)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        config.stash[_TALLY_KEY] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        kind = next((Kind(v) for k, v in report.user_properties if k == "verdict"), None)
        if kind is None:
            return
        tally = self.config.stash[_TALLY_KEY]
        seen = tally.get(report.nodeid)
        if seen is None or _RANK[kind] > _RANK[seen[0]]:
            tally[report.nodeid] = (kind, "" if kind is Kind.PASSED else _first_line(report))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:  # xdist: a worker's request counts
        counts = self.config.stash.setdefault(_REQUESTS_KEY, {})
        for name, n in (getattr(node, "workeroutput", {}) or {}).get("postdeploy_requests", {}).items():
            counts[name] = counts.get(name, 0) + n


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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    env = config.stash.get(_ENV_KEY, None)
    if env is not None and _is_worker(config):
        config.workeroutput["postdeploy_requests"] = config.stash.get(_REQUESTS_KEY, {})
        return
    if env is None:
        return
    counts = _counts(config.stash.get(_TALLY_KEY, {}))
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = verdicts.exit_code(counts)
    config.stash[_EXIT_KEY] = int(session.exitstatus)
    results = config.option.allure_report_dir
    if not results:
        return
    from . import report

    properties = {
        "environment": env.name,
        "postdeploy": __version__,
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "run_id": os.environ.get(_RUN_ID_VAR, ""),
        "markers": config.getoption("markexpr") or "(all)",
        "verdict": verdicts.summary_line(counts).split(": ", 1)[1],
        **{f"service.{n}": s.base_url for n, s in env.services.items()},
        **{f"requests.{n}": str(c) for n, c in sorted(config.stash.get(_REQUESTS_KEY, {}).items())},
    }
    report.write_run_metadata(Path(results), environment=env.name, properties=properties,
                              executor={"buildName": f"run {properties['run_id']}"})
    runmarker.finish(results, exitstatus=session.exitstatus)


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
def clients(env: Environment, pytestconfig: pytest.Config) -> Iterator[Clients]:
    """One HTTP client per service for the whole session (connection reuse)."""
    pool = Clients(env, unreachable=_unreachable(), preflight=os.environ.get(_PREFLIGHT_VAR) == "1")
    yield pool
    counts = pytestconfig.stash.setdefault(_REQUESTS_KEY, {})
    for name, n in pool.request_counts().items():
        counts[name] = counts.get(name, 0) + n
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
    env, registry = item.config.stash.get(_ENV_KEY, None), item.config.stash.get(_FAMILIES_KEY, None)
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


def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Tags with a value (``@severity:critical``, ``@checklist:v2-rollback``) need no marker per value: they
    become the ``severity``/``checklist`` marker with the value as its argument, and the Allure label."""
    key, sep, value = tag.partition(":")
    if not sep or key not in ("severity", "checklist"):
        return None  # pytest-bdd's default: the tag is a marker of that name (--strict-markers checks it)
    if not value or (key == "severity" and value not in SEVERITIES):  # the scenario is a suite error; others run
        return pytest.mark.postdeploy_bad_tag(
            f"the tag @{tag} needs a value: @severity:<{'|'.join(SEVERITIES)}> or @checklist:<item id>")(function)
    function = getattr(pytest.mark, key)(value)(function)
    return pytest.mark.allure_label(value, label_type=key)(function)


_PLAIN = (str, int, float, bool)


@pytest.hookimpl(trylast=True)  # after allure-pytest-bdd listed every argument of the step function
def pytest_bdd_before_step_call(request: pytest.FixtureRequest, step: Any, step_func_args: dict[str, Any],
                                **_: Any) -> None:
    """The report shows what the step says (its parsed values), not the fixtures the step function takes."""
    objects = {name for name, value in step_func_args.items() if not isinstance(value, _PLAIN)}
    if objects:
        for result in _allure_steps(request, step):
            result.parameters = [p for p in result.parameters if p.name not in objects]


def _allure_steps(request: pytest.FixtureRequest, step: Any) -> Iterator[Any]:
    """The Allure step result of this Gherkin step (none when allure-pytest-bdd is not reporting), to update."""
    from allure_commons.utils import md5
    from allure_pytest_bdd.pytest_bdd_listener import PytestBDDListener

    for plugin in request.config.pluginmanager.get_plugins():
        if isinstance(plugin, PytestBDDListener):
            with plugin.lifecycle.update_step(uuid=str(uuid.UUID(md5(id(step))))) as result:
                if result is not None:
                    yield result


class StepArguments:
    """Every string a step is given is expanded here, in one place: ``{{name}}`` placeholders in its parsed
    arguments, in the cells of its ``datatable`` and in its ``docstring`` are filled from the environment
    (:func:`postdeploy.environment.expand`) before the step function runs, so step functions receive final values.

    pytest-bdd calls the step function with the very ``step_func_args`` dict its ``pytest_bdd_before_step_call``
    hook receives (``pytest_bdd/scenario.py``, ``_execute_step_function``), so rewriting it in place is how a hook
    changes a step's arguments with its public API. The hook does not say which entries were parsed from the step's
    text and which are fixtures: a parsed argument is a string that the step's text holds (typed fields such as
    ``{count:d}`` are converted before the hook and cannot hold a placeholder).

    It wraps the other hookimpls: allure-pytest-bdd lists the step's parameters and attaches its table and doc
    string from the expanded values, redacted (a placeholder may name a secret), and the step function then
    receives them unredacted. The Allure step's title says the expanded text too.
    """

    def __init__(self, env: Environment) -> None:
        self.env = env

    @pytest.hookimpl(wrapper=True)
    def pytest_bdd_before_step_call(self, request: pytest.FixtureRequest, step: Any, step_func_args: dict[str, Any],
                                    **_: Any) -> Any:
        __tracebackhide__ = True
        raw = {name: step_func_args[name] for name in self.arguments(step, step_func_args)}
        if not raw:
            return (yield)
        expanded = {}
        for name, value in raw.items():
            expanded[name] = self.expand(value)
        step_func_args.update({name: _redacted(value) for name, value in expanded.items()})  # what the report shows
        title = step.name
        for name, value in raw.items():
            if name not in ("datatable", "docstring"):
                title = title.replace(value, _redacted(expanded[name]))
        for result in _allure_steps(request, step):
            result.name = f"{step.keyword} {title}"
        try:
            return (yield)
        finally:
            step_func_args.update(expanded)  # what the step function receives

    @staticmethod
    def arguments(step: Any, step_func_args: dict[str, Any]) -> list[str]:
        """The names of the step's arguments that hold a placeholder."""
        names = []
        for name, value in step_func_args.items():
            if name == "datatable" and step.datatable is not None and isinstance(value, list):
                held = any(isinstance(cell, str) and "{{" in cell for row in value for cell in row)
            elif name == "docstring" and step.docstring is not None:
                held = isinstance(value, str) and "{{" in value
            else:
                held = isinstance(value, str) and "{{" in value and value in step.name
            if held:
                names.append(name)
        return names

    def expand(self, value: Any) -> Any:
        """A string, or every cell of a table, with its placeholders filled."""
        __tracebackhide__ = True
        if isinstance(value, list):
            return [[self.expand(cell) for cell in row] for row in value]
        return environment.expand(self.env, value) if isinstance(value, str) and "{{" in value else value


def _redacted(value: Any) -> Any:
    """What the report may show of an expanded argument."""
    if isinstance(value, list):
        return [[redact.redact(cell) if isinstance(cell, str) else cell for cell in row] for row in value]
    return redact.redact(value)


def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    """Remember the step that failed: the fault matrix and the report name it."""
    request.node.stash.setdefault(_STEP_KEY, f"{step.type.capitalize()} {step.name}")


def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    pytest_bdd_step_error(request, step)  # an undefined step is the failing step too


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    item.stash.setdefault(_OUTCOME_KEY, {})[report.when] = report
    kind = _kind_of(item, report, call) if item.config.stash.get(_ENV_KEY, None) is not None else None
    if kind is not None:
        properties = [("verdict", kind.value)]
        if kind is not Kind.PASSED and _STEP_KEY in item.stash:
            properties.append(("failing_step", item.stash[_STEP_KEY]))
        item.user_properties.extend(properties)
        report.user_properties.extend(properties)
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


_OUTCOME_KEY = pytest.StashKey[dict[str, Any]]()


def failed(item: pytest.Item) -> bool:
    """Did the scenario fail so far (used by teardown to keep failure evidence)?"""
    reports = item.stash.get(_OUTCOME_KEY, {})
    return any(r.failed for r in reports.values())
