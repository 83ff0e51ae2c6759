"""@email_delivery: the emails a deployment must send arrive, on time, once, rendered, safe, with working links
(docs/email.md). ``mailbox:`` (typed in postdeploy.environment: MailDev, Mailpit or IMAP) says where the run's
emails are read; ``email_delivery:`` how long to wait and where the platform says what became of an email."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..environment import Mailbox, Seconds
from ..errors import EnvironmentProblem, MissingSecret
from ._family import Family, Section


class History(Section):
    """Where the platform tells what became of an email (its notification history), asked when one does not
    arrive: a GET of ``path`` on ``service`` as ``account``; ``match`` (a JSON path; ``{address}`` is the
    recipient) finds the entry, ``fields`` says which of its values to show."""

    service: str = "api"
    path: str = Field(pattern=r"^/")
    account: str | None = None
    match: str = Field(min_length=1)
    fields: list[str] = Field(default_factory=lambda: ["status"])


class EmailDelivery(Section):
    #: how long a step waits for an email before it says none arrived
    wait_s: Seconds = 30.0
    history: History | None = None


def reach_mailbox(env: Any) -> dict[str, str]:
    """The preflight's question to the mailbox, once per run: does it answer?"""
    from datetime import datetime, timezone

    from ..mail import open_box

    try:
        box = open_box(env.section("mailbox"))
        try:
            box.messages("postdeploy-preflight@invalid", datetime.now(timezone.utc))
        finally:
            box.close()
    except MissingSecret:
        raise
    except EnvironmentProblem as exc:
        return {"mailbox": str(exc)}
    return {}


FAMILY = Family(
    name="email_delivery",
    description="emails arrive, once, on time, rendered, with working links and no secret",
    step_modules=("postdeploy.steps.email",),
    sections={"mailbox": Mailbox, "email_delivery": EmailDelivery},
    requires=("mailbox",),
    probe=reach_mailbox,
)
