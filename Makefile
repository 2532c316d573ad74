PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WHEELHOUSE ?= wheelhouse
# Empty for Python 3.11 or newer; expanded only when .venv is about to be made.
OLD_PYTHON = $(shell $(PYTHON) --version 2>&1 | grep -qE '^Python 3\.(1[1-9]|[2-9][0-9])' || echo old)

.PHONY: demo test test-fast wheelhouse bench docs clean

# An older Python stops here with one line, before it leaves a .venv that cannot run the station.
$(BIN)/python:
	$(if $(OLD_PYTHON),$(error chargepoint needs Python 3.11 or newer but $(PYTHON) is $(or $(shell $(PYTHON) --version 2>&1 | grep '^Python '),not found): run make PYTHON=python3.11 (or another 3.11+)))
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chargepoint demo

# tests/test_systemd_unit.py checks the unit with systemd-analyze, tests/test_web_browser.py the
# web page in headless Chromium: install them where we may (root with apt-get); each check is
# skipped where it cannot be had, and the build goes on.
test: $(STAMP)
	@command -v systemd-analyze >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		{ export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends systemd >/dev/null; } || \
		echo "make: could not install systemd-analyze; the unit-file check will be skipped" >&2
	@{ command -v chromium && command -v chromedriver; } >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		{ export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; } || \
		echo "make: could not install chromium and chromium-driver; the web page's browser test will be skipped" >&2
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -n auto

# The pure-logic and in-process tests, without the daemon processes and crash tests (markers
# `daemon`, applied by tests/conftest.py, and `slow`).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "not daemon and not slow"

# Every wheel the station needs, for a board with no package index: copy the folder over, then
# pip install --no-index --find-links wheelhouse chargepoint. Wheels fit the CPU and the Python
# version of the machine that builds them, so build where those match the board's.
wheelhouse: $(STAMP)
	$(BIN)/pip wheel --quiet --wheel-dir $(WHEELHOUSE) .

bench: $(STAMP)
	$(BIN)/python bench/startup.py

docs: $(STAMP)
	$(BIN)/python -c "from chargepoint.connector.machine import status_diagram_document as d; print(d(), end='')" > docs/connector-status.md
	$(BIN)/python -c "from chargepoint.app.layout import package_document as d; print(d(), end='')" > docs/packages.md

clean:
	rm -rf $(VENV) build *.egg-info $(WHEELHOUSE)
