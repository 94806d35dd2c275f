# The two set-up commands of the README: `make grade` and `make test`.
# Both create .venv on first use and install the project into it, with the exact versions of
# constraints.txt (the CPU build of torch that lies on the course machines' disk).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The tests run in parallel on every core (pytest-xdist; JOBS=0 runs them in one process);
# worksteal: an idle worker takes tests queued for a busy one, so long tests do not pile up.
JOBS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(JOBS) --dist worksteal

.PHONY: grade test test-fast lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

grade: $(STAMP)
	$(BIN)/grade $(ARGS)

test: $(STAMP)
	$(PYTEST) $(ARGS)

# The fast tier: everything but the tests marked slow (CI still runs those, in `make test`).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_grade.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
