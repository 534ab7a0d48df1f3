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

run: install
	$(BIN)/streamlit run app.py --server.port 8501

test: install-test
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m benchmarks.suite

clean:
	rm -rf $(VENV) .pytest_cache
