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

.PHONY: setup run scheduler test lint typecheck system-deps venv db bench clean messages

## setup: everything `run` does except serving (cheap when nothing changed)
setup: system-deps venv db

## run: set up and serve on http://$(HOST):$(PORT) with the embedded SpatiaLite database
run: setup
	@echo "serving on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile - wsgi:app

## scheduler: the one scheduler process (SLA sweep, webhook delivery, roster drafts and reminders) — next to `make run`
scheduler: setup
	$(FLASK) scheduler run

## test: lint, format check, type check and the test suite (TEST_DATABASE_URL selects PostGIS); the
## browser tests (tests/web) need Chromium and a CJK font: installed here
test: system-deps venv lint typecheck
	@scripts/install-system-deps.sh --browser
	$(BIN)/pytest

system-deps:
	@scripts/install-system-deps.sh

venv: $(STAMP)

# Exactly the pinned versions of requirements.lock (scripts/lock.sh compiles it from pyproject.toml),
# then the project itself without resolving again.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e '.[dev]'
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
## BENCH_POSTGIS_URL: a disposable PostGIS database (geolocate, case list, dedup, map: 1e6 cases) whose user may
## create databases (intake.py and alerts.py create and drop their own on that server); BENCH_BEFORE=REF: intake also
## side by side with REF
bench: venv
	@scripts/install-system-deps.sh --bench $(if $(BENCH_POSTGIS_URL),--postgis)
	@# these two exit 1 when a target is missed on this machine: the benchmarks after them run anyway
	-$(BIN)/python bench/geolocate.py $(if $(BENCH_POSTGIS_URL),--postgis-url $(BENCH_POSTGIS_URL))
	-$(BIN)/python bench/http_geolocate.py
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/intake.py --pg-url $(BENCH_POSTGIS_URL) \
		$(if $(BENCH_BEFORE),--before $(BENCH_BEFORE)))
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/case_list.py --database-url $(BENCH_POSTGIS_URL))
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/dedup.py --database-url $(BENCH_POSTGIS_URL))
	@# the map's case layer: SpatiaLite (instance/bench_map.sqlite, 1e6 cases) and, with the URL, PostGIS
	$(BIN)/python bench/map.py $(if $(BENCH_POSTGIS_URL),--postgis-url $(BENCH_POSTGIS_URL))
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/alerts.py --pg-url $(BENCH_POSTGIS_URL))
	@# 60 s mixed load (intake, inbox, claims, case pages, geolocate, map) by wrk against gunicorn
	$(if $(BENCH_POSTGIS_URL),$(BIN)/python bench/load.py --database-url $(BENCH_POSTGIS_URL))
	@# roster.py exits 1 while its targets (gap ≤ 1 % in 30 s, greedy never better) are not met
	-$(BIN)/python bench/roster.py
	@# the review fills its own synthetic cases (REV-…): give it a database of its own
	$(if $(BENCH_REVIEW_URL),$(BIN)/python bench/review.py --database-url $(BENCH_REVIEW_URL))

## messages: extract the web app's messages into its catalogue and compile it (translate the new
## entries of coordinator/web/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then run it again)
messages: venv
	$(BIN)/pybabel extract -F babel.cfg -o instance/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i instance/messages.pot -d coordinator/web/translations -l zh_Hans_CN \
		--ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d coordinator/web/translations -l zh_Hans_CN

clean:
	rm -rf $(VENV) instance *.egg-info .mypy_cache .ruff_cache .pytest_cache test-artifacts
