"""The @security family's library (docs/security.md), usable without pytest: tokens forged with well-known secrets
(:mod:`.tokens`), headers graded like Mozilla's HTTP Observatory (:mod:`.headers`), the probe catalogue and what
it finds (:mod:`.catalogue`, :mod:`.exposure`), cookies (:mod:`.cookies`), the settings a service reports
(:mod:`.settings`) and the ``security:`` section (:mod:`.section`).

Only the section is imported here: the family's declaration reads it while families are discovered, which must
stay cheap (no HTTP client imported); import the other modules by name."""

from .section import Security

__all__ = ["Security"]
