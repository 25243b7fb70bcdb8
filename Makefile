# Một Cửa — two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATABASE_URL ?= sqlite:///./data/motcua.db

.PHONY: run test test-postgres install migrate demo openapi lint bench clean

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
run: demo
	MOTCUA_ENV=dev MOTCUA_SIMULATION=true MOTCUA_ADMIN_USERNAME=admin MOTCUA_ADMIN_PASSWORD=Admin@123456 \
	MOTCUA_POSTAL_WEBHOOK_SECRET=dev-postal-secret MOTCUA_DATABASE_URL=$(DEMO_DATABASE_URL) \
	$(BIN)/uvicorn service.main:app --host 127.0.0.1 --port 8000

## The whole suite: on temporary SQLite files, or on the database named by MOTCUA_DATABASE_URL when set.
test: install
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

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
