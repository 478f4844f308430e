# kerasbuild developer commands. `make demo` and `make test` work on a fresh machine:
# both create the virtual environment first when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint bench bench-quick docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[cpu,test,export]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kerasbuild train specs/nielsen_dropout.yaml --set train.max_epochs=12 --run-dir runs/demo --overwrite
	$(BIN)/kerasbuild export runs/demo --out models/nielsen_dropout

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=40

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m 'not slow'

lint: $(STAMP)
	$(BIN)/ruff check kerasbuild tests bench tools
	$(BIN)/lint-imports

bench: $(STAMP)
	cd bench && for b in bench_validate bench_build bench_train bench_export bench_gpu; do \
		../$(BIN)/python $$b.py --json results.jsonl || exit 1; done

bench-quick: $(STAMP)
	cd bench && for b in bench_validate bench_build bench_train bench_export bench_gpu; do \
		../$(BIN)/python $$b.py --quick || exit 1; done

docs: $(STAMP)
	$(BIN)/python -m kerasbuild.docs docs/spec-reference.md

clean:
	rm -rf $(VENV) runs models .pytest_cache
