# rongxin — the front door. `make demo` runs the platform with demo data; `make test` runs
# the whole suite (SQLite, then PostgreSQL). Both install what they need into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= var/demo.db
DEMO_N ?= 10000
DEMO_DIR := var/demo-synth
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install demo serve test test-sqlite test-pg lint fmt docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: install, load $(DEMO_N) synthetic entities into SQLite and serve http://127.0.0.1:8000
demo: install
	@mkdir -p var
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin db upgrade
	@test -f $(DEMO_DIR)/manifest.json || $(BIN)/rongxin synth --enterprises $(DEMO_N) --seed 7 --out $(DEMO_DIR)
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin entities import \
		--registration $(DEMO_DIR)/samr/registration.csv --annual-report $(DEMO_DIR)/gsxt/annual_report.csv
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin serve

## test: lint, then the whole suite on SQLite and on PostgreSQL ($(PG_URL))
test: install lint test-sqlite test-pg

test-sqlite: install
	$(BIN)/pytest --cov --cov-report=term -q

test-pg: install
	RONGXIN_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m rongxin.docs_gen --check

fmt: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

docs: install
	$(BIN)/python -m rongxin.docs_gen

bench: install
	$(BIN)/python benchmarks/bench_synth.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
