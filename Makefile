# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run    -> virtualenv installed from uv.lock, then the main job (fcast backtest AAPL)
#   make test   -> the same virtualenv (test extras included), then the whole test suite
# Installs come from the committed lock (uv.lock) only; `make lock` refreshes it on purpose.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
TICKER ?= AAPL
# Never fetch a Python build: use the machine's interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run test test-fast bench lock clean

# uv itself, pinned, in a small tools venv of its own (pip is all a fresh machine has).
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --locked: install exactly uv.lock, and fail if pyproject.toml changed without `make lock`.
# --compile-bytecode: write .pyc files once, at install. Without them a machine that sets
# PYTHONDONTWRITEBYTECODE (this one and CI do) recompiles TensorFlow's sources on every
# run: `import tensorflow` took 13 s instead of 5 s here.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --extra dev --extra jax --compile-bytecode --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

run: setup
	$(BIN)/fcast backtest $(TICKER)

# The whole suite on the default backend (TensorFlow), then the model and leakage tests
# again under every other Keras backend that is installed (JAX is, from the lock). Ray's
# tests stay in the first run: starting a cluster forks, which JAX's threads do not survive.
BACKEND_TESTS := tests/models/test_models.py tests/models/test_keras_training.py tests/models/test_keras_zoo.py tests/evaluate/test_leakage.py
test: setup
	$(BIN)/python -m pytest
	for b in jax torch; do \
	  if $(BIN)/python -c "import $$b" 2>/dev/null; then \
	    echo "== Keras on $$b: $(BACKEND_TESTS)"; \
	    KERAS_BACKEND=$$b $(BIN)/python -m pytest -m "not ray" $(BACKEND_TESTS) || exit 1; \
	  fi; \
	done

# The inner loop: every test not marked slow (see [tool.pytest.ini_options] markers), on
# the default backend. Under 2 minutes on a 2-core machine; `make test` stays the full suite.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q

bench: setup
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

# Re-resolve every dependency to the newest versions pyproject.toml allows, and rewrite
# uv.lock. Run it when you add or change a dependency, or to take upgrades on purpose;
# then run `make test` from a fresh clone before committing the new lock.
lock: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON)

clean:
	rm -rf $(VENV) $(TOOLS) *.egg-info .pytest_cache
