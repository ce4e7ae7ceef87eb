# The two commands of the README: `make demo` runs the whole system, `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
export ESCPOS_CAPABILITIES_PICKLE_DIR := $(CURDIR)/var/cache/escpos

.PHONY: demo test test-postgres lint bench setup audit fuzz

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(BIN)/estate demo

# The suite runs on both cores, each test file on one worker (its fixtures and ports stay together). python-escpos
# writes its capabilities cache on first import: made once here, not by two workers at once.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python scripts/audit_deps.py
	mkdir -p $(ESCPOS_CAPABILITIES_PICKLE_DIR) && $(BIN)/python -c 'import escpos.capabilities'
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# The suite with the PostgreSQL variant of every test, the console's pages and the apps' included.
test-postgres: lint
	ESTATE_TEST_POSTGRES_EVERYWHERE=1 $(MAKE) --no-print-directory test

# Known vulnerabilities in the installed dependencies (pip-audit against PyPI's data).
audit: setup
	$(BIN)/python scripts/audit_deps.py

# The API and console fuzz tests with many more examples than `make test` runs (FUZZ_EXAMPLES to change), the
# console's on both databases.
FUZZ_EXAMPLES ?= 500
fuzz: setup
	ESTATE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ESTATE_FUZZ_BACKENDS=sqlite,postgresql \
		$(BIN)/python -m pytest tests/server/test_schema_fuzz.py \
		tests/server/console/test_console_fuzz.py $(PYTEST_ARGS)

# The static checks `make test` starts with: lint, formatting, types (strict on devices/, server/contract/ and
# server/domain/) and the import contracts of pyproject.toml that keep the direction of dependencies.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: setup
	@for f in bench/*.py; do echo "== $$f" >&2; $(BIN)/python $$f || exit 1; done
