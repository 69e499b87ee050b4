# Docket: `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: help setup run worker test test-embedded test-services bench lint format clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

VENDOR := static/vendor/htmx.min.js static/vendor/htmx-ext-sse.min.js static/vendor/codemirror.js

# CodeMirror 6 ships as ES modules: esbuild (pinned in package.json) bundles the parts the rulebook
# editor imports in static/js/codemirror-entry.js into one script. axe-core stays in node_modules,
# where the browser tests read it.
$(VENDOR) &: package.json package-lock.json static/js/codemirror-entry.js
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.min.js static/vendor/htmx-ext-sse.min.js
	node_modules/.bin/esbuild static/js/codemirror-entry.js --bundle --minify --format=iife \
		--global-name=DocketCodeMirror --target=es2020 --log-level=warning --outfile=static/vendor/codemirror.js

setup: $(BIN)/activate $(VENDOR) ## create .venv, install pinned dependencies, htmx, its SSE extension and CodeMirror, create or migrate the database
	$(FLASK) init-db

run: setup ## everything on the embedded defaults (SQLite, embedded Redis, demo data) at http://127.0.0.1:5000
	$(FLASK) serve --demo

worker: setup ## one worker on the configured Redis
	$(BIN)/python -m worker

# The two passes share nothing (each has its own database and queues), so they run side by side;
# each one's output is printed whole when it ends.
test: setup ## the whole suite, on SQLite + embedded Redis and on PostgreSQL + Redis, side by side
	$(MAKE) -j2 --output-sync=target test-embedded test-services

test-embedded: ## the suite on SQLite and an embedded Redis
	DOCKET_TEST_BACKEND=embedded $(BIN)/python -m pytest $(PYTEST_ARGS)

test-services: ## the suite on the local PostgreSQL and Redis
	DOCKET_TEST_BACKEND=services TEST_DATABASE_URL=$(PG_TEST_URL) TEST_REDIS_URL=$(REDIS_TEST_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup ## measure the pipeline's throughput and the task page's speed; prints figures
	$(BIN)/python -m bench

lint: $(BIN)/activate ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/activate ## ruff format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## remove the venv, installed assets and local data
	rm -rf $(VENV) node_modules static/vendor var
