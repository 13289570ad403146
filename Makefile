# The two commands a new user needs:  `make demo`  and  `make test`.
# Each creates .venv on its own (offline-safe: torch is pinned to the CPU wheel that pip finds locally).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export SOCCERAI_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup demo test test-slow lint clean browser docs

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,docs,scale]'
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

# The documentation site (mkdocs.yml), strict: any warning is an error. The tutorials run during the build on the
# real data folder; what they write goes to out/docs-run (fresh each build), the site to out/site.
DOCS_RUN := $(abspath out/docs-run)
docs: $(STAMP)
	rm -rf $(DOCS_RUN)
	env -u SOCCERAI_STORE_DIR PATH="$(abspath $(VENV))/bin:$$PATH" SOCCERAI_OUT_DIR="$(DOCS_RUN)" \
		NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(VENV)/bin/mkdocs build --strict

lint: $(STAMP)
	$(VENV)/bin/ruff check soccerai tests benchmarks pipelines dashboard

clean:
	rm -rf $(VENV) out
