# Two commands for a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lives in a local wheel folder on our machines; a looser
# spec or a missing folder would pull gigabytes of CUDA packages instead.
WHEELS := $(wildcard /opt/wheels)
PIP := $(BIN)/pip install --disable-pip-version-check $(if $(WHEELS),--find-links $(WHEELS))

.PHONY: run test install install-test clean bench

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# `streamlit run`, with the app's bytecode written and Streamlit's scan of every
# installed package for custom components skipped (seglab/server.py says why).
run: install
	$(BIN)/python -m seglab.server run app.py --server.port 8501

# Two passes, so the suite fits CI's 15 minutes on 2 cores. First everything but the
# load test, in two pytest-xdist workers: numpy's and torch's own threads are held to
# one each (they would only fight the other worker for the cores), and the browser
# tests stay together on one worker (their shared server, and a module's Chromium),
# whose waits for a page leave room for the other worker. Then the load test alone:
# eight browser sessions at once use both cores, and its memory figures need a
# quiet machine.
test: install-test
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not load"
	$(BIN)/python -m pytest -q -m load tests

bench: install
	$(PIP) -e ".[bench]"
	$(BIN)/python -m benchmarks.suite

clean:
	rm -rf $(VENV) .pytest_cache
