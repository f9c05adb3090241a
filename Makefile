# Lumbung: `make demo` and `make test` on a fresh machine with Python 3.11.
# uv comes from PyPI when it is not on PATH; the locked environment is synced before anything.

SHELL := /bin/bash
PYTHON ?= python3.11
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
RUN := $(UV) run --frozen --no-sync

.PHONY: demo test sync lint bench stress fuzz clean help

help:
	@echo "make demo   sample spreadsheets of every source -> the embedded warehouse"
	@echo "make test   the whole test suite against a real embedded PostgreSQL"
	@echo "make bench  SPEC 9's figures and ratios on generated 100k and 1M-row PMM workbooks"
	@echo "make stress SPEC 10's crash and concurrency tests on large files (kill -9 mid-load)"
	@echo "make fuzz   the reader on 3,000 mutated files of every format (make test tries 40)"
	@echo "make lint   ruff"

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

sync: .venv/.synced

demo: sync
	$(RUN) lumbung demo

test: sync
	$(RUN) pytest

lint: sync
	$(RUN) ruff check ingestion tests bench

bench: sync
	$(RUN) python bench/run.py

fuzz: sync
	LUMBUNG_FUZZ_EXAMPLES=3000 $(RUN) pytest tests/unit/test_fuzz_reader.py

stress: sync
	LUMBUNG_CRASH_ROWS=300000 $(RUN) pytest tests/integration/test_crash.py \
		tests/integration/test_concurrency.py

clean:
	-$(RUN) lumbung airflow down
	-$(RUN) lumbung warehouse down
	rm -rf .lumbung
