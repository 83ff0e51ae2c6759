"""Email steps (``@email_delivery``): the run's own addresses, waiting for an email, and what it must be
(:mod:`postdeploy.mail`). The email a When step found is ``email`` for the Then steps; its links and tokens
can be remembered as scenario values (``{{name}}``) for the steps after."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from postdeploy import evidence, mail, redact, scenario
from postdeploy.environment import Environment
from postdeploy.errors import MissingSecret, SuiteError
from postdeploy.families.email_delivery import EmailDelivery
from postdeploy.mail import checks as mail_checks
from postdeploy.safety import guard_for

_LAST_STEP_END = pytest.StashKey[float]()
_SINCE = pytest.StashKey[dt.datetime]()
CLOCK_SKEW = dt.timedelta(seconds=5)  # the mailbox's clock may be a little behind this machine's


@dataclass
class Arrival:
    """The email a When step found, and how long after the step before it (the trigger) it was seen."""

    mail: mail.Mail
    latency_s: float


def pytest_bdd_after_step(request: pytest.FixtureRequest, **_: Any) -> None:
    """When the step before a wait ended: an email's delivery time is measured from it (the trigger)."""
    request.node.stash[_LAST_STEP_END] = time.monotonic()


@pytest.fixture(scope="session")
def mailbox(env: Environment) -> Iterator[mail.Box]:
    """The environment's ``mailbox:`` for the run (per worker); every fetch counts against the run's budget."""
    spec = env.section("mailbox")
    if spec is None:
        pytest.skip(f"not applicable: environment '{env.name}' has no 'mailbox:' section, so emails cannot be read")
    guard = guard_for(env)
    box = mail.open_box(spec, spend=lambda what: guard.spend(mail.boxes.SERVICE, what))
    try:
        yield box
    finally:
        box.close()


@pytest.fixture(scope="session")
def email_settings(env: Environment) -> EmailDelivery:
    return env.section("email_delivery") or EmailDelivery()


@pytest.fixture
def email() -> Arrival:
    raise SuiteError("this step judges an email, but none was waited for: 'When I wait for an email to \"...\" ...' "
                     "must come before it (the feature is wrong, not the target)")


@pytest.fixture
def collected() -> list[mail.Mail]:
    raise SuiteError("this step counts emails, but none were collected: 'When I collect the emails to \"...\" for "
                     "N seconds' must come before it")


def _since(request: pytest.FixtureRequest) -> dt.datetime:
    return request.node.stash.get(_SINCE, dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))


# ---- addresses --------------------------------------------------------------------------------------------

