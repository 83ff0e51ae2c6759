"""@mutating: a tag, not a family with steps of its own; the plugin skips such scenarios with a reason in
read-only environments (``safety.read_only``)."""

from ._family import Family

FAMILY = Family(name="mutating", description="changes state on the target; skipped in read-only environments")
