# make run   - create .venv, install cheapgrad, run the bundled lecture spec
# make check - install the dev tools, then lint, type check and the whole test suite
# make check-min - the test suite in a separate venv on the lowest declared dependencies
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run check check-min install dev lint typecheck test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

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

# The floors of pyproject.toml's dependencies, pinned (tests/test_floors.py keeps the two
# equal); not part of `make check`.
MIN_VENV := .venv-min
MIN_DEPS := click==8.0.0 numpy==1.24.0 rich==12.0.0 pyyaml==6.0.1

check-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet $(MIN_DEPS) pytest hypothesis
	$(MIN_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(MIN_VENV)/bin/python -m pip list 2>/dev/null | grep -iE '^(click|numpy|rich|pyyaml) '
	$(MIN_VENV)/bin/pytest -p no:cacheprovider

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(MIN_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
