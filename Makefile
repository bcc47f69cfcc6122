# One entry point for people and CI. Every target builds .venv first (once; again only
# when pyproject.toml changes), with a Python >= 3.12 found by scripts/find-python.sh.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test lint bench app sweep-demo clean

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

app: $(STAMP)  ## the workshop dashboard on http://127.0.0.1:8765 (ARGS="--port N" or "--host H")
	$(BIN)/sim-app $(ARGS)

test: $(STAMP)  ## the whole test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(ARGS)

bench: $(STAMP)  ## the benchmark suite (about 5 min); figures into results/bench/bench.json
	$(BIN)/python -m benchmarks $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
