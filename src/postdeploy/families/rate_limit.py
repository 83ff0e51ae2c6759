"""@rate_limit (roadmap): bursts, headers, per identity, reset after the window. No steps yet; its
``rate_limits`` section is still untyped in environment.py (issue 13, point 2)."""

from ._family import Family

FAMILY = Family(name="rate_limit", description="rate limits enforced as configured")
