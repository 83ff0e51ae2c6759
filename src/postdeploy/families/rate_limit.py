"""@rate_limit (roadmap): bursts, headers, per identity, reset after the window. No steps yet; its
``rate_limits`` section (a list of :class:`~postdeploy.environment.RateLimit`) is typed in postdeploy.environment,
where the environment checks that each identity is an account, ``anonymous`` or an API key of ``secrets:``."""

from ..environment import RateLimit
from ._family import Family

FAMILY = Family(
    name="rate_limit",
    description="rate limits enforced as configured",
    sections={"rate_limits": list[RateLimit]},
    requires=("rate_limits",),
)
