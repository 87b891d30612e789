# The two commands a newcomer needs (README): `make run` and `make test`.
# Each does all set-up on a fresh machine: virtualenv, package install, the pinned Pulumi CLI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test worker setup cli lint typecheck bench clean

run: setup
	$(PY) -m service.local.run

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# A separate job consumer, for deployments that run the API with FORENSICS_EMBEDDED_CONSUMER=false.
worker: setup
	$(PY) -m service.jobs.worker

setup: $(STAMP) cli

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

cli: $(STAMP)
	$(PY) -m tools.build_pulumi_cli

lint: setup
	$(VENV)/bin/ruff check service programs policy_packs tools tests
	$(VENV)/bin/ruff format --check service programs policy_packs tools tests

typecheck: setup
	$(VENV)/bin/mypy service programs policy_packs

bench: setup
	$(PY) -m tools.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools .data
