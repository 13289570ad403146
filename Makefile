# The two commands a new user needs:  `make demo`  and  `make test`.
# Each creates .venv on its own (offline-safe: torch is pinned to the CPU wheel that pip finds locally).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export SOCCERAI_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup demo test test-slow lint clean browser

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,scale]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/soccerai demo

# The dashboard's end-to-end test drives Debian's chromium (never a browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: $(STAMP) browser
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check soccerai tests benchmarks pipelines dashboard

clean:
	rm -rf $(VENV) out
