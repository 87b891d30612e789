# The two commands a newcomer needs (README): `make run` and `make test`.
# Each does all set-up on a fresh machine: virtualenv, package install, the pinned Pulumi CLI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The gates `make test` runs before pytest; .pre-commit-config.yaml runs the same commands on commit and
# tests/unit/test_ci_gates.py reads them from here (`make -n`), so the three cannot drift apart.
LINT_PATHS := service programs policy_packs tools tests
TYPED_PATHS := service programs policy_packs tools

.PHONY: run test check test-aws worker serve-api serve-worker local-aws installed setup cli lint typecheck imports bench clean

# Lint, types and the layer contracts are checked first, in this order (ruff check, ruff format --check, mypy,
# lint-imports), even under -j.
.NOTPARALLEL: test check

# Python's bytecode caches, and pytest's caches of the modules it rewrites (the test modules and the pytest
# plugins), are kept between runs: where the environment turns them off (PYTHONDONTWRITEBYTECODE), each pytest
# process compiled and rewrote them all again, several seconds of CPU each (README, "Tests").
unexport PYTHONDONTWRITEBYTECODE

# pytest workers (pytest-xdist) on this 2-core machine, measured on a quiet one (README, "Tests"). make test:
# three; with two the cores were ~72% busy (the engine tests wait on the engine's processes, each other's cores
# and the local AWS), with three ~86%. make check: four, a small gain within this machine's run-to-run spread
# (gates warm: 3 min 26 s and 3 min 39 s on four, 3 min 39 s on three; 3 min 34 s and 3 min 44 s a stop
# before), each worker costing its own start-up and servers.
# Each worker starts its own local AWS, PostgreSQL and Redis on free ports and works in its own temporary
# folders (tests/conftest.py). TEST_WORKERS=0 (CHECK_WORKERS=0) runs in one process.
TEST_WORKERS ?= 3
CHECK_WORKERS ?= 4
# Tests that share a module-scoped deployment carry @pytest.mark.xdist_group and run on one worker.
XDIST_ARGS := --dist loadgroup

run: setup
	$(PY) -m tools.local_aws.run

test: setup lint typecheck imports
	$(PY) -m pytest -n $(TEST_WORKERS) $(XDIST_ARGS) $(PYTEST_ARGS)

# The inner loop: the same gates, then every test but the engine's (deployments through the Pulumi CLI).
check: setup lint typecheck imports
	$(PY) -m pytest -n $(CHECK_WORKERS) $(XDIST_ARGS) -m "not engine" $(PYTEST_ARGS)

# The target-switchable suites against real AWS (real provider, the bootstrap's settings); it lists what is
# missing and exits non-zero before deploying anything when something is (tools/aws_test_run.py).
test-aws: setup
	$(PY) -m tools.aws_test_run $(PYTEST_ARGS)

# A separate job consumer, for deployments that run the API with FORENSICS_EMBEDDED_CONSUMER=false. Like
# `make run`, it first does the whole set-up (virtualenv, Pulumi CLI build check, apt packages): for a
# developer's machine. Production nodes use serve-api / serve-worker.
worker: setup
	$(PY) -m service.jobs.worker

# Production nodes: they install and build nothing. They run the package already installed in the
# virtualenv (VENV=/path/to/venv for another one) and stop with a clear message when it is not there.
serve-api: installed
	$(PY) -m service.api_node

serve-worker: installed
	$(PY) -m service.jobs.worker

installed:
	@$(PY) -c 'import service.main' 2>/dev/null || { echo "no installed service in $(VENV): create it first \
	(python3 -m venv $(VENV) && $(VENV)/bin/pip install -e '.[postgres,redis]'), or point VENV at yours" >&2; exit 1; }

# The local AWS alone, seeded, for a rehearsal of several nodes: prints the settings the nodes need and
# writes them to <data_dir>/local-aws.env (LOCAL_AWS_ARGS: --port, --state-bucket, --env-file).
local-aws: setup
	$(PY) -m tools.local_aws.serve $(LOCAL_AWS_ARGS)

setup: $(STAMP) cli system

# The dev extra includes the local extra: moto, which the local AWS (tools/local_aws) of `make run`,
# `make local-aws` and the tests runs; the service itself does not depend on it.
# uv installs the packages: the same requirements from the same index as pip, resolved and installed in
# ~10 s from its cache (~/.cache/uv) where pip took ~55 s here, downloading every wheel on every new
# virtualenv (measured, README "Tests"). A production node needs neither: `pip install` works as well.
UV := $(VENV)/bin/uv
UV_REQUIREMENT := uv==0.13.10
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet '$(UV_REQUIREMENT)'
	$(UV) pip install --quiet --python $(PY) -e '.[dev]'
	touch $(STAMP)

cli: $(STAMP)
	$(PY) -m tools.build_pulumi_cli

# System packages pip cannot bring (poppler-utils, which the custody report tests render PDFs with; Chromium
# and chromedriver, which the console's browser tests drive);
# the list lives in tools/system_packages.py. Standard library only, so it needs no virtualenv.
.PHONY: system
system:
	$(PYTHON) -m tools.system_packages

lint: setup
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

# mypy keeps its cache per user, not per checkout: a new clone or worktree checks only what differs from
# the last run anywhere (a cold run takes ~1 min here, a warm one ~5 s). mypy validates each cached module
# against its source's hash, so a cache left by another checkout is reused only where the code is the same.
typecheck: export MYPY_CACHE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/forensic-cleanroom/mypy
typecheck: setup
	$(VENV)/bin/mypy $(TYPED_PATHS)

# The layers of service/ (.importlinter): no module imports from a layer above its own.
imports: setup
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m tools.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools .data
