# Two entry points for a fresh clone: `make demo` (the main job) and `make test` (the whole suite).
# Both create the virtualenv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: install demo up down status test lint typecheck pytest postgres browsers node bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo, then the local world with its data left running (Prefect UI, worker, API, sandboxes, watch).
demo: install
	$(BIN)/sierra-sync demo
	$(BIN)/sierra-sync up

up: install
	$(BIN)/sierra-sync up

down:
	$(BIN)/sierra-sync down

status:
	$(BIN)/sierra-sync status

postgres:
	bash scripts/ensure-postgres.sh

browsers:
	bash scripts/ensure-chromium.sh

# Node tools of the suite (newman for the Postman collection, the Zapier app's packages), from the lockfiles.
node:
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && \
		(cd integrations/zapier && npm ci --no-audit --no-fund --loglevel=error); \
	else echo "node: npm is not installed; the Postman and Zapier tests will be skipped"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

# Two workers (pytest-xdist): the suite mostly waits on servers and subprocesses; PYTEST_ARGS adds options.
pytest: install postgres browsers node
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	$(BIN)/python -m bench.seed

clean:
	rm -rf $(VENV) .sierra .pytest_cache .mypy_cache .ruff_cache node_modules integrations/zapier/node_modules
