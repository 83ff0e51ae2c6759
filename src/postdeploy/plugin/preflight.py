"""The preflight: unreachable services are found once, before any scenario runs (on the controller; xdist
workers read what it found from ``$POSTDEPLOY_UNREACHABLE``)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from .. import environment, families, redact, runmarker
from ..environment import Environment
from ..errors import MissingSecret, PostdeployError
from .state import (
    ENV_KEY,
    FAMILIES_KEY,
    PREFLIGHT_VAR,
    RUN_ID_VAR,
    UNREACHABLE_VAR,
    is_worker,
)

PREFLIGHT_TIMEOUT_S = 5.0


def preflight(env: Environment) -> dict[str, str]:
    """Ask every service once, in parallel; return {service: why it did not answer}."""
    import httpx

    from ..http import _certificate_problem
    from ..safety import guard_for, guarded_client

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


def family_probes(env: Environment, registry: families.Registry, markexpr: str = "") -> dict[str, str]:
    """The probes of the families whose required sections this environment has (a database, a mailbox ...) and
    whose tag the run selects: ``-m smoke`` does not ask the database (nothing selected needs it)."""
    found: dict[str, str] = {}
    for family in registry.probing(env):
        if not _selects(markexpr, family.name):
            continue
        try:
            found.update(family.probe(env))
        except MissingSecret:
            continue  # a variable of its section is not set: its scenarios say which
        except PostdeployError as exc:
            found[family.name] = redact.redact(str(exc))
    return {name: redact.redact(problem) for name, problem in found.items()}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    env = config.stash.get(ENV_KEY, None)
    if env is None or is_worker(config):
        return
    ran = bool(config.getoption("postdeploy_preflight"))
    probes = family_probes(env, config.stash[FAMILIES_KEY], config.getoption("markexpr") or "") if ran else {}
    unreachable = {**preflight(env), **probes} if ran else {}
    os.environ[UNREACHABLE_VAR] = json.dumps(unreachable)
    os.environ[PREFLIGHT_VAR] = "1" if ran else ""
    runmarker.start(config.option.allure_report_dir, run_id=os.environ.get(RUN_ID_VAR, ""), environment=env.name)


def _selects(markexpr: str, tag: str) -> bool:
    """Whether ``-m markexpr`` can select a scenario tagged ``tag`` (a scenario with that tag and no other).

    The preflight runs before collection (and, under xdist, on a controller that collects nothing), so it judges
    the expression, not the items. pytest has no public API for a marker expression: ``_pytest.mark.expression``
    is the one pytest itself uses for ``-m``; if it moves, every family is probed (as without ``-m``).
    """
    if not markexpr.strip():
        return True
    try:
        from _pytest.mark.expression import Expression

        return bool(Expression.compile(markexpr).evaluate(lambda name, **_: name == tag))
    except Exception:  # noqa: BLE001 - a changed private API or an expression pytest will itself reject
        return True
