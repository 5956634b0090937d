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
PDF ?= 1
THEME ?=

# Releases (see README, "Versions"): VERSION=2016-09 names the release, REPLACE=1 lets a build
# change a published one (logged), RELEASES=dir is the history folder (kept by `make clean`).
VERSION ?=
REPLACE ?=
RELEASES ?=
RELEASE_OPTIONS = $(if $(VERSION),--version '$(VERSION)') $(if $(REPLACE),--replace) \
	$(if $(RELEASES),--releases '$(RELEASES)')

TRAME_OPTIONS = --config $(CONFIG) $(if $(DATA_DIR),--data-dir $(DATA_DIR)) \
	$(if $(WORKERS),--workers $(WORKERS)) $(if $(QUIET),--quiet)

.PHONY: bench-setup setup build tiles validate serve watch test lint format lock clean wheel

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.lock pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The DSFR (@gouvfr/dsfr) is an optional dependency: its own install script refuses it unless
# its terms of use are accepted, with DSFR_ACCEPT_LICENSE=1 in npm's environment (README, "The
# State's look"). Given to make (environment or command line), the variable reaches npm ci; a
# setup made without it runs npm ci again to add the package.
ifeq ($(DSFR_ACCEPT_LICENSE),1)
ifeq ($(wildcard node_modules/@gouvfr/dsfr/package.json),)
.PHONY: node_modules/.installed
endif
endif

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: setup
	$(BIN)/trame build $(TRAME_OPTIONS) --output $(OUTPUT) $(if $(FORCE),--force) \
		$(if $(filter 0,$(PDF)),--no-pdf) $(if $(THEME),--theme $(THEME)) $(RELEASE_OPTIONS)

tiles: setup
	$(BIN)/trame tiles $(TRAME_OPTIONS)

validate: setup
	$(BIN)/trame validate $(TRAME_OPTIONS)

serve: setup
	$(BIN)/trame serve --site $(OUTPUT) --port $(PORT)

# Build, serve, and build again whenever the config, a text or a data file changes.
watch: setup
	$(BIN)/trame serve --watch $(TRAME_OPTIONS) --site $(OUTPUT) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest -q -n auto

# Regenerate the Python lock after changing pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

# The wheel, dist/trame-<version>-py3-none-any.whl, for `pipx install` or `pip install`: it carries
# the templates, theme, pages, legend presets, texts, demo territory and MapLibre's files (from
# node_modules, i.e. the npm lock: `setup` runs `npm ci`), so installing it needs no Node.
wheel: setup
	rm -rf build
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --no-index --wheel-dir dist .
	@ls dist/trame-*.whl

# What the build made in the checkout: never dist/ (the wheels) nor layers/ (your territories).
clean:
	rm -rf site tiles .trame-cache build

# Publish (see README, "Publier"): exactly one of TARGET (rsync: folder or user@host:/path),
# S3_BUCKET (or TRAME_S3_BUCKET) or GIT_REMOTE. SSH options: TRAME_SSH='ssh -p 2222 -i key'.
TARGET ?=
KEEP ?= 5
S3_BUCKET ?=
S3_PREFIX ?=
S3_ENDPOINT ?=
GIT_REMOTE ?=
GIT_BRANCH ?= gh-pages
FORCE ?=
URL ?=

DEPLOY_OPTIONS = --site $(OUTPUT) --keep $(KEEP) $(if $(TARGET),--target '$(TARGET)') \
	$(if $(S3_BUCKET),--s3-bucket '$(S3_BUCKET)') $(if $(S3_PREFIX),--s3-prefix '$(S3_PREFIX)') \
	$(if $(S3_ENDPOINT),--s3-endpoint '$(S3_ENDPOINT)') $(if $(FORCE),--force) \
	$(if $(GIT_REMOTE),--git-remote '$(GIT_REMOTE)' --git-branch '$(GIT_BRANCH)') \
	--config $(CONFIG) $(if $(RELEASES),--releases '$(RELEASES)')

.PHONY: deploy rollback check-deploy

deploy: setup
	$(BIN)/trame deploy $(DEPLOY_OPTIONS)

rollback: setup
	$(BIN)/trame rollback $(if $(TARGET),--target '$(TARGET)')

check-deploy: setup
	$(BIN)/trame check-deploy $(if $(URL),--url '$(URL)')

# Tools for the benchmarks only (Lighthouse), from their own lock: not needed to build or test.
bench-setup: setup
	cd benchmarks && npm ci --no-audit --no-fund --loglevel=error
