# make run   - create .venv, install cheapgrad, run the bundled lecture spec
# make check - install the dev tools, then lint, type check and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run check install dev lint typecheck test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The installs are stamped: an editable install follows the sources by itself, so it is
# redone only when pyproject.toml changes (`make run` twice installs once). PYTHONWARNINGS
# silences setuptools' notice about editable installs, which is not about this project.
PIP := PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

run: install
	$(BIN)/cheapgrad run configs/lecture.yaml

lint: dev
	$(BIN)/ruff check cheapgrad tests bench

typecheck: dev
	$(BIN)/mypy cheapgrad

test: dev
	$(BIN)/pytest

check: dev
	$(BIN)/ruff check cheapgrad tests bench
	$(BIN)/mypy cheapgrad
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
