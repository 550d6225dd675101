# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run    -> virtualenv + install, then the main job (fcast backtest AAPL)
#   make test   -> virtualenv + install with test extras, then the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TICKER ?= AAPL

.PHONY: setup run test bench clean

$(BIN)/fcast: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/fcast

setup: $(BIN)/fcast

run: setup
	$(BIN)/fcast backtest $(TICKER)

test: setup
	$(BIN)/python -m pytest

bench: setup
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