@given(parsers.parse('a new email address "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, run_id: str, name: str) -> None:
    """An address no other run or scenario uses, from ``mailbox.recipient_pattern`` (``{run_id}`` and a counter ``{n}``), remembered as ``{{name}}``; emails are found by it, so parallel runs never confuse the mailbox.

    Example: Given a new email address "customer_email"
    """
    spec = env.section("mailbox")
    if spec is None:
        raise SuiteError(f"environment '{env.name}' has no 'mailbox:' section, so no address can be read")
    address = mail.address(spec.recipient_pattern, run_id)
    request.node.stash.setdefault(_SINCE, dt.datetime.now(dt.timezone.utc) - CLOCK_SKEW)
    scenario.remember(request.node, name, address, taken=(*env.values, *env.secrets))
    evidence.text(f"address {name}", address)


# ---- waiting ----------------------------------------------------------------------------------------------

@when(parsers.parse('I wait for an email to "{address}" with "{subject}" in its subject'), target_fixture="email")
def _(request: pytest.FixtureRequest, env: Environment, mailbox: mail.Box, email_settings: EmailDelivery,
      service_client, sessions, address: str, subject: str) -> Arrival:
    """Wait (at most ``email_delivery.wait_s``) for the first email to the address with this text in its subject, returning as soon as it lands; none arriving is a target defect that lists the other emails to that address and what the platform's history (``email_delivery.history``) says about it.

    Example: When I wait for an email to "{{customer_email}}" with "Your receipt" in its subject
    """
    triggered = request.node.stash.get(_LAST_STEP_END, time.monotonic())
    history = email_settings.history

    def diagnose() -> str:
        return _history(history, address, service_client, sessions)

    found, _ = mail_checks.wait_for(mailbox, address, since=_since(request), timeout_s=email_settings.wait_s,
                                    subject=subject, diagnose=diagnose if history else None)
    return Arrival(found, time.monotonic() - triggered)


def _history(history: Any, address: str, service_client, sessions) -> str:
    """What the platform's history says about the emails to ``address`` (one line, never raising)."""
    from postdeploy import paths

    try:
        headers = list(sessions.credentials(history.account).headers) if history.account else []
        answer = service_client(history.service).request("GET", history.path, headers=headers, attach=False)
        found = paths.resolve(answer.json(), history.match.replace("{address}", address))
    except Exception as exc:  # noqa: BLE001  (a diagnosis must not hide the failure it explains)
        return f"the platform's history could not be read ({str(exc).splitlines()[0][:120]})"
    entries = found if isinstance(found, list) else [found]
    if not entries:
        return f"the platform's history ({history.path}) has no entry for it"
    shown = ", ".join(f"{f}: {entries[0].get(f)}" for f in history.fields if isinstance(entries[0], dict))
    return f"the platform's history says {shown}"


@when(parsers.parse('I collect the emails to "{address}" for {seconds:d} seconds'), target_fixture="collected")
def _(request: pytest.FixtureRequest, mailbox: mail.Box, address: str, seconds: int) -> list[mail.Mail]:
    """Watch the address for this long (from now) and keep every email that landed for it since the scenario began, for counting (duplicates).

    Example: When I collect the emails to "{{customer_email}}" for 5 seconds
    """
    found = mail_checks.all_within(mailbox, address, since=_since(request), window_s=seconds)
    request.node.stash[_COLLECT_WINDOW] = seconds
    evidence.table(f"emails to {address}", [{"subject": m.subject, "from": m.sender, "landed": m.received.isoformat()}
                                            for m in found])
    return found


_COLLECT_WINDOW = pytest.StashKey[int]()


@then(parsers.re(r'exactly (?P<count>\d+) emails? with "(?P<subject>[^"]*)" in (?:its|their) subject arrived'),
      converters={"count": int})
def _(request: pytest.FixtureRequest, collected: list[mail.Mail], count: int, subject: str) -> None:
    """Of the collected emails, exactly this many have the text in their subject: one per event, also when the event was replayed (duplicate prevention).

    Example: Then exactly 1 email with "Your receipt" in its subject arrived
    """
    matching = [m for m in collected if subject.casefold() in m.subject.casefold()]
    to = ", ".join(sorted({a for m in collected for a in m.to})) or "the address"
    mail_checks.check_count(matching, to, subject, count, request.node.stash.get(_COLLECT_WINDOW, 0))


# ---- the email --------------------------------------------------------------------------------------------

@then(parsers.parse('the email arrived within the "{objective}" objective'))
def _(env: Environment, email: Arrival, objective: str) -> None:
    """The email was seen within an objective of the environment (``objectives:``), counted from the end of the step before the wait (the trigger) to the moment it was found.

    Example: Then the email arrived within the "email_delivery_s" objective
    """
    spec = env.objective_spec(objective)
    limit_ms = spec.milliseconds(name=objective)
    if email.latency_s * 1000 >= limit_ms:
        mail_checks.fail(f"expected the email '{email.mail.subject}' within the '{objective}' objective of "
                         f"{spec.show(spec.green)}, it took {email.latency_s:.1f} s", email.mail)


@then(parsers.parse('the email is from "{sender}"'))
def _(email: Arrival, sender: str) -> None:
    """The sender's address (and display name, when written ``Name <address>``) is this one.

    Example: Then the email is from "Notification Platform <notifications@example.com>"
    """
    mail_checks.check_sender(email.mail, sender)


@then(parsers.parse('the email says "{text}"'))
def _(email: Arrival, text: str) -> None:
    """The subject, the text part or the HTML part's visible text contains this text (placeholders filled first).

    Example: Then the email says "{{order_id}}"
    """
    mail_checks.check_contains(email.mail, text)


@then("the email is fully rendered")
def _(email: Arrival) -> None:
    """No unrendered template placeholder in the subject, text or HTML: ``${x}``, ``{{ x }}``, ``{% x %}``, ``<%= x %>``, ``%(x)s``, ``$x``, and no ``undefined``, ``NaN`` or ``[object Object]``.

    Example: Then the email is fully rendered
    """
    mail_checks.check_rendered(email.mail)


@then("the email has a plain-text and an HTML part")
def _(email: Arrival) -> None:
    """Both parts are there and not empty (mail clients that show only text, and spam filters, need the text part).

    Example: Then the email has a plain-text and an HTML part
    """
    mail_checks.check_parts(email.mail)


@then(parsers.parse('every link in the email points at the "{service}" service'))
def _(env: Environment, email: Arrival, service: str) -> None:
    """Every http(s) link of the email has the scheme, host and port of this service of the environment (not localhost, not another domain); an email without links fails.

    Example: Then every link in the email points at the "frontend" service
    """
    if service not in env.services:
        raise SuiteError(f"environment '{env.name}' has no service named '{service}' (it has: {', '.join(env.services)})")
    mail_checks.check_links_point_at(email.mail, [str(env.services[service].base_url)])


@then("every link in the email works")
def _(env: Environment, email: Arrival, service_client) -> None:
    """GET every http(s) link of the email (at most 20, redirects followed) through the service of the environment it points at: each must answer 2xx. A link to a host the environment does not name is not asked (the safety model), and fails.

    Example: Then every link in the email works
    """
    bases = {mail_checks._origin(str(s.base_url)): (name, str(s.base_url).rstrip("/")) for name, s in env.services.items()}

    def fetch(link: str) -> int | str:
        origin = mail_checks._origin(link)
        if origin not in bases:
            return "not asked: the host is none of the environment's services"
        name, base = bases[origin]
        path = link[len(origin):] if link.startswith(origin) else re.sub(r"^[a-z]+://[^/]+", "", link)
        return service_client(name).request("GET", path or "/", follow_redirects=True, attach=False).status

    mail_checks.check_links_answer(email.mail, fetch)


@then("the email carries no secret")
def _(env: Environment, email: Arrival) -> None:
    """No password or token of the environment's accounts, no entry of ``secrets:`` and no JSON Web Token outside a link is in the subject, text or HTML (a single-use link's token is the link's business).

    Example: Then the email carries no secret
    """
    known = []
    for name in env.accounts:
        try:
            account = env.account(name)
        except MissingSecret:
            continue
        known += [str(v) for v in (account.password, account.token) if v]
    known += [str(v) for v in env.secrets.values()]
    known += [v.decode("utf-8", "replace") for v in redact.registered()]
    mail_checks.check_no_secrets(email.mail, known)


@then("the email renders in the browser")
def _(email: Arrival, page: Any) -> None:
    """Open the HTML part in the real browser: it must show text; the screenshot is attached.

    Example: Then the email renders in the browser
    """
    if not email.mail.html.strip():
        mail_checks.fail(f"expected the email '{email.mail.subject}' to have an HTML part to render, it has none",
                         email.mail)
    viewer = page.context.new_page()  # a page of its own: the scenario's page keeps its state
    try:
        viewer.route("**/*", lambda route: route.abort())  # the email's remote images and scripts are not fetched
        viewer.set_content(email.mail.html, wait_until="domcontentloaded")
        evidence.image("the email, rendered", viewer.screenshot(full_page=True))
        shown = viewer.inner_text("body").strip()
    finally:
        viewer.close()
    if not shown:
        mail_checks.fail(f"expected the email '{email.mail.subject}' to show text in a browser, it shows none",
                         email.mail)


@when(parsers.parse('I remember the link matching "{pattern}" in the email as "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, email: Arrival, pattern: str, name: str) -> None:
    """Keep the first link of the email that matches the regular expression (its first group, when it has one: a path, an id) as ``{{name}}``.

    Example: When I remember the link matching "(/orders/[0-9a-f-]+)" in the email as "order_page"
    """
    _remember_link(request, env, email, pattern, name, secret=False)


@when(parsers.parse('I remember the link matching "{pattern}" in the email as the secret "{name}"'))
def _(request: pytest.FixtureRequest, env: Environment, email: Arrival, pattern: str, name: str) -> None:
    """The same, for a value that is a credential (a reset token, a one-time login link): it is masked in every report from then on.

    Example: When I remember the link matching "reset-password\\?token=([\\w.-]+)" in the email as the secret "reset_token"
    """
    _remember_link(request, env, email, pattern, name, secret=True)


def _remember_link(request: pytest.FixtureRequest, env: Environment, email: Arrival, pattern: str, name: str, *,
                   secret: bool) -> None:
    __tracebackhide__ = True
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise SuiteError(f"/{pattern}/ is not a valid regular expression ({exc}); fix it in the feature") from None
    for link in email.mail.links():
        found = compiled.search(link)
        if found:
            value = found.group(1) if compiled.groups else link
            scenario.remember(request.node, name, value, secret=secret, taken=(*env.values, *env.secrets))
            evidence.text(f"remembered {name}", "(a secret)" if secret else value)
            return
    mail_checks.fail(f"expected a link matching /{pattern}/ in the email '{email.mail.subject}', its links are: "
                     + (", ".join(email.mail.links()[:5]) or "none"), email.mail)
