# Two entry points (see README): `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hermetic-installed

.PHONY: setup demo test lint typecheck unit acceptance bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,postgresql,psycopg2,asyncpg,aiosqlite]'
	touch $(STAMP)

demo: setup
	$(BIN)/hermetic demo

lint: setup
	$(BIN)/ruff check src tests bench tools examples
	$(BIN)/ruff format --check src tests bench tools examples

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build src/*.egg-info
