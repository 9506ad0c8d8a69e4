# 交界协同 — two commands: `make run` (set everything up and serve) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
FLASK := $(BIN)/flask --app wsgi

.PHONY: setup run scheduler test lint typecheck system-deps venv db bench clean

## setup: everything `run` does except serving (cheap when nothing changed)
setup: system-deps venv db

## run: set up and serve on http://$(HOST):$(PORT) with the embedded SpatiaLite database
run: setup
	@echo "serving on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile - wsgi:app

## scheduler: the one scheduler process (SLA sweep, webhook delivery, roster drafts and reminders) — next to `make run`
scheduler: setup
	$(FLASK) scheduler run

## test: lint, format check, type check and the test suite (TEST_DATABASE_URL selects PostGIS)
test: system-deps venv lint typecheck
	$(BIN)/pytest

system-deps:
	@scripts/install-system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

db: venv
	$(FLASK) db upgrade
	$(FLASK) seed demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

## bench: benchmarks (ratios against baselines measured in the same run; see docs/performance.md).
## BENCH_POSTGIS_URL: a disposable PostGIS database (geolocate, case list, dedup: 1e6 cases) whose user may
## create databases (intake.py creates and drops its own on that server); BENCH_BEFORE=REF: intake also
## side by side with REF
bench: venv
	@scripts/install-system-deps.sh --bench $(if $(BENCH_POSTGIS_URL),--postgis)
	$(BIN)/python bench/geolocate.py $(if $(BENCH_POSTGIS_URL),--postgis-url $(BENCH_POSTGIS_URL))
	$(BIN)/python bench/http_geolocate.py
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/intake.py --pg-url $(BENCH_POSTGIS_URL) \
		$(if $(BENCH_BEFORE),--before $(BENCH_BEFORE)))
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/case_list.py --database-url $(BENCH_POSTGIS_URL))
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/dedup.py --database-url $(BENCH_POSTGIS_URL))
	@# 60 s mixed load (intake, inbox, claims, case pages, geolocate, map) by wrk against gunicorn
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/load.py --database-url $(BENCH_POSTGIS_URL))
	@# roster.py exits 1 while its targets (gap ≤ 1 % in 30 s, greedy never better) are not met
	-$(BIN)/python bench/roster.py
	@# the review fills its own synthetic cases (REV-…): give it a database of its own
	$(if $(BENCH_REVIEW_URL),$(BIN)/python bench/review.py --database-url $(BENCH_REVIEW_URL))

clean:
	rm -rf $(VENV) instance *.egg-info .mypy_cache .ruff_cache .pytest_cache
