# Two commands for a newcomer: `make run` (demo on http://127.0.0.1:8000/) and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml is newer than the stamp.

# The first Python >= 3.11 on PATH; override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
ARGS  ?=

.PHONY: run test lint check venv clean

# The demo needs only the app's own dependencies (a quicker first install than the test tools).
run: $(RUN_STAMP)
	$(PY) scripts/run_demo.py

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

venv: $(STAMP)

define MAKE_VENV
	@if ! $(PY) -c '' 2>/dev/null; then \
		if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 or newer is needed (none found on PATH)" >&2; exit 1; fi; \
		echo "creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv --clear $(VENV) || { \
			echo "error: '$(PYTHON) -m venv' failed (on Debian/Ubuntu: apt install python3-venv)" >&2; exit 1; }; \
	fi
	@echo "installing the project and its dependencies into $(VENV) (the first time takes a minute)"
endef

$(STAMP): pyproject.toml
	$(MAKE_VENV)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test,dev]'
	@touch $(STAMP) $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml
	$(MAKE_VENV)
	$(PY) -m pip install --disable-pip-version-check -q -e .
	@touch $(RUN_STAMP)

# Removes local state (demo database, broker files, secrets, caches); keeps .venv.
clean:
	rm -rf var .pytest_cache .ruff_cache .import_linter_cache build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
