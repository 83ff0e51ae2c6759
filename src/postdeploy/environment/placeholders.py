"""``{{name}}`` placeholders in step arguments, filled from the environment (:func:`expand`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import EnvironmentFileError
from .common import _did_you_mean
from .model import Environment

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\[\]-]+)\s*\}\}")


def expand(env: Environment, text: str, extra: Mapping[str, Any] | None = None) -> str:
    """Fill ``{{name}}`` placeholders in a step argument from the environment.

    ``extra`` (the scenario's remembered values and ``run_id``) comes first; then
    ``{{x}}`` looks in ``values``, then ``secrets``; ``{{services.api.base_url}}``, ``{{accounts.admin.username}}``,
    ``{{objectives.p95_ms}}`` and any other dotted path reach the whole environment, so a feature
    can name a per-environment value without holding it.
    """
    from .. import paths

    extra = extra or {}
    document = {**env.model_dump(by_alias=True), **env.values, **env.secrets, **extra}
    # {{objectives.NAME}} is the objective's green limit, a number, as when objectives were bare numbers
    document["objectives"] = {name: spec.green for name, spec in env.objectives.items()}

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        try:
            value = paths.resolve(document, key)
        except (paths.PathNotFound, ValueError):
            remembered = [name for name in extra if name != "run_id"]
            also = (f" and no earlier step of the scenario remembered (it remembered: {', '.join(remembered)})"
                    if remembered else "")
            raise EnvironmentFileError(
                f"the step needs '{{{{{key}}}}}', which environment '{env.name}' does not define{also}"
                f"{_did_you_mean(key, [*env.values, *env.secrets, *remembered])}; add it under 'values:' in its "
                "file (under 'secrets:' if it is a secret), or remember it in an earlier step "
                "('When I remember the JSON at \"$.id\" as \"name\"')."
            ) from None
        parts = [str(part) for part in paths.parse(key)]
        if parts and parts[0] not in extra:
            full = (["values", *parts] if parts[0] in env.values else ["secrets", *parts] if parts[0] in env.secrets
                    else parts)
            env.require(".".join(full), f"'{{{{{key}}}}}' in a step")
        return str(value)

    return _PLACEHOLDER.sub(fill, text)
