"""Email: the mailboxes test emails are read from (MailDev, Mailpit, IMAP) and what an email must be.

- ``message``: :class:`Mail`, one email as any mailbox gives it (parts, links, when it landed)
- ``boxes``: the mailboxes behind one interface, found by recipient and time
- ``checks``: waiting for an email, and the checks of one (sender, rendering, links, secrets, count)
- :func:`address`: the run's own recipient addresses, from ``mailbox.recipient_pattern``
"""

from __future__ import annotations

import itertools
import secrets as _secrets

from .boxes import Box, ImapBox, MailDevBox, MailpitBox, open_box
from .message import Mail, from_rfc822

_counter = itertools.count(1)
_PROCESS = _secrets.token_hex(2)  # xdist workers draw addresses of their own


def address(pattern: str, run_id: str) -> str:
    """A recipient address no other run and no other scenario of this run uses: the pattern's ``{run_id}`` and
    ``{n}`` (a counter, prefixed by a token of this process so that parallel workers never collide)."""
    return pattern.format(run_id=run_id or "run", n=f"{_PROCESS}{next(_counter)}")


__all__ = ["Box", "ImapBox", "Mail", "MailDevBox", "MailpitBox", "address", "from_rfc822", "open_box"]
