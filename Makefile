# Two set-up commands (see README): `make run` and `make test`.
# Python 3.12 is required (hazm 0.12); override with `make PYTHON=/path/to/python3.12 ...`.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
PYTHON ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
VENV := .venv
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: run test test-scheduler lint benchmarks
$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: install it (pyenv install 3.12) or pass PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip

# setuptools explains at length that an editable install finds packages through a meta
# path finder (an information notice, not a problem): silenced so the first screen is ours.
EDITABLE_QUIET := PYTHONWARNINGS="ignore:Editable installation"

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(EDITABLE_QUIET) $(VENV)/bin/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(EDITABLE_QUIET) $(VENV)/bin/python -m pip install -q -e ".[test]"
	$(VENV)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

run: $(VENV)/.installed-run
	$(VENV)/bin/cxtext run

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q

# A real Prefect server fires an every-minute schedule (1-3 minutes; CI runs it too).
test-scheduler: $(VENV)/.installed-test
	$(VENV)/bin/python -m pytest -q -m scheduler

# Slow tests, then the throughput harness at 100k documents (benchmarks/README.md; ~30 min on 2 cores).
benchmarks: $(VENV)/.installed-test
	$(VENV)/bin/python -m pytest -q -m slow
	nice -n 10 $(VENV)/bin/python benchmarks/throughput.py --docs 100000
