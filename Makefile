# Two commands for a new user: `make demo` and `make test`; each sets up what it needs first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.maskfer-setup
DEMO_DIR ?= demo-output
PYTEST_ARGS ?=
# Extra options for the demo's training step, e.g. DEMO_TRAIN_ARGS=--no-bf16 to train in float32 on a CPU
# with native bf16 (the precision is recorded in study.json and changes the digits).
DEMO_TRAIN_ARGS ?=

.PHONY: setup demo test test-all bench clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The whole pipeline on the built-in demo data; every step is resumable or incremental, so a rerun
# only redoes what is missing.
demo: setup
	$(PY) -m trainers data demo --out $(DEMO_DIR)/data --preview $(DEMO_DIR)/preview.png --workers 2
	$(PY) -m trainers data check $(DEMO_DIR)/data/manifest.csv
	$(PY) -m trainers data validate $(DEMO_DIR)/data/manifest.csv $(DEMO_DIR)/data/votes.csv --out $(DEMO_DIR)/validated
	$(PY) -m trainers data folds $(DEMO_DIR)/validated/manifest.csv --k 10 --seed 0 --out $(DEMO_DIR)/validated/folds.csv
	$(PY) -m trainers run --data $(DEMO_DIR)/validated/manifest.csv --preset quick --fold-file $(DEMO_DIR)/validated/folds.csv --out $(DEMO_DIR)/runs/quick --executor ray $(DEMO_TRAIN_ARGS)
	$(PY) -m interp.analyze $(DEMO_DIR)/runs/quick --max-images 64
	$(PY) -m interp.report $(DEMO_DIR)/runs/quick
	@echo "Browse the study: $(PY) -m dashboards $(DEMO_DIR)/runs/quick  (then open http://127.0.0.1:8050/)"

test: setup
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

bench: setup
	$(PY) -m benchmarks.train_throughput
	$(PY) -m benchmarks.gradcam_throughput --threads 1
	$(PY) -m benchmarks.demo_learnability
	$(PY) -m benchmarks.cpu_steps

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
