"""Is every service up, and running the release: health answers judged by the environment's
expectations, and the version each service reports."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import paths
from ..environment import Environment, HealthSpec, expand
from ..errors import Inconclusive
from ..http import Exchange
from ._base import asked, every, fail, path_of, problems_first, show
from .responses import json_value


def health_problems(exchange: Exchange, spec: HealthSpec) -> list[str]:
    """What is wrong with a health answer, judged by the environment's expectation (empty: healthy)."""
    problems = []
    if exchange.status not in spec.status:
        problems.append(f"status {exchange.status}, expected {' or '.join(map(str, spec.status))}")
    if spec.body is not None and exchange.text.strip() != spec.body:
        problems.append(f"body {exchange.text.strip()[:80]!r}, expected {spec.body!r}")
    if spec.contains is not None and spec.contains not in exchange.text:
        problems.append(f"body does not contain {spec.contains!r}")
    if spec.json_fields:
        try:
            document = exchange.json()
        except ValueError:
            return problems + [f"body is not JSON: {exchange.text[:80]!r}"]
        for path, expected in spec.json_fields.items():
            try:
                seen = paths.resolve(document, path)
            except paths.PathNotFound as exc:
                problems.append(f"'{path}' missing ({exc.reason})")
                continue
            if seen != expected:
                problems.append(f"'{path}' is {show(seen)}, expected {show(expected)}")
    return problems


@dataclass(frozen=True)
class HealthAnswer:
    """A service's health answer and, when it answered healthy, what the calls of its ``health.depends_on``
    said (each outage in a line)."""

    service: str
    exchange: Exchange
    problems: list[str]
    outages: list[str]


def ask_health(env: Environment, client_for: Callable[[str], Any],
               credentials_for: Callable[[str], Any] | None = None) -> list[HealthAnswer]:
    """Ask every service of the environment its health path, judged by its ``health:`` expectation as it comes.

    A service whose health answers healthy is then held to it: each call of its ``health.depends_on`` (a call
    that needs the dependencies the health vouches for) is made too (``credentials_for(account)`` signs a call's
    account in); one that does not answer as listed is an outage the health check hides.
    """
    __tracebackhide__ = True
    answers = []
    for name, service in env.services.items():
        exchange = client_for(name).request("GET", service.health.path, follow_redirects=service.health.follow_redirects)
        found = health_problems(exchange, service.health)
        hidden = [] if found else dependency_outages(name, service.health, client_for(name), credentials_for)
        answers.append(HealthAnswer(name, exchange, found, hidden))
    return answers


def services_healthy(answers: list[HealthAnswer]) -> None:
    """Every service answered healthy, and no call its health vouches for failed ("health check hides a
    dependency outage")."""
    __tracebackhide__ = True
    rows, problems = [], []
    for answer in answers:
        exchange, found, hidden = answer.exchange, answer.problems, answer.outages
        verdict = "; ".join(found) if found else ("healthy, but " + "; ".join(hidden) if hidden else "healthy")
        rows.append({"service": answer.service, "url": exchange.url, "status": exchange.status,
                     "ms": round(exchange.elapsed_ms), "verdict": verdict})
        if found:
            problems.append(f"'{answer.service}' at {exchange.url}: {'; '.join(found)}")
        problems += [f"health check hides a dependency outage: '{answer.service}' answered healthy at {exchange.url}, "
                     f"but {outage}" for outage in hidden]
    every("health of every service", rows, problems, "every service healthy")


def dependency_outages(name: str, spec: HealthSpec, client: Any,
                       credentials_for: Callable[[str], Any] | None) -> list[str]:
    """The calls of ``spec.depends_on`` that do not answer as listed, each said in a line."""
    __tracebackhide__ = True
    outages = []
    for call in spec.depends_on:
        who = f" as '{call.account}'" if call.account else ""
        headers: list[tuple[str, str]] = []
        if call.account:
            if credentials_for is None:
                raise Inconclusive(f"inconclusive: health.depends_on of '{name}' signs in as '{call.account}', "
                                   "which this check cannot do")
            try:
                headers = list(credentials_for(call.account).headers)
            except AssertionError as exc:  # the sign-in needs the dependency too: its failure is the evidence
                outages.append(f"signing in{who} for {call.method} {call.path} failed: "
                               f"{(str(exc).splitlines() or [''])[0]}")
                continue
        answer = client.request(call.method, call.path, headers=headers)
        if answer.status not in call.status:
            want = " or ".join(map(str, call.status))
            outages.append(f"{call.method} {call.path}{who} answered {answer.summary()} (expected {want})")
    return outages


