# Two entry points for a fresh clone: `make run` and `make test`.
# Both create .venv with the first Python 3.11+ they find.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint openapi clean

$(BIN)/standards-bridge: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is required" >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV) with $(PYTHON);" \
		"on Debian or Ubuntu install its venv module (apt install python3-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(BIN)/standards-bridge
	PORT=$(PORT) $(BIN)/standards-bridge quickstart

test: $(BIN)/standards-bridge
	$(BIN)/python -m pytest

lint: $(BIN)/standards-bridge
	$(BIN)/ruff check app connectors tests
	$(BIN)/ruff format --check app connectors tests

openapi: $(BIN)/standards-bridge
	$(BIN)/standards-bridge openapi export openapi/openapi.json

clean:
	rm -rf $(VENV) var
