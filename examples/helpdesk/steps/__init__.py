"""This project's own steps, for phrases postdeploy's step language does not have.

Put them in modules here (``steps/orders.py``); each module of this package is registered by
``conftest.py``. ``postdeploy steps`` lists the phrases postdeploy provides: prefer them.
"""
