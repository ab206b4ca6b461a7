# Two commands on a fresh machine: `make demo` (the main job on the local emulator) and
# `make test` (the whole suite). Each creates .venv and installs requirements-dev.txt (the runtime
# pins of requirements.txt plus the emulator and development tools) when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test up emulator lint format e2e bench compose-cli team-stack-deps browser clean

help:
	@echo "make demo      run releases of the sales jobs on the local AWS emulator (airflow dags test)"
	@echo "make test      lint, then the whole test suite"
	@echo "make up        local AWS emulator + Airflow standalone with this project's DAGs (Ctrl-C stops)"
	@echo "make e2e       end-to-end: real Airflow servers, the README CI recipe, the runtime pins alone"
	@echo "make browser   Playwright and Debian's Chromium for the browser tests (make e2e installs them)"
	@echo "make bench     the benchmarks in bench/ (ratios measured in one run; about 20 minutes)"
	@echo "make emulator  only the local AWS emulator on http://127.0.0.1:5000"
	@echo "make lint      ruff (with Airflow's AIR rules)"
	@echo "make clean     remove .venv and local state"

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (Glue 5.0 runs 3.11); set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m dev.demo

# Two pytest workers (one per core here), each test file on one of them: a file's scenarios share
# its module fixtures, and each worker has its own emulator and Airflow database.
test: $(STAMP) lint compose-cli
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The compose file is validated with Debian's docker-compose (no Docker engine needed).
compose-cli:
	@command -v docker-compose >/dev/null || { \
	  echo "installing Debian's docker-compose (to validate docker-compose.yaml)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq docker-compose >/dev/null; }

# Postgres and Redis for tests/e2e/test_team_stack.py (docker-compose.yaml's stack, run without containers).
team-stack-deps:
	@{ ls /usr/lib/postgresql/*/bin/pg_ctl && command -v redis-server; } >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql and redis-server (for the team stack's e2e tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server >/dev/null; }

# Browser tests: Playwright (requirements-browser.txt) into .venv and Debian's Chromium, each when missing.
BROWSER_STAMP := $(VENV)/.browser-installed
$(BROWSER_STAMP): requirements-browser.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt
	touch $(BROWSER_STAMP)

browser: $(BROWSER_STAMP)
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium (for the browser tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

e2e: $(STAMP) team-stack-deps browser
	$(BIN)/python -m pytest -m e2e tests/e2e

BENCHMARKS := parse_cost emulator_overhead release_lead_time gate_throughput audit_history distributed_audit waiting_approvals data_diff awsglue_overhead
bench: $(STAMP)
	@for name in $(BENCHMARKS); do echo "== bench/$$name.py"; $(BIN)/python -m bench.$$name || exit 1; echo; done

up: $(STAMP)
	$(BIN)/python -m dev.up

emulator: $(STAMP)
	$(BIN)/python -m dev.emulator

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .local
