# The two commands of the README: `make demo` runs the whole system, `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
export ESCPOS_CAPABILITIES_PICKLE_DIR := $(CURDIR)/var/cache/escpos

.PHONY: demo test lint bench setup

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(BIN)/estate demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	@for f in bench/*.py; do echo "== $$f" >&2; $(BIN)/python $$f || exit 1; done
