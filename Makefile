# Two commands on a fresh machine: `make demo` (the main job on the local emulator) and
# `make test` (the whole suite). Each creates .venv and installs requirements.txt when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)/plugins:$(CURDIR)/glue_jobs
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test up emulator lint format e2e bench clean

help:
	@echo "make demo      run releases of the sales jobs on the local AWS emulator (airflow dags test)"
	@echo "make test      lint, then the whole test suite"
	@echo "make up        local AWS emulator + Airflow standalone with this project's DAGs (Ctrl-C stops)"
	@echo "make emulator  only the local AWS emulator on http://127.0.0.1:5000"
	@echo "make lint      ruff (with Airflow's AIR rules)"
	@echo "make clean     remove .venv and local state"

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (Glue 5.0 runs 3.11); set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m glue_cicd.demo

test: $(STAMP) lint
	$(BIN)/python -m pytest

up: $(STAMP)
	$(BIN)/python -m glue_cicd.dev_stack

emulator: $(STAMP)
	$(BIN)/python -m glue_cicd.local_aws

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .local
