# Two commands for a new user: `make demo` and `make test`; each sets up what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.maskfer-setup
DEMO_DIR ?= demo-output
PYTEST_ARGS ?=

.PHONY: setup demo test test-all bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(PY) -m trainers demo --out $(DEMO_DIR)

test: setup
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
