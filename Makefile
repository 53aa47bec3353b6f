# Two commands for a newcomer: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint bench emulator migrate clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Starts the provider emulator (:8025), a django-q2 worker and the CRM on http://127.0.0.1:8000.
run: $(STAMP)
	$(PY) scripts/run_demo.py

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) scripts/bench.py

emulator: $(STAMP)
	$(PY) -m provider_emulator --port 8025 --state .emulator-state.json

clean:
	rm -rf $(VENV) db.sqlite3* .emulator-state.json staticfiles
