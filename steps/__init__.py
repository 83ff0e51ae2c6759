"""This project's own steps, for phrases postdeploy's step language (``postdeploy.steps``) does not have.

The generic steps (requests, responses, health, identities, routes, CORS, assets, metrics, the browser) ship
with the library in ``src/postdeploy/steps/``; ``postdeploy steps`` lists them: prefer them. A step that
only this project needs goes in a module here (``steps/orders.py``: pytest-bdd steps and fixtures, thin over
``postdeploy.checks``, never ``scenarios()``). Every ``steps/*.py`` whose name does not start with ``_`` is
registered by the root ``conftest.py`` (``postdeploy.families.step_modules``) after the families' step modules,
and listed by ``postdeploy steps``. To put them behind a tag of their own, declare a family that names them
(``families/orders.py``: ``Family(name="orders", ..., step_modules=("steps.orders",))``, docs/families.md).
"""
