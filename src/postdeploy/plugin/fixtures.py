"""The fixtures a step takes, each overridable by name: the environment -> session clients (``clients``,
``sessions``) -> per-scenario state (``credentials``; the steps' own ``response``, ``page``)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ..auth import Credentials, Sessions
from ..environment import Environment
from ..http import Clients
from .state import ENV_KEY, PREFLIGHT_VAR, REQUESTS_KEY, RUN_ID_VAR, unreachable


@pytest.fixture(scope="session")
def env(pytestconfig: pytest.Config) -> Environment:
    """The target environment, validated (``--env``)."""
    try:
        return pytestconfig.stash[ENV_KEY]
    except KeyError:
        pytest.fail("postdeploy: no environment selected; run with --env=NAME", pytrace=False)


@pytest.fixture(scope="session")
def run_id() -> str:
    """This run's id: everything a mutating scenario creates carries it."""
    return os.environ[RUN_ID_VAR]


@pytest.fixture(scope="session")
def clients(env: Environment, pytestconfig: pytest.Config) -> Iterator[Clients]:
    """One HTTP client per service for the whole session (connection reuse)."""
    pool = Clients(env, unreachable=unreachable(), preflight=os.environ.get(PREFLIGHT_VAR) == "1")
    yield pool
    counts = pytestconfig.stash.setdefault(REQUESTS_KEY, {})
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
