"""@backward_compatibility (roadmap): the previous release's operations, schemas, accounts and links
still work. No steps yet."""

from ._family import Family

FAMILY = Family(name="backward_compatibility", description="what the previous release's clients and data relied on")
