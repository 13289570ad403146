# The two commands a new user needs:  `make demo`  and  `make test`.
# Each creates .venv on its own from requirements.lock (every dependency pinned, with hashes); offline-safe: torch is
# locked to the CPU wheel that pip finds locally (find-links), the rest comes from the configured package index.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
export SOCCERAI_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: setup demo test test-slow test-latest setup-latest lint clean browser docs lock lock-check

# Install exactly the lock (pip checks every hash), then the project itself without resolving anything again;
# tools/check_lock.py stops here with one line when pyproject.toml asks for something the lock does not hold.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) tools/check_lock.py
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/soccerai demo

# The dashboard's end-to-end test drives Debian's chromium (never a browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

test: $(STAMP) lock-check browser
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# requirements.lock still covers pyproject.toml: every dependency of every extra locked, inside its range.
lock-check: $(STAMP)
	$(PY) tools/check_lock.py

# Regenerate requirements.lock from pyproject.toml (extras dev, docs, scale) with uv, in its own small venv.
# Versions already in the lock are kept where pyproject.toml still admits them; `make lock LOCK_FLAGS=--upgrade`
# moves everything to the newest admitted. The lock is for CPython $(LOCK_PYTHON) on x86-64 Linux, the CI's
# interpreter. uv does not read pip's configuration, so the indexes are passed here (LOCK_INDEXES): PyPI, this
# machine's local mirrors and find-links where they exist. torch must lock to the +cpu wheel: elsewhere, add
# PyTorch's CPU index, e.g. make lock LOCK_INDEXES='--index-url https://pypi.org/simple --extra-index-url
# https://download.pytorch.org/whl/cpu'.
UV_VENV     := .venv-tools
UV          := $(UV_VENV)/bin/uv
UV_VERSION  := 0.13.10
LOCK_PYTHON := 3.11.7
LOCK_INDEXES ?= --index-url https://pypi.org/simple \
	$(foreach d,$(wildcard /opt/pypi/simple /opt/pypi-more/simple),--extra-index-url file://$(d)) \
	$(foreach d,$(wildcard /opt/wheels),--find-links $(d))
LOCK_FLAGS ?=

$(UV):
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install -q uv==$(UV_VERSION)

lock: $(UV)
	if [ -f $(LOCK) ]; then cp $(LOCK) $(LOCK).new; fi  # uv keeps the versions of an existing output file
	$(UV) pip compile pyproject.toml --extra dev --extra docs --extra scale \
		--python-version $(LOCK_PYTHON) --python-platform x86_64-manylinux_2_28 \
		--index-strategy unsafe-best-match $(LOCK_INDEXES) --generate-hashes --no-header --quiet \
		$(LOCK_FLAGS) -o $(LOCK).new
	grep -q '^torch==[^ ]*+cpu ' $(LOCK).new || \
		(echo "$(LOCK): torch did not lock to the CPU wheel; see LOCK_INDEXES in the Makefile" >&2; exit 1)
	(echo "# Every dependency of pyproject.toml (extras dev, docs, scale), pinned with hashes. Do not edit:"; \
	 echo "# regenerate with \`make lock\` (uv $(UV_VERSION), CPython $(LOCK_PYTHON), x86_64 Linux)."; \
	 cat $(LOCK).new) > $(LOCK)
	rm -f $(LOCK).new

# Not in CI: the suite against the newest releases that pyproject.toml's ranges admit, in a separate, fresh venv
# (.venv-latest), to see ahead of time what a `make lock LOCK_FLAGS=--upgrade` would break.
LATEST := .venv-latest
setup-latest:
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install -q --upgrade pip
	$(LATEST)/bin/python -m pip install -q --upgrade -e '.[dev,docs,scale]'
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/freeze.txt
	@grep -E '^[A-Za-z0-9]' $(LOCK) | sed 's/ .*//' | tr A-Z_ a-z- | sort > $(LATEST)/lock.txt
	@echo "$(LATEST) holds these versions that $(LOCK) does not (all: $(LATEST)/freeze.txt):"
	@tr A-Z_ a-z- < $(LATEST)/freeze.txt | sort | comm -13 $(LATEST)/lock.txt - | sed 's/^/  /'

test-latest: setup-latest browser
	$(LATEST)/bin/python -m pytest -q

# The documentation site (mkdocs.yml), strict: any warning is an error. The tutorials run during the build on the
# real data folder; what they write goes to out/docs-run (fresh each build), the site to out/site.
DOCS_RUN := $(abspath out/docs-run)
docs: $(STAMP)
	rm -rf $(DOCS_RUN)
	env -u SOCCERAI_STORE_DIR PATH="$(abspath $(VENV))/bin:$$PATH" SOCCERAI_OUT_DIR="$(DOCS_RUN)" \
		NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(VENV)/bin/mkdocs build --strict

lint: $(STAMP)
	$(VENV)/bin/ruff check soccerai tests benchmarks pipelines dashboard tools docs/hooks.py

clean:
	rm -rf $(VENV) $(LATEST) $(UV_VENV) out
