# The README's commands. Each creates .venv when absent and installs the kit into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.dcai-al-installed

.PHONY: run test lint lab release benchmarks clean

run: $(STAMP)  ## every lab's experiments, headless, on the offline data -> results/
	MPLBACKEND=Agg $(BIN)/dcai-al run $(ARGS)

test: $(STAMP) lint  ## lint, format check and the whole test suite
	PATH="$(CURDIR)/$(BIN):$$PATH" MPLBACKEND=Agg $(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)  ## ruff's rules and its formatting, over the whole repository
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lab: $(STAMP)  ## JupyterLab on labs/, with a kernel that has the kit installed and the student settings
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter/student" $(BIN)/jupyter lab labs/

release: $(STAMP)  ## regenerate labs/ from solutions/ through nbgrader
	$(BIN)/dcai-al release

benchmarks: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

$(STAMP): pyproject.toml requirements.lock
	@# Grading runs each student's kernel in bubblewrap: install it where it is missing and we may (root, apt).
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } \
		|| echo "note: bubblewrap (bwrap) is missing; grading needs it: sudo apt-get install bubblewrap"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[test]"
	touch $(STAMP)

clean:
	rm -rf results .pytest_cache .ruff_cache
