# The two commands of the README: `make up` and `make test` (and `make down`).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
BAZAAR := $(VENV)/bin/bazaar
PYTEST_ARGS ?=
# demo data `make up` loads into an empty marketplace (scale 1 = 1M listings; 0.02 loads in seconds)
DEMO_SCALE ?= 0.02

.PHONY: help install up down test lint pytest bench drills

help:
	@echo "make up     install what is missing, start the local stack, migrate, load demo data, print how to connect"
	@echo "make test   install what is missing, run linters and the whole test suite"
	@echo "make down   stop the local stack"
	@echo "make bench  the performance benchmarks at scale (not part of make test; about 20 minutes)"
	@echo "make drills the reliability drills, repeated, with a table and timelines (about 25 minutes)"

install:
	@scripts/install.sh

up: install
	@$(BAZAAR) up
	@$(BAZAAR) generate --scale $(DEMO_SCALE) --if-empty

down:
	@if [[ -x $(BAZAAR) ]]; then $(BAZAAR) down; else echo "nothing to stop (no .venv)"; fi

test: install
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory pytest

lint:
	$(VENV)/bin/sqlfluff lint --disable-progress-bar sql/
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy bazaar generator tests
	promtool check rules monitoring/prometheus/rules/*.yml
	promtool test rules monitoring/prometheus/tests/*.yml

pytest:
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Issue 18's measurements, each on servers of its own (never the make up stack): the hot paths at
# scales 0.1 and 1 against a naive schema and pgbench -S, then the mixed workload through
# PgBouncer and HAProxy at 8, 64 and 1,000 clients. JSON in bench/results/, charts in docs/bench/.
BENCH_SCALES ?= 0.1,1
bench: install
	PYTHONPATH=. $(VENV)/bin/python bench/scale.py --scales $(BENCH_SCALES) --seconds 10 \
		--output bench/results/scale.json --plans bench/results/plans --plot docs/bench
	PYTHONPATH=. $(VENV)/bin/python bench/stack.py --scale 0.1 --clients 8,64,1000 --seconds 30 \
		--output bench/results/stack.json --plot docs/bench

# Issue 19's drills on a stack of their own: 20 leader crashes in a row, 20 switchovers under
# PgBouncer's pause, 3 losses of the whole DCS; one trial of each also runs in `make test`
# (tests/cluster). JSON in bench/results/drills.json, timelines in docs/drills/, the table on stderr.
DRILL_COUNTS ?= node-crash=20,switchover=20,etcd-loss=3
drills: install
	PYTHONPATH=. $(VENV)/bin/python bench/failover.py --drills node-crash,switchover,etcd-loss --via pgbouncer --workload \
		--counts $(DRILL_COUNTS) --table --plot docs/drills > bench/results/drills.json
