"""@email_delivery (roadmap): emails arrive, once, on time, rendered, links working. No steps yet; its
``mailbox`` section is typed in postdeploy.environment (a union on ``kind``: MailDev, Mailpit or IMAP)."""

from ..environment import Mailbox
from ._family import Family

FAMILY = Family(
    name="email_delivery",
    description="emails arrive, once, on time, rendered",
    sections={"mailbox": Mailbox},
    requires=("mailbox",),
)
