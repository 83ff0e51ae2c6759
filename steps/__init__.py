"""This project's own steps, for phrases postdeploy's step language (``postdeploy.steps``) does not have.

The generic steps (requests, responses, health, identities, routes, CORS, assets, metrics, the browser) ship
with the library in ``src/postdeploy/steps/``; ``postdeploy steps`` lists them: prefer them. A step that
only this project needs goes in a module here (``steps/orders.py``: pytest-bdd steps and fixtures, thin over
``postdeploy.checks``, never ``scenarios()``). The root ``conftest.py`` registers every ``steps/*.py`` whose
name does not start with ``_`` as a pytest plugin, after the families' step modules. To have a module's
phrases in ``postdeploy steps`` too, or behind a tag of its own, declare a family that names it
(``families/orders.py``: ``Family(name="orders", ..., step_modules=("steps.orders",))``, docs/families.md).
"""
