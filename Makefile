# The two set-up commands of the README: `make grade` and `make test`.
# Each creates .venv on first use and installs what its command needs, with the exact versions of
# constraints.txt (the CPU build of torch that lies on the course machines' disk):
#   make grade   the engine alone (torch, numpy, pytest, click, rich, watchfiles)
#   make test    the engine with the dev extra (matplotlib, nbgrader and Jupyter, ruff, mypy)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORE := $(VENV)/.installed-core
DEV := $(VENV)/.installed-dev

# The tests run in parallel on every core (pytest-xdist; JOBS=0 runs them in one process);
# worksteal: an idle worker takes tests queued for a busy one, so long tests do not pile up.
JOBS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(JOBS) --dist worksteal

.PHONY: grade test test-fast lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(CORE)

$(DEV): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(CORE) $(DEV)

grade: $(CORE)
	$(BIN)/grade $(ARGS)
	@echo "(grade is $(BIN)/grade: 'source $(BIN)/activate' puts it on your PATH for the commands in README.md)" >&2

test: $(DEV)
	$(PYTEST) $(ARGS)

# The fast tier: everything but the tests marked slow (CI still runs those, in `make test`).
test-fast: $(DEV)
	$(PYTEST) -m "not slow" $(ARGS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(DEV)
	$(BIN)/python bench/bench_grade.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
