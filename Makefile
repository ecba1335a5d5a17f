# The README's two commands: `make run` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run` needs the server (and what examples/ runs with) only; `make test` adds the test
# toolchain to the same venv.
SERVER_STAMP := $(VENV)/.installed-server
# The framework tests' agents run in their own venv: agentreel's SDK install plus the framework
# packages (tests/frameworks/requirements.txt), which the SDK and server installs never pull.
FW_VENV ?= .venv-frameworks
FW_REQUIREMENTS := tests/frameworks/requirements.txt
FW_STAMP := $(FW_VENV)/.installed
# CrewAI's pins clash with the others' (openai<3, mcp<2): it gets a venv of its own.
FW_CREWAI_VENV ?= .venv-frameworks-crewai
FW_CREWAI_REQUIREMENTS := tests/frameworks/requirements-crewai.txt
FW_CREWAI_STAMP := $(FW_CREWAI_VENV)/.installed
# The AI SDK tests' Node projects (tests/js/aisdk6, tests/js/aisdk7): `npm ci` from their lock
# files, again whenever a lock file changes. Node and npm come from the system (Debian: nodejs,
# npm).
JS_PROJECTS := tests/js/aisdk6 tests/js/aisdk7
JS_STAMPS := $(addsuffix /node_modules/.installed,$(JS_PROJECTS))

.PHONY: run test install frameworks js lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(SERVER_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,examples]'
	touch $(SERVER_STAMP)

$(FW_STAMP): pyproject.toml $(FW_REQUIREMENTS)
	$(PYTHON) -m venv $(FW_VENV)
	$(FW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FW_VENV)/bin/python -m pip install --quiet -e . -r $(FW_REQUIREMENTS)
	touch $(FW_STAMP)

$(FW_CREWAI_STAMP): pyproject.toml $(FW_CREWAI_REQUIREMENTS)
	$(PYTHON) -m venv $(FW_CREWAI_VENV)
	$(FW_CREWAI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FW_CREWAI_VENV)/bin/python -m pip install --quiet -e . -r $(FW_CREWAI_REQUIREMENTS)
	touch $(FW_CREWAI_STAMP)

%/node_modules/.installed: %/package.json %/package-lock.json
	cd $* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

js: $(JS_STAMPS)

frameworks: $(FW_STAMP) $(FW_CREWAI_STAMP) js

run: $(SERVER_STAMP)
	$(BIN)/agentreel up --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	LINT_IMPORTS=$(BIN)/lint-imports tools/lint_imports.sh

typecheck: install
	MYPY=$(BIN)/mypy tools/typecheck.sh

# Two workers, each test file kept on one (its module fixtures start servers once): most of the
# suite's time is spent waiting on servers and subprocesses (measured on a busy 2-core machine:
# 18 minutes in two processes against 31 in one). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
unit: install frameworks
	$(BIN)/python -m pytest -q -rs -n $(PYTEST_WORKERS) --dist loadfile

test: lint typecheck unit

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) $(FW_VENV) $(FW_CREWAI_VENV) $(addsuffix /node_modules,$(JS_PROJECTS)) .agentreel .pytest_cache .mypy_cache .ruff_cache
