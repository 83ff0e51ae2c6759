"""The @security family's library (docs/security.md), usable without pytest: tokens forged with well-known secrets
(:mod:`.tokens`), headers graded like Mozilla's HTTP Observatory (:mod:`.headers`), the probe catalogue and what
it finds (:mod:`.catalogue`, :mod:`.exposure`), cookies (:mod:`.cookies`), the settings a service reports
(:mod:`.settings`) and the ``security:`` section (:mod:`.section`)."""

from . import catalogue, cookies, exposure, headers, settings, tokens
from .section import Security

__all__ = ["Security", "catalogue", "cookies", "exposure", "headers", "settings", "tokens"]
