"""Reference targets for postdeploy's self-tests: web systems no step was written for.

``targets.helpdesk`` is a second target, shaped like a FastAPI + React "full-stack template" app, unlike the
sandbox (``sandbox/``): it proves that a system is verified with an environment file and Gherkin alone.
"""
