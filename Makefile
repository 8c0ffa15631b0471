# rongxin — the front door. `make demo` runs the platform with demo data; `make test` runs
# the whole suite (on SQLite and on PostgreSQL). Both install what they need into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
DEMO_DB ?= var/demo.db
DEMO_N ?= 10000
DEMO_DIR := var/demo-synth
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Python packages go in with uv where it can, otherwise pip (scripts/pip-install.sh)
PIP_INSTALL := scripts/pip-install.sh $(VENV)

.PHONY: install install-dev demo serve test test-sqlite test-pg lint fmt docs bench clean

## install: the platform's runtime dependencies only (what `make demo` needs)
install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e .
	@touch $(STAMP)

## install-dev: plus the Spark rating engine (extra `spark`) and the test, lint and browser-test tools
install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	@scripts/system-deps.sh test
	$(PIP_INSTALL) -e '.[dev,spark]'
	@touch $(DEV_STAMP)

## demo: install, load $(DEMO_N) synthetic entities (every catalog item) into SQLite, serve :8000
demo:
	@# the Debian packages (fonts for PDFs) install while the Python ones do
	@scripts/system-deps.sh runtime & deps=$$!; \
		$(MAKE) --no-print-directory install; status=$$?; wait $$deps || status=1; exit $$status
	@mkdir -p var
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin db upgrade
	@test -f $(DEMO_DIR)/manifest.json || $(BIN)/rongxin synth --enterprises $(DEMO_N) --seed 7 --out $(DEMO_DIR)
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin ingest --manifest $(DEMO_DIR)/manifest.json
	@test -f var/demo-operator-key.json || (umask 077 && RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) \
		$(BIN)/rongxin access key create --kind operator --code demo-operator --label "make demo" \
		> var/demo-operator-key.json)
	@test -f var/demo-access.json || RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) \
		$(BIN)/rongxin synth-access --out var/demo-access.json
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin rights sweep
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/rongxin rating run --as-of 2026-09-30 --if-none
	@echo "Sign in at http://127.0.0.1:8000/signin with a token from var/demo-operator-key.json (operator)"
	@echo "or var/demo-access.json (the demo bank; enterprises, the first of which authorized the bank;"
	@echo "under \"rights\": an enterprise with an objection and its provider's key, and an enterprise"
	@echo "with a credit-repair application)"
	RONGXIN_DATABASE_URL=sqlite:///$(DEMO_DB) scripts/demo-providers.sh $(VENV) $(DEMO_DIR) \
		var/demo-providers $(BIN)/rongxin serve

## test: lint, then the whole suite on SQLite and on PostgreSQL ($(PG_URL)), both at once (each
## run is one Python process; output is shown per run, when it ends)
test: install-dev lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-pg

test-sqlite: install-dev
	$(BIN)/pytest --cov --cov-report=term -q

test-pg: install-dev
	RONGXIN_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m rongxin.docs_gen --check

fmt: install-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

docs: install-dev
	$(BIN)/python -m rongxin.docs_gen

## bench: every benchmark (minutes to an hour; see docs/benchmarks.md for the sizes recorded)
bench: install-dev
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_ingest.py --file var/bench/large/power_grid/electricity.csv \
		--rows 5000000 --database-url sqlite:///var/bench/ingest.db
	$(BIN)/python benchmarks/bench_reports.py --entities 1000000 \
		--database-url sqlite:///var/bench/reports.db
	$(BIN)/python benchmarks/bench_policy.py --entities 1000000 \
		--database-url sqlite:///var/bench/reports.db --sample 1000 --rounds 2

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
