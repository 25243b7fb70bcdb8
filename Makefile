# Một Cửa — two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATABASE_URL ?= sqlite:///./data/motcua.db

SIM_SCENARIO ?= commune
SIM_SEED ?= 1
SIM_DATABASE := data/motcua-sim-$(SIM_SCENARIO)-$(SIM_SEED).db
SIM_DATABASE_URL := sqlite:///./$(SIM_DATABASE)
ifeq ($(SIM),1)
RUN_DATABASE_URL := $(SIM_DATABASE_URL)
RUN_DEPS := demo-sim
else
RUN_DATABASE_URL := $(DEMO_DATABASE_URL)
RUN_DEPS := demo
endif

.PHONY: run test test-postgres install migrate demo demo-sim openapi lint bench clean bulk bench-stats bench-events

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
	MOTCUA_WEBHOOK_ALLOW_PRIVATE=true \
	$(BIN)/motcua serve --host 127.0.0.1 --port $(or $(PORT),8000)

## The whole suite: on temporary SQLite files, or on the database named by MOTCUA_DATABASE_URL when set.
test: install
	$(BIN)/ruff check service tests bench
	$(BIN)/mypy
	$(BIN)/python -m service.openapi --check
	$(BIN)/pytest -n 2 --dist loadfile

## The same suite on PostgreSQL (each pytest worker gets its own database next to the one named here).
test-postgres: install
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

## Add N generated dossiers with full histories to the demo database: make bulk N=20000 FROM=2025-01-01 TO=2025-12-31
bulk: demo
	$(BIN)/python -m service.bulk --database-url $(DEMO_DATABASE_URL) -n $(or $(N),10000) \
		--from $(or $(FROM),2025-01-01) --to $(or $(TO),2025-12-31) --workers 2

## A demo database holding a simulated year (motcua simulate --scenario $(SIM_SCENARIO) --seed $(SIM_SEED)), built
## once into $(SIM_DATABASE) (under a minute for the commune, about ten for the province) and migrated on each use.
demo-sim: $(SIM_DATABASE)
	MOTCUA_DATABASE_URL=$(SIM_DATABASE_URL) $(BIN)/alembic upgrade head

$(SIM_DATABASE): | $(STAMP)
	mkdir -p data
	rm -f $@.partial $@.partial-wal $@.partial-shm
	$(BIN)/motcua simulate --scenario $(SIM_SCENARIO) --seed $(SIM_SEED) --database-url sqlite:///./$@.partial
	mv $@.partial $@

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
