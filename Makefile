# The README's commands. Each target sets itself up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sinkload-installed

.PHONY: demo test test-fast lint postgis venv bench clean

demo: venv postgis
	$(BIN)/sinkload demo

test: venv postgis
	$(BIN)/pytest

test-fast: venv postgis
	$(BIN)/pytest -m "not slow"

lint: venv
	$(BIN)/ruff check src tests benchmarks migrations

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

postgis:
	./scripts/ensure-postgis.sh

bench: venv postgis
	$(BIN)/python -m benchmarks.run_all

clean:
	-$(BIN)/sinkload db down
	rm -rf .sinkload report dbt_project/target dbt_project/logs
