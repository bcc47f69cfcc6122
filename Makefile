# One entry point for people and CI. Every target builds .venv first (once; again only
# when pyproject.toml changes), with a Python >= 3.12 found by scripts/find-python.sh.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test check lint typecheck bench app clean

$(STAMP): pyproject.toml scripts/find-python.sh
	@py=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		echo "creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## one simulated community (preset `community`, 104 weeks); results under results/runs/
	$(BIN)/sim-run $(ARGS)

app: $(STAMP)  ## the workshop dashboard on http://127.0.0.1:8765 (ARGS="--port N")
	$(BIN)/sim-app $(ARGS)

# Hydra's own launcher and sweeper suites (tests/test_hydra_suites.py) change the working
# directory and Hydra's global state, as they do in Hydra's repository: they run in a process
# of their own, after the rest.
SUITES := tests/test_hydra_suites.py

test: $(STAMP)  ## the fast tier (a few minutes): lint and every test not marked slow, on all cores
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto -m "not slow" --ignore $(SUITES) $(ARGS)
	$(BIN)/python -m pytest -m "not slow" $(SUITES) $(ARGS)

check: $(STAMP)  ## everything, as CI runs it: lint, format, types, and the whole suite (browser, notebooks, patterns, wheel)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto --ignore $(SUITES) $(ARGS)
	$(BIN)/python -m pytest $(SUITES) $(ARGS)

typecheck: $(STAMP)  ## mypy on the model core
	$(BIN)/mypy

bench: $(STAMP)  ## the benchmark suite, then the room load test (about 17 min on two idle cores); figures into results/bench/
	$(BIN)/python -m benchmarks $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache build dist
