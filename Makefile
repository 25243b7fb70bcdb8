# Một Cửa — two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATABASE_URL ?= sqlite:///./data/motcua.db

SIM_SCENARIO ?= commune
SIM_SEED ?= 1
## SIM_SIGN=0 builds the year without signing its results (minutes instead of ~25, but the index's e-result
## indicators are then 0); SIM_SIGN=1 signs them whatever the scenario says; empty: the scenario's [results] sign.
SIM_SIGN ?=
SIM_SIGN_FLAG := $(if $(filter 0,$(SIM_SIGN)),--no-sign-results,$(if $(filter 1,$(SIM_SIGN)),--sign-results,))
SIM_DATABASE := data/motcua-sim-$(SIM_SCENARIO)-$(SIM_SEED)$(if $(SIM_SIGN),-sign$(SIM_SIGN)).db
SIM_DATABASE_URL := sqlite:///./$(SIM_DATABASE)
## Local frontends (Vite's and Create React App's / Next.js's dev servers) may call the API under `make run`.
RUN_CORS_ORIGINS ?= http://localhost:5173,http://localhost:3000,http://127.0.0.1:5173,http://127.0.0.1:3000
ifeq ($(SIM),1)
RUN_DATABASE_URL := $(SIM_DATABASE_URL)
RUN_DEPS := demo-sim
else
RUN_DATABASE_URL := $(DEMO_DATABASE_URL)
RUN_DEPS := demo
endif

.PHONY: run test test-postgres browser client-ts install migrate demo demo-sim openapi lint bench clean bulk bench-stats bench-events \
	wrk bench-hotpath bench-memory

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	mkdir -p data
	MOTCUA_DATABASE_URL=$(DEMO_DATABASE_URL) $(BIN)/alembic upgrade head

demo: migrate
	MOTCUA_DATABASE_URL=$(DEMO_DATABASE_URL) $(BIN)/motcua demo

## Serve the demo on http://127.0.0.1:8000 (SQLite, simulated clock, dev secrets).
## `make run SIM=1` serves a simulated year instead (SIM_SCENARIO=commune|province, SIM_SEED=1; see demo-sim).
run: $(RUN_DEPS)
	MOTCUA_ENV=dev MOTCUA_SIMULATION=true MOTCUA_ADMIN_USERNAME=admin MOTCUA_ADMIN_PASSWORD=Admin@123456 \
	MOTCUA_POSTAL_WEBHOOK_SECRET=dev-postal-secret MOTCUA_DATABASE_URL=$(RUN_DATABASE_URL) \
	MOTCUA_WEBHOOK_ALLOW_PRIVATE=true MOTCUA_CORS_ORIGINS=$(RUN_CORS_ORIGINS) \
	$(BIN)/motcua serve --host 127.0.0.1 --port $(or $(PORT),8000)

## Debian's Chromium for the browser tests (tests/e2e); installed with apt-get when missing and possible, else
## those tests are skipped with a message saying so. Playwright never downloads a browser of its own.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing and apt-get is not usable here: the browser tests will be skipped"; fi; \
	fi

## The TypeScript client: generated from openapi/openapi.json by the pinned generator (clients/typescript), then
## type-checked; tests/e2e/test_typescript_client.py runs its flow against a served copy.
client-ts:
	@if command -v npm >/dev/null 2>&1; then \
	  cd clients/typescript && \
	  { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && \
	  npm run --silent generate >/dev/null && npm run --silent typecheck && echo "TypeScript client generated and type-checked"; \
	else echo "npm is missing: the TypeScript client is not generated (its test will be skipped)"; fi

## The whole suite: on temporary SQLite files, or on the database named by MOTCUA_DATABASE_URL when set.
test: install browser client-ts
	$(BIN)/ruff check service tests bench
	$(BIN)/mypy
	$(BIN)/python -m service.openapi --check
	$(BIN)/pytest -n 2 --dist loadfile

## The same suite on PostgreSQL (each pytest worker gets its own database next to the one named here).
test-postgres: install browser client-ts
	MOTCUA_DATABASE_URL=$${MOTCUA_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	$(BIN)/pytest -n 2 --dist loadfile

openapi: install
	$(BIN)/python -m service.openapi

lint: install
	$(BIN)/ruff check service tests bench

bench: install
	$(BIN)/python bench/bench_due_dates.py

## Events benchmark (webhook rate with 1 and 2 workers, outbox cost, latency, SSE); needs a scratch PostgreSQL.
bench-events: install
	$(BIN)/python bench/bench_events.py

## Statistics benchmark: yearly/quarterly reports at 100k and 1M dossiers, SQLite and PostgreSQL (slow first run).
bench-stats: install
	$(BIN)/python bench/bench_stats.py

## Debian's wrk, the load generator of the hot-path benchmarks (light on CPU: the server shares the machine with
## it); installed with apt-get when missing (as root), as `make browser` does for Chromium.
wrk:
	@if ! command -v wrk >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is missing and apt-get is not usable here: install Debian's wrk" >&2; exit 1; fi; \
	fi

## Hot path under load (wrk, 16 connections): /health vs submit and the officers' actions, on SQLite and on
## PostgreSQL (1 and 2 workers); PG_URL names a scratch database whose public schema is dropped.
bench-hotpath: install wrk
	$(BIN)/python bench/bench_hotpath.py $(if $(PG_URL),--pg-url $(PG_URL))

## Memory: a worker's RSS after 1,000 and after 100,000 requests (REQUESTS=100000; PG_URL as above).
bench-memory: install wrk
	$(BIN)/python bench/bench_memory.py $(if $(REQUESTS),--requests $(REQUESTS)) $(if $(PG_URL),--pg-url $(PG_URL))

## Add N generated dossiers with full histories to the demo database: make bulk N=20000 FROM=2025-01-01 TO=2025-12-31
bulk: demo
	$(BIN)/python -m service.bulk --database-url $(DEMO_DATABASE_URL) -n $(or $(N),10000) \
		--from $(or $(FROM),2025-01-01) --to $(or $(TO),2025-12-31) --workers 2

## A demo database holding a simulated year (motcua simulate --scenario $(SIM_SCENARIO) --seed $(SIM_SEED)), built
## once into $(SIM_DATABASE) (the commune signs every result: ~25 minutes on a quiet machine and 1.6 GB; the province
## signs none: about fifteen minutes) and migrated on each use.
demo-sim: $(SIM_DATABASE)
	MOTCUA_DATABASE_URL=$(SIM_DATABASE_URL) $(BIN)/alembic upgrade head

$(SIM_DATABASE): | $(STAMP)
	mkdir -p data
	rm -f $@.partial $@.partial-wal $@.partial-shm
	MOTCUA_ENV=dev $(BIN)/motcua simulate --scenario $(SIM_SCENARIO) --seed $(SIM_SEED) $(SIM_SIGN_FLAG) \
		--database-url sqlite:///./$@.partial
	mv $@.partial $@

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis test-artefacts clients/typescript/node_modules clients/typescript/generated clients/typescript/dist
