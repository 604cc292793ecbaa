# kefu — the two set-up commands (README) and the guard rails.
#
#   make demo    set up .venv, migrate, seed demo data, serve on http://127.0.0.1:$(PORT)/
#   make test    run the whole test suite (SQLite; PostgreSQL when KEFU_DATABASE_URL is set)
#   make lint    ruff, ruff format --check, mypy, import-linter, makemigrations --check
#
# Knobs (environment or make arguments):
#   PORT=8000                       demo port (binds 127.0.0.1 only)
#   KEFU_DATA_DIR=./var             all local state: SQLite database, secret key, uploads, task queue
#   KEFU_DATABASE_URL=postgres://…  use PostgreSQL instead of SQLite (passed through untouched)
#   KEFU_DEMO_PASSWORD=kefu-demo    password of the seeded demo users
#   KEFU_PYTHON=/path/to/python     interpreter for a new .venv (default: scripts/find-python)
#   PYTEST_ARGS="-k transition -x"  extra pytest arguments; PYTEST_WORKERS=auto is pytest-xdist's -n
#   PYTEST_ALLOW_EMPTY=1            treat pytest's exit code 5 (no tests collected) as success
#
# `make test` fails exactly when pytest fails and prints pytest's exit code; note that make itself
# always exits with status 2 when a recipe fails, whatever the recipe's own code was.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PORT ?= 8000
KEFU_DATA_DIR ?= ./var
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
PYTEST_ALLOW_EMPTY ?=
export KEFU_DATA_DIR PORT

VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
KEFU := $(BIN)/kefu
STAMP := $(VENV)/.kefu-installed

LINT_PATHS := $(wildcard src tests bench)
# mypy (django-stubs) covers the kernel and every app's services / selectors / workflow
# (as modules or, once split, as packages) — not tests or migrations inside those directories.
MYPY_EXCLUDE := /(tests|migrations)/
MYPY_TARGETS := src/kefu/core $(filter-out src/kefu/core/%,$(wildcard \
	src/kefu/*/services.py src/kefu/*/selectors.py src/kefu/*/workflow.py \
	src/kefu/*/services src/kefu/*/selectors src/kefu/*/workflow))

.PHONY: help demo test lint venv

help:
	@sed -n '3,5p' Makefile | sed 's/^# *//'

# Create .venv with Python >= 3.12 when it is missing or broken (e.g. its base interpreter was
# removed), and (re)install the project when pyproject.toml is newer than the stamp.
venv:
	@set -e; \
	if [ -x $(PY) ] && $(PY) -c 'import sys' >/dev/null 2>&1; then \
		if ! $(PY) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then \
			echo "$(VENV) uses $$($(PY) -V 2>&1); kefu needs Python >= 3.12." >&2; \
			echo "Remove it (rm -rf $(VENV)) and run make again." >&2; \
			exit 1; \
		fi; \
	else \
		python=$$(scripts/find-python); \
		echo "==> creating $(VENV) with $$python ($$("$$python" -V 2>&1))"; \
		"$$python" -m venv --clear $(VENV); \
	fi; \
	if [ ! -f $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
		echo "==> installing kefu and its dev tools into $(VENV)"; \
		$(PY) -m pip install --quiet -e '.[dev]'; \
		touch $(STAMP); \
	fi

demo: export KEFU_DEMO_PASSWORD ?= kefu-demo
demo: venv
	$(KEFU) migrate --noinput
	$(KEFU) seed-demo
	@echo
	@echo "  kefu demo  (data in $(KEFU_DATA_DIR)$(if $(KEFU_DATABASE_URL),; database from KEFU_DATABASE_URL))"
	@echo
	@echo "    web        http://127.0.0.1:$(PORT)/"
	@echo "    admin      http://127.0.0.1:$(PORT)/admin/"
	@echo "    API docs   http://127.0.0.1:$(PORT)/api/v1/docs"
	@echo "    repair     http://127.0.0.1:$(PORT)/service/repair   portal  http://127.0.0.1:$(PORT)/portal/"
	@echo "    mail in    SMTP 127.0.0.1:$${KEFU_SMTPD_PORT:-2525} → service@demo.kefu.test (replies: $(KEFU_DATA_DIR)/mail)"
	@echo
	@echo "    log in as  admin / $(KEFU_DEMO_PASSWORD)"
	@echo "    API token  $(KEFU) token create admin"
	@echo
	@echo "  Ctrl-C stops the server and the background worker."
	@echo
	exec $(KEFU) serve --with-worker --with-smtpd --port $(PORT)

test: venv
	@rc=0; \
	echo "$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)  [database: $(if $(KEFU_DATABASE_URL),KEFU_DATABASE_URL,SQLite)]"; \
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ] && [ -n "$(PYTEST_ALLOW_EMPTY)" ]; then \
		echo "pytest collected no tests (exit 5); allowed by PYTEST_ALLOW_EMPTY"; rc=0; \
	fi; \
	if [ $$rc -ne 0 ]; then echo "pytest exit code: $$rc" >&2; fi; \
	exit $$rc

# Runs every check and fails at the end if any failed, so one run shows all problems.
lint: venv
	@failed=""; \
	run() { echo "--> $$*"; "$$@" || failed="$$failed\n    $$*"; }; \
	run $(BIN)/ruff check $(LINT_PATHS); \
	run $(BIN)/ruff format --check $(LINT_PATHS); \
	run $(BIN)/mypy --exclude '$(MYPY_EXCLUDE)' $(MYPY_TARGETS); \
	run $(BIN)/lint-imports; \
	run $(KEFU) makemigrations --check --dry-run; \
	if [ -n "$$failed" ]; then echo -e "lint FAILED:$$failed" >&2; exit 1; fi; \
	echo "lint passed"