RELEASE_VARIABLE = "POSTDEPLOY_RELEASE_VERSION"


def expected_release(env: Environment, variables: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The version that should be live and where it comes from: ``$POSTDEPLOY_RELEASE_VERSION`` (what a
    pipeline knows; ``--release`` sets it too), else ``release.version`` of the environment file."""
    __tracebackhide__ = True
    value = (os.environ if variables is None else variables).get(RELEASE_VARIABLE, "").strip()
    if value:
        return value, f"${RELEASE_VARIABLE}"
    release = env.section("release")
    if release.version:
        return str(release.version), "release.version"
    raise Inconclusive(f"no expected release: set release.version in environment '{env.name}' or "
                       f"${RELEASE_VARIABLE} (a pipeline knows the version it deploys)")


def reported_version(exchange: Exchange, source: Any) -> str:
    """The version a service reports: at a JSON path of its answer, in a header, or the whole body."""
    __tracebackhide__ = True
    where = asked(exchange)
    if exchange.status != 200:
        fail(f"expected service '{exchange.service}' to report its version at {where}, got {exchange.summary(120)}")
    if source.header:
        value = exchange.headers.get(source.header)
        if value is None:
            fail(f"expected service '{exchange.service}' to report its version in the header "
                 f"'{source.header}' of {where}, but it is absent")
        return value.strip()
    if source.json_path:
        return str(json_value(exchange, source.json_path))
    return exchange.text.strip()


def version_problem(service: str, seen: str, expected: str, origin: str, exchange: Exchange, source: Any) -> str | None:
    if seen.strip().lstrip("vV") == expected.strip().lstrip("vV"):
        return None
    at = f"header '{source.header}'" if source.header else f"'{source.json_path}'" if source.json_path else "the body"
    return (f"expected release {expected} ({origin}) on service '{service}', got {seen[:60]!r} at {at} of "
            f"{exchange.method} {path_of(exchange.url)}")


@dataclass(frozen=True)
class VersionAnswer:
    service: str
    sample: int
    source: Any
    exchange: Exchange


def ask_versions(env: Environment, client_for: Callable[[str], Any]) -> list[VersionAnswer]:
    """Ask every service of ``release.services`` for the version it runs, ``samples`` times each (fresh
    connections, to reach every instance)."""
    __tracebackhide__ = True
    sources = env.section("release").services
    if not sources:
        raise Inconclusive(f"environment '{env.name}' does not say where its services report their version "
                           "(release.services: name -> path, json)")
    answers = []
    for name, source in sources.items():
        client = client_for(name)
        for sample in range(source.samples):
            fresh = [("Connection", "close")] if source.samples > 1 else []
            exchange = client.request("GET", expand(env, source.path), headers=fresh, attach=sample == 0)
            answers.append(VersionAnswer(name, sample + 1, source, exchange))
    return answers


def release_version(env: Environment, answers: list[VersionAnswer]) -> None:
    """Every answer reports the expected release (:func:`expected_release`)."""
    __tracebackhide__ = True
    expected, origin = expected_release(env)
    rows, problems = [], []
    for answer in answers:
        seen = reported_version(answer.exchange, answer.source)
        problem = version_problem(answer.service, seen, expected, origin, answer.exchange, answer.source)
        rows.append({"service": answer.service, "sample": answer.sample, "url": answer.exchange.url, "version": seen,
                     "expected": expected, "ok": problem is None})
        if problem and problem not in problems:
            problems.append(problem)
    problems_first("version of every service", rows, problems, "answers")
