PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chargepoint demo

# tests/test_systemd_unit.py checks the unit with systemd-analyze: install it where we may
# (root with apt-get); the check is skipped where it cannot be had, and the build goes on.
test: $(STAMP)
	@command -v systemd-analyze >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		{ export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends systemd >/dev/null; } || \
		echo "make: could not install systemd-analyze; the unit-file check will be skipped" >&2
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -n auto

bench: $(STAMP)
	$(BIN)/python bench/startup.py

docs: $(STAMP)
	$(BIN)/python -c "from chargepoint.connector.machine import status_diagram_document as d; print(d(), end='')" > docs/connector-status.md
	$(BIN)/python -c "from chargepoint.app.layout import package_document as d; print(d(), end='')" > docs/packages.md

clean:
	rm -rf $(VENV) build *.egg-info
