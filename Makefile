# Trame: `make build` builds the demo territory into site/, `make test` runs the whole suite.
# Both set up everything on a fresh machine: a virtual environment from requirements.lock
# (hashes checked) and the JavaScript libraries from package-lock.json.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= layers/demo.yml
DATA_DIR ?=
OUTPUT ?= site
WORKERS ?=
PORT ?= 8000
QUIET ?=

TRAME_OPTIONS = --config $(CONFIG) $(if $(DATA_DIR),--data-dir $(DATA_DIR)) \
	$(if $(WORKERS),--workers $(WORKERS)) $(if $(QUIET),--quiet)

.PHONY: setup build tiles validate serve test lint format lock clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: setup
	$(BIN)/trame build $(TRAME_OPTIONS) --output $(OUTPUT)

tiles: setup
	$(BIN)/trame tiles $(TRAME_OPTIONS)

validate: setup
	$(BIN)/trame validate $(TRAME_OPTIONS)

serve: setup
	$(BIN)/trame serve --site $(OUTPUT) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest -q

# Regenerate the Python lock after changing pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf site tiles .trame-cache
