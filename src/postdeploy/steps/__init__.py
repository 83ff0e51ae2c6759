"""The generic step language: pytest-bdd steps, one module per capability, shipped with the library.

Any web system can be verified with these and an environment file. Every string argument of a step (its
quoted values, table cells, doc string) may hold ``{{name}}`` placeholders: the plugin fills them from the
environment (``values:`` and more) before the step runs (``postdeploy.plugin.StepArguments``).

The steps are thin: they read their arguments, call a check of :mod:`postdeploy.checks` (or an action of
:mod:`postdeploy.browser`), and the check attaches its evidence. The ``@smoke`` family
(``postdeploy.families.smoke``) registers these modules; ``postdeploy steps`` prints their catalogue.
A project's own steps live in its ``steps/`` folder, not here.
"""
