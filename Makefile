# The two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
PY := .venv/orchestration/bin/python
SOURCE ?=
BATCHES ?= 3
ROWS ?= 1000
IMAGES_UNIT := loader dbt generator soda

.PHONY: help setup up ui down airflow-db demo report docs test lint unit images helm-check bench kind-up clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | awk -F'\t' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## install uv, the virtualenvs and the Debian tools that are missing (idempotent)
	@bash scripts/setup.sh

up: setup ## start the local stack: PostgreSQL + moto (S3, SQS, SNS)
	@bash scripts/stack.sh up

# The real scheduler: api-server, scheduler, dag-processor, triggerer (scripts/airflow.sh)
ui: up ## start Airflow 3 (api-server, scheduler, dag-processor, triggerer) on 127.0.0.1:$AIRFLOW_PORT
	@bash scripts/airflow.sh up

down: ## stop every Airflow process `make ui` started, and the local stack
	@bash scripts/airflow.sh down
	@bash scripts/stack.sh down

airflow-db: up ## migrate the in-process Airflow metadata DB (only when Airflow changed)
	@$(ENV) want=$$(ls -d .venv/orchestration/lib/python*/site-packages/apache_airflow_core-*.dist-info); \
	  if [ -f "$$AIRFLOW_HOME/airflow.db" ] && [ "$$(cat "$$AIRFLOW_HOME/migrated.stamp" 2>/dev/null)" = "$$want" ]; then exit 0; fi; \
	  .venv/orchestration/bin/airflow db migrate > $$AIRFLOW_HOME.migrate.log 2>&1 || { tail -20 $$AIRFLOW_HOME.migrate.log; exit 1; }; \
	  echo "$$want" > "$$AIRFLOW_HOME/migrated.stamp"

demo: airflow-db ## THE MAIN JOB: initial load + $BATCHES incremental batches, summary, report
	@if [ -z "$(SOURCE)" ]; then bash scripts/fetch-data.sh; fi
	@$(ENV) $(PY) scripts/demo.py --source "$(or $(SOURCE),$(CURDIR)/data/superstore.csv)" --batches $(BATCHES) --rows $(ROWS); \
	  status=$$?; $(MAKE) --no-print-directory docs report; exit $$status

# The operations report: reports/index.html (static, opens without a server) from
# the ops tables, the load ledger and the published tables; links the dbt docs.
report: up ## reports/index.html from the ops tables (static; links the dbt docs)
	@$(ENV) .venv/orchestration/bin/superstore-report --output reports/index.html --docs reports/dbt-docs/index.html

# dbt's docs as one static page, reports/dbt-docs/index.html (catalog of the published schema)
docs: up ## dbt docs of the published schema, reports/dbt-docs/index.html
	@$(ENV) .venv/dbt/bin/superstore-dbt docs --output reports/dbt-docs

# Unit tests of each image run in that image's own virtualenv.
unit: up ## each image's unit tests in its own virtualenv
	@for image in $(IMAGES_UNIT); do \
	  echo "== unit tests: $$image"; \
	  $(ENV) .venv/$$image/bin/python -m pytest -q tests/unit/$$image || exit 1; \
	done

test: lint unit airflow-db ## THE TEST COMMAND: lint, unit, then every other suite on the real stack
	@$(ENV) $(PY) -m pytest -q tests --ignore=tests/unit

# ruff.toml: one style for all the Python here
lint: setup ## ruff check + ruff format --check
	@.venv/orchestration/bin/ruff check . && .venv/orchestration/bin/ruff format --check .

# The four step images (images/Dockerfile) + the Airflow image; IMAGE_TAG=x tags and labels them x
images: ## build the four step images and the Airflow image (IMAGE_TAG, default dev)
	@bash scripts/images.sh build

# docker-compose.yml started for real (Podman's Docker-compatible API), checked, torn down
compose-check: ## docker-compose.yml started for real under podman, checked, torn down
	@bash scripts/compose-check.sh

# The charts only (no image builds, no compose; those run in `make test`): helm lint
# --strict against values.schema.json, helm template validated against the Kubernetes
# schema, the Airflow values in sync, step pods built from the chart's pod template, shellcheck
helm-check: setup ## the charts only: lint --strict, schema, templates validated (fast)
	@$(ENV) $(PY) -m pytest -q tests/helm tests/orchestration/test_pod_specs.py --ignore=tests/helm/test_compose.py

bench: airflow-db ## benchmarks: one table of ratios against baselines of the same run
	@$(ENV) $(PY) bench/run.py

kind-up: ## a kind cluster with both charts (machines with Docker and kind)
	@bash scripts/kind-up.sh

clean: down ## stop everything and remove .stack and reports
	rm -rf .stack reports
