# The two commands of the quick start (README): each sets up what is missing first.
.PHONY: setup smoke test steps-doc

setup:
	@./scripts/setup.sh

# Verify the local sandbox (started for the run) with the smoke checks, then build the HTML report.
smoke: setup
	@status=0; .venv/bin/pytest --env=local -m smoke || status=$$?; \
	.venv/bin/postdeploy report; exit $$status

# The suite's own tests: unit, plugin behaviour, the sandbox, features against the sandbox, the fault matrix.
test: setup
	.venv/bin/pytest tests -p pytester -n 2 --dist loadgroup

steps-doc: setup
	.venv/bin/postdeploy steps --markdown > docs/steps.md
