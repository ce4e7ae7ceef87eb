# The two commands of the README: `make demo` runs the whole system, `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
export ESCPOS_CAPABILITIES_PICKLE_DIR := $(CURDIR)/var/cache/escpos

.PHONY: demo test lint bench setup audit fuzz

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(BIN)/estate demo

test: lint
	$(BIN)/python scripts/audit_deps.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Known vulnerabilities in the installed dependencies (pip-audit against PyPI's data).
audit: setup
	$(BIN)/python scripts/audit_deps.py

# The API and console fuzz tests with many more examples than `make test` runs (FUZZ_EXAMPLES to change).
FUZZ_EXAMPLES ?= 500
fuzz: setup
	ESTATE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/server/test_schema_fuzz.py \
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
