# The postdeploy plugin and the step library, registered once for the whole project.
pytest_plugins = ["postdeploy.plugin", "steps.http", "steps.browser"]
