# Each target creates .venv on a fresh machine that has only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(BIN)/uv

# The lowest end of the supported range: Python 3.11 and every direct dependency at its
# floor (uv's lowest-direct resolution); scripts/check_floors.py then proves the floors in
# pyproject.toml are exactly what was installed.
LOWEST := .venv-lowest
# Python 3.13 with the newest dependencies. uv finds a python3.13 on PATH (or downloads
# one); pyenv's shims answer only for the selected version, so ask pyenv where 3.13 lives.
PY313_PREFIX := $(shell pyenv prefix 3.13 2>/dev/null)
PY313 ?= $(if $(PY313_PREFIX),$(PY313_PREFIX)/bin/python3.13,3.13)
VENV313 := .venv-py313

# Each run gets its own temp dir: runs go in parallel, and pytest prunes shared ones.
PYTEST_TMP := .pytest-tmp
# The lowest and 3.13 runs leave out the slowest suites (fault matrix, notebooks: -m slow).
FAST := -m "not slow and not live"

.PHONY: demo test test-matrix lint types pytest pytest-lowest pytest-py313 bench chaos mutation screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(LOWEST)/.installed: pyproject.toml $(STAMP)
	rm -rf $(LOWEST)
	$(UV) venv --quiet $(LOWEST) -p 3.11
	$(UV) pip install --quiet -p $(LOWEST)/bin/python --resolution lowest-direct -e '.[dev]'
	$(LOWEST)/bin/python scripts/check_floors.py
	touch $@

$(VENV313)/.installed: pyproject.toml $(STAMP)
	rm -rf $(VENV313)
	$(UV) venv --quiet $(VENV313) -p $(PY313)
	$(UV) pip install --quiet -p $(VENV313)/bin/python -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(BIN)/mailtrap-pandas demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

types: $(STAMP)
	$(BIN)/mypy

# Newest versions, Python of $(PYTHON): the whole suite.
pytest: $(STAMP)
	mkdir -p $(PYTEST_TMP)
	$(BIN)/python -m pytest --basetemp=$(PYTEST_TMP)/newest

# Lowest versions, Python 3.11: everything but the slow suites.
pytest-lowest: $(LOWEST)/.installed
	$(LOWEST)/bin/python scripts/check_floors.py
	mkdir -p $(PYTEST_TMP)
	$(LOWEST)/bin/python -m pytest --basetemp=$(PYTEST_TMP)/lowest $(FAST)

# Newest versions, Python 3.13: everything but the slow suites.
pytest-py313: $(VENV313)/.installed
	mkdir -p $(PYTEST_TMP)
	$(VENV313)/bin/python -m pytest --basetemp=$(PYTEST_TMP)/py313 $(FAST)

# Both runs wait on the emulator far more than they compute, so they share the cores;
# --output-sync keeps each run's report in one piece.
test: lint types
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest pytest-lowest

# make test plus the Python 3.13 run: three runs do not fit CI's 25 minutes on 2 cores.
test-matrix: lint types
	$(MAKE) --no-print-directory -j3 --output-sync=target pytest pytest-lowest pytest-py313

# Long chaos runs: N new random schedules (tests/reliability/test_chaos.py); a failing
# schedule is saved in tests/reliability/chaos-db, which `make test` replays.
N ?= 1000
chaos: $(STAMP)
	CHAOS_RANDOM=1 CHAOS_EXAMPLES=$(N) $(BIN)/python -m pytest -q tests/reliability/test_chaos.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks

# Mutation testing of the core modules (not part of `make test`: it takes minutes). The modules
# and their tests are in pyproject.toml; `make mutation MODULES="retry dtypes"` runs some of them.
# One mutant at a time, niced: the machine is shared.
MODULES ?=
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	nice -n 15 $(BIN)/python scripts/mutation.py --max-children 1 $(MODULES)

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) $(LOWEST) $(VENV313) $(PYTEST_TMP) mutants .mutation build *.egg-info .pytest_cache .mypy_cache .ruff_cache
