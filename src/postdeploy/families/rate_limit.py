"""@rate_limit: every limit of the environment's ``rate_limits:`` table enforced as promised: at its number, per
identity, under concurrency, saying when to retry, and lifted after its window (docs/rate-limits.md). The
section (a list of :class:`~postdeploy.environment.RateLimit`) is typed in postdeploy.environment, where the
environment checks that each identity is an account, ``anonymous`` or an API key of ``secrets:``."""

from ..environment import RateLimit
from ._family import Family

FAMILY = Family(
    name="rate_limit",
    description="rate limits enforced as configured: at their number, per identity, under concurrency",
    step_modules=("postdeploy.steps.rate_limits",),
    sections={"rate_limits": list[RateLimit]},
    requires=("rate_limits",),
)
