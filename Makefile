# The two quick-start commands: `make site` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: site test check lint clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## Set up and build the example archive into _site/.
site: $(VENV)/.runtime
	$(PY) build.py

## Set up (Python packages, Chromium, the HTML checker), then lint, type-check and run the whole test suite.
test: $(VENV)/.dev
	scripts/install-test-tools
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict briefings
	$(PY) -m pytest

check: $(VENV)/.runtime
	$(PY) build.py check

clean:
	rm -rf _site tests/artifacts .pytest_cache
