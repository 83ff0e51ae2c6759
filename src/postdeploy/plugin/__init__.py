"""The pytest plugin: ``pytest --env=NAME`` chooses the target; everything else follows from it.

Layers (each a fixture, each overridable by name): the environment -> session clients
(``clients``, ``sessions``) -> per-scenario state (``credentials``, ``response``, ``page``).

``pytest_plugins = ["postdeploy.plugin"]`` registers this package, and pytest registers the modules below from
its ``pytest_plugins``, one per job. This module holds no hook and no fixture itself (a hook re-exported here
would run twice); it re-exports what other code imports from ``postdeploy.plugin``.

* ``configure``: the command line, configuring a run for its environment and undoing it, the report header;
* ``outputs`` and ``sandbox`` (no hooks of their own, called at configure): default results, the local sandbox;
* ``preflight``: every service asked once before the scenarios run;
* ``items``: the items of unreachable services and broken feature files; what collection refuses or skips;
* ``tally``: one verdict per item, the terminal summary, the exit code and the run's metadata;
* ``outcomes``: an exception's verdict kind as the item's outcome; the verdict on every report;
* ``fixtures``: ``env``, ``run_id``, ``clients``, ``sessions``, ``credentials``, ``service_client``;
* ``tags``: ``@severity:`` and ``@checklist:``;
* ``arguments``: ``{{name}}`` placeholders in step arguments (``StepArguments``, registered at configure);
* ``allure_results``: a step's parameters in Allure, and the Allure results of the items that are not scenarios.
"""

from __future__ import annotations

from .arguments import StepArguments
from .items import EnvironmentCheck, FeatureFileCheck
from .outcomes import failed
from .preflight import PREFLIGHT_TIMEOUT_S, preflight
from .state import env_dir
from .tags import SEVERITIES, VALUE_TAGS

pytest_plugins = [
    "postdeploy.plugin.configure",
    "postdeploy.plugin.preflight",
    "postdeploy.plugin.items",
    "postdeploy.plugin.tally",
    "postdeploy.plugin.outcomes",
    "postdeploy.plugin.fixtures",
    "postdeploy.plugin.tags",
    "postdeploy.plugin.allure_results",
]

__all__ = ["PREFLIGHT_TIMEOUT_S", "SEVERITIES", "VALUE_TAGS", "EnvironmentCheck", "FeatureFileCheck",
           "StepArguments", "env_dir", "failed", "preflight"]
