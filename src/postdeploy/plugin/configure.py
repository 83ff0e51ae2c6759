"""The command line (``--env`` and the rest), configuring a run for its environment, and undoing it."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from .. import __version__, environment, families, redact
from ..errors import EnvironmentProblem
from .arguments import StepArguments
from .outputs import default_outputs
from .sandbox import sandbox_variables, stop_sandbox
from .state import (
    ENV_KEY,
    EXPORTED_KEY,
    FAMILIES_KEY,
    PREFLIGHT_VAR,
    RELEASE_VAR,
    RUN_ID_VAR,
    UNREACHABLE_VAR,
    env_dir,
    is_worker,
)
from .tags import VALUE_TAGS, register_project_tags
from .tally import VerdictTally


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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        registry = families.discover(config.rootpath)  # the same project root as the conftest's step modules
    except families.FamilyError as exc:
        raise pytest.UsageError(f"postdeploy: {exc}") from None
    for taken in sorted(set(registry.markers()) & set(VALUE_TAGS)):
        raise pytest.UsageError(f"postdeploy: the family '{taken}' ({registry.entry(taken).source}) takes the name of "
                                f"the plugin's tag @{taken}:<value>; choose another name")
    config.stash[FAMILIES_KEY] = registry
    for name, description in {**registry.markers(), **VALUE_TAGS}.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    config.addinivalue_line("markers", "postdeploy_bad_tag(message): a tag of the scenario is malformed (suite error)")
    if config.getoption("postdeploy_env"):  # a verification run: its features' own tags, and -m checked against them
        register_project_tags(config, {**registry.markers(), **VALUE_TAGS})
    redact.install_log_redaction()
    name = config.getoption("postdeploy_env")
    if not name:
        return
    directory = env_dir(config)
    provide = None
    if not is_worker(config):
        provide = lambda raw: sandbox_variables(config, raw)
    try:
        env, secrets = environment.load(name, directory, provide=provide, model=registry.environment_model)
    except EnvironmentProblem as exc:
        stop_sandbox(config)
        default_outputs(config, stopping=True)  # the previous run's results must not pass for this one's
        raise pytest.UsageError(f"postdeploy: {exc}") from None
    redact.register(*secrets)
    unread = registry.unread(env, project_steps=bool(families.project_step_modules(config.rootpath)))
    if unread:
        stop_sandbox(config)
        default_outputs(config, stopping=True)
        raise pytest.UsageError("postdeploy: " + "; ".join(unread) + ".")
    config.stash[ENV_KEY] = env
    release = config.getoption("postdeploy_release")
    if release:  # xdist workers inherit it; the release check reads it
        os.environ[RELEASE_VAR] = release
    config.pluginmanager.register(StepArguments(env), "postdeploy-step-arguments")
    if not is_worker(config):
        config.pluginmanager.register(VerdictTally(config), "postdeploy-verdicts")
    os.environ.setdefault(RUN_ID_VAR, time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6])
    if config.option.tbstyle == "auto":  # a failure's first line says it all; pytest's internals are noise for QA
        config.option.tbstyle = "short"
    default_outputs(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_sandbox(config)
    redact.uninstall_log_redaction()
    if config.stash.get(ENV_KEY, None) is not None and not is_worker(config):
        for name in (UNREACHABLE_VAR, PREFLIGHT_VAR, RUN_ID_VAR, *config.stash.get(EXPORTED_KEY, [])):
            os.environ.pop(name, None)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    env = config.stash.get(ENV_KEY, None)
    if env is None:
        return None
    services = ", ".join(f"{n}={s.base_url}" for n, s in env.services.items())
    mode = "read-only" if env.safety.read_only else "read-write"
    return [redact.redact(f"postdeploy {__version__}: environment '{env.name}' ({mode}); services: {services}")]
