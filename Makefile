# make run   - create .venv, install cheapgrad, run the bundled lecture spec
# make check - install the dev tools, then lint, type check and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run check install dev lint typecheck test bench clean

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

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
