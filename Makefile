# Two commands on a fresh machine: `make run` and `make test`.
# Both create .venv with Python >= 3.12 (the first candidate that runs and is new enough), install, then run.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Candidates in order; pyenv shims fail unless selected, so pyenv's own installs are tried by path too.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
CANDIDATES := python3.13 python3.12 python3 \
	$(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3) $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3)

APP_HOST ?= 127.0.0.1
APP_PORT ?= 8765

.PHONY: run test app notebooks lab bench bench-store cluster-test ray-test sensitivity validate calibrate resolution clean venv

venv: $(STAMP)

$(PY):
	@for c in $(CANDIDATES); do \
	  if $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    echo "Using $$c ($$($$c --version))"; $$c -m venv $(VENV) && exit 0; \
	  fi; \
	done; \
	echo "error: cartelsim needs Python >= 3.12 and none was found (tried: $(CANDIDATES))." >&2; \
	echo "Install Python 3.12 or newer, or put it on PATH as python3.12." >&2; exit 1

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.compare

# scripts/browser.sh finds Chromium for the browser tests, installs Debian's when root/sudo and apt-get allow,
# else they are skipped with one line (a failure under CI=true).
test: $(STAMP)
	@sh scripts/browser.sh >/dev/null
	$(PY) -m pytest -q -n 2

# Solara's usage telemetry off; a closed tab's session (and a run it left playing) ends after 60 s.
APP_ENV := SOLARA_TELEMETRY_MIXPANEL_ENABLE=false SOLARA_KERNEL_CULL_TIMEOUT=60s

app: $(STAMP)
	@echo "cartelsim page: open http://$(APP_HOST):$(APP_PORT) in a browser (Ctrl-C stops it)"
	$(APP_ENV) $(PY) -m solara run experiments.app --host $(APP_HOST) --port $(APP_PORT) --no-open --production

# JupyterLab on notebooks/ (jupytext sources open as notebooks), this machine only; prints the address.
NB_HOST ?= 127.0.0.1
NB_PORT ?= 8888

notebooks lab: $(STAMP)
	$(PY) -m experiments.lab --host $(NB_HOST) --port $(NB_PORT)

bench: $(STAMP)
	$(PY) -m experiments.bench

# the results store with 20,000 synthetic finished runs: time and peak memory of collect (README, Running on a cluster)
bench-store: $(STAMP)
	$(PY) -m experiments.bench_store

# a private single-node SLURM cluster (installs slurm-wlm, slurmdbd, munge, mariadb-server with apt when missing),
# the tests marked cluster, then every daemon it started stopped by PID
cluster-test: $(STAMP)
	bash scripts/cluster.sh

# installs the ray extra into .venv, starts a local Ray head (2 CPUs) for the tests marked ray, stops it
ray-test: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	CARTELSIM_RAY_REQUIRED=1 RAY_AUTH_MODE=disabled $(PY) -m pytest -q -p no:cacheprovider --durations=0 -s -m ray tests/test_ray.py

sensitivity: $(STAMP)
	$(PY) -m experiments.sensitivity

validate: $(STAMP)
	$(PY) -m experiments.validate

calibrate: $(STAMP)
	$(PY) -m experiments.calibrate

# Does the answer depend on the map's resolution? The sweep (80 runs; finished runs are skipped), then
# its table, checks and figure. Narrow it with e.g. RESOLUTION_ARGS="seed=0 steps=104" and a new
# RESOLUTION_DIR (one sweep per folder).
RESOLUTION_DIR  ?= multirun/resolution
RESOLUTION_ARGS ?=
resolution: $(STAMP)
	$(PY) -m experiments.run -m experiment=resolution hydra.sweep.dir=$(RESOLUTION_DIR) $(RESOLUTION_ARGS)
	$(PY) -m experiments.resolution $(RESOLUTION_DIR)

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
