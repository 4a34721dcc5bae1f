# ims-indicators: the Makefile is the interface (setup · demo · run · test · serve · bench).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect: project-local home, no telemetry, and enough time for the first start's migrations.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: setup chromium demo run test serve portal bench clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Debian's chromium prints PDFs, renders PNGs (kaleido) and runs the browser tests.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }

demo: setup
	@test -f data/raw/schools.csv || $(BIN)/ims demo-data

run: setup chromium demo
	$(BIN)/ims run

# two workers (pytest-xdist) by file: a test module stays on one worker so its servers and fixtures start once;
# modules sharing a costly session fixture go together (tests/conftest.py)
test: setup chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile

serve: setup
	$(BIN)/ims serve

# The schools' and stewards' portal on the demo warehouse (ingested first if there is none yet).
portal: setup demo
	@test -f data/warehouse.duckdb || $(BIN)/ims ingest data/raw
	$(BIN)/ims portal --host 127.0.0.1 --port 8080

bench: setup
	$(BIN)/python benchmarks/ingest.py --rows 1000000

clean:
	rm -rf data/warehouse.duckdb* data/curated/* data/rejected reports .prefect gx
