# The README's two commands: `make run` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/agentreel up --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	LINT_IMPORTS=$(BIN)/lint-imports tools/lint_imports.sh

typecheck: install
	MYPY=$(BIN)/mypy tools/typecheck.sh

unit: install
	$(BIN)/python -m pytest -q -rs

test: lint typecheck unit

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .agentreel .pytest_cache .mypy_cache .ruff_cache
