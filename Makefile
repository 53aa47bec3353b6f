# Two commands for a newcomer: `make run` and `make test`. Both set themselves up.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

LOCK   := requirements.lock

.PHONY: install lock check-lock run test lint bench emulator migrate clean

# The exact versions of requirements.lock (what the tests passed with), then the project itself.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) scripts/lock.py check
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Re-lock after changing pyproject.toml's dependencies; existing pins are kept. To move one
# dependency on purpose: `make lock UPGRADE=django`; everything: `make lock UPGRADE=all`.
lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PY) -m pip install --quiet uv
	$(PY) scripts/lock.py compile $(if $(UPGRADE),$(if $(filter all,$(UPGRADE)),--upgrade,--upgrade-package $(UPGRADE)))

check-lock:
	@$(PYTHON) scripts/lock.py check

# Starts the provider emulator (:8025), a django-q2 worker and the CRM on http://127.0.0.1:8000.
run: $(STAMP)
	$(PY) scripts/run_demo.py

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) scripts/lock.py check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) scripts/bench.py

emulator: $(STAMP)
	$(PY) -m provider_emulator --port 8025 --state .emulator-state.json

clean:
	rm -rf $(VENV) db.sqlite3* .emulator-state.json .radicale staticfiles
