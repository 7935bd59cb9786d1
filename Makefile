# The two quick-start commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
# Bytecode for the editable install: pip compiles only what it copies, and with
# PYTHONDONTWRITEBYTECODE set nothing is cached, so every start (and every --processes
# worker) would compile urlsweep again: ~0.2 s each (docs/performance.md).
BYTECODE := $(VENV)/.bytecode

.PHONY: demo test lint typecheck unit browser clean

# `make demo` needs only urlsweep itself; the tests add their extras (dask, browsers...).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TESTSTAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TESTSTAMP)

$(BYTECODE): $(STAMP) $(shell find src -name '*.py')
	$(BIN)/python -m compileall -q src
	touch $(BYTECODE)

demo: $(STAMP) $(BYTECODE)
	$(BIN)/urlsweep demo

lint: $(TESTSTAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools

typecheck: $(TESTSTAMP)
	$(BIN)/mypy

unit: $(TESTSTAMP) $(BYTECODE) browser
	$(BIN)/pytest -q

# The HTML report is tested in Debian's headless chromium. Installed here when missing and
# possible (root with apt-get, as in CI); elsewhere those tests are skipped and say why.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium for the HTML report tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium \
	    >/dev/null) || echo "chromium could not be installed: browser tests will be skipped"; \
	fi

test: lint typecheck unit

clean:
	rm -rf $(VENV) build dist src/*.egg-info
