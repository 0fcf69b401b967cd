# scaleup — the two commands of the README, and a few more.
#   make demo   set up .venv and run the calculator on the bundled sample register
#   make test   set up .venv and run the test suite (what .ci/run calls)
#   make serve  set up .venv and serve the web app on http://127.0.0.1:8000 (the award ledger: ./scaleup.db)
# Another Python gets its own virtual environment, so the default .venv is left alone:
#   make test PYTHON=~/.pyenv/versions/3.10.13/bin/python VENV=.venv-3.10
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
AS_OF  ?= 2024-12-31

# durable_rules 2.0.28 (its last release, sdist only) calls PyEval_CallObject, which Python 3.13
# removed. Aliasing it to PyObject_CallObject lets the C extension build on 3.10-3.13 unchanged
# (on 3.10-3.12 the headers redefine it; the compiler only warns).
export CPPFLAGS := $(CPPFLAGS) -DPyEval_CallObject=PyObject_CallObject

.PHONY: install demo test test-deep bench serve clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,columnar]'
	# An editable install leaves the project's modules uncompiled, and where PYTHONDONTWRITEBYTECODE is
	# set (CI images, this machine) every run compiled all of them again: ~0.1 s of each command's start.
	# Compiled once here, as pip does for a regular install (a module edited later is recompiled in memory).
	$(BIN)/python -m compileall -q cli.py cli_support.py engine web
	touch $(STAMP)

demo: $(STAMP)
	@echo "== scaleup policy list"
	@$(BIN)/scaleup policy list
	@echo
	@echo "== scaleup check examples/register.csv --as-of $(AS_OF)"
	@$(BIN)/scaleup check examples/register.csv --as-of $(AS_OF)
	@echo
	@echo "== scaleup explain 915001017N0TR346AU examples/register.csv --as-of $(AS_OF)   (one enterprise; first decisions shown)"
	@$(BIN)/scaleup explain 915001017N0TR346AU examples/register.csv --as-of $(AS_OF) | head -40
	@echo
	@echo "== scaleup awards examples/register.csv --year 2024 --by town   (dry run: no ledger is written)"
	@$(BIN)/scaleup awards examples/register.csv --year 2024 --by town --ledger $(VENV)/demo-ledger.db | tail -16
	@echo
	@echo "== scaleup targets examples/register.csv --as-of $(AS_OF)   (the plan's annex beside the register)"
	@$(BIN)/scaleup targets examples/register.csv --as-of $(AS_OF) | head -24

# The suite runs in one pytest-xdist worker per logical CPU (TEST_WORKERS=0: one process, no xdist).
# --dist loadfile keeps a file's tests in one worker, so a module-scoped fixture (a register checked
# once, a generated ledger) is built once, not once per worker.
TEST_WORKERS ?= logical
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test: $(STAMP)
	$(PYTEST)

# make serve                  http://127.0.0.1:8000, the award ledger in $(DATA)/scaleup.db
# make serve PORT=8080 DATA=~/scaleup-data
PORT ?= 8000
DATA ?= .
serve: $(STAMP)
	$(BIN)/scaleup serve --port $(PORT) --data $(DATA)

test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(PYTEST)

# make bench                         sizes 1k, 10k, 100k (bench/README.md)
# make bench SIZES=1k,10k,100k,1m    any sizes; ARGS="--profile" etc. for more options of bench/run.py
bench: $(STAMP)
	# Modules edited since the install compiled again first: where PYTHONDONTWRITEBYTECODE is set, every
	# command the benchmark times would compile them from source in its start-up (~65 ms for a few modules).
	$(BIN)/python -m compileall -q cli.py cli_support.py engine web
	$(BIN)/python bench/run.py $(if $(SIZES),--sizes $(SIZES)) $(ARGS)

clean:
	rm -rf $(VENV) .venv-3.* build *.egg-info .pytest_cache .hypothesis
