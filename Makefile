# The two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
PY := .venv/orchestration/bin/python
SOURCE ?=
BATCHES ?= 3
ROWS ?= 1000
IMAGES_UNIT := loader dbt generator soda

.PHONY: setup up ui down airflow-db demo report docs test lint unit images helm-check bench kind-up clean

setup:
	@bash scripts/setup.sh

up: setup
	@bash scripts/stack.sh up

# The real scheduler: api-server, scheduler, dag-processor, triggerer (scripts/airflow.sh)
ui: up
	@bash scripts/airflow.sh up

down:
	@bash scripts/airflow.sh down
	@bash scripts/stack.sh down

airflow-db: up
	@$(ENV) .venv/orchestration/bin/airflow db migrate > $$AIRFLOW_HOME.migrate.log 2>&1 || { tail -20 $$AIRFLOW_HOME.migrate.log; exit 1; }

demo: airflow-db
	@if [ -z "$(SOURCE)" ]; then bash scripts/fetch-data.sh; fi
	@$(ENV) $(PY) scripts/demo.py --source "$(or $(SOURCE),$(CURDIR)/data/superstore.csv)" --batches $(BATCHES) --rows $(ROWS)

# The operations report: reports/index.html (static, opens without a server) from
# the ops tables, the load ledger and the published tables; links the dbt docs.
report: up
	@$(ENV) .venv/orchestration/bin/superstore-report --output reports/index.html --docs reports/dbt-docs/index.html

# dbt's docs as one static page, reports/dbt-docs/index.html (catalog of the published schema)
docs: up
	@$(ENV) .venv/dbt/bin/superstore-dbt docs --output reports/dbt-docs

# Unit tests of each image run in that image's own virtualenv.
unit: up
	@for image in $(IMAGES_UNIT); do \
	  echo "== unit tests: $$image"; \
	  $(ENV) .venv/$$image/bin/python -m pytest -q tests/unit/$$image || exit 1; \
	done

test: lint unit airflow-db
	@$(ENV) $(PY) -m pytest -q tests --ignore=tests/unit

# ruff.toml: one style for all the Python here
lint: setup
	@.venv/orchestration/bin/ruff check . && .venv/orchestration/bin/ruff format --check .

# The four step images (images/Dockerfile) + the Airflow image; IMAGE_TAG=x tags and labels them x
images:
	@bash scripts/images.sh build

# docker-compose.yml started for real (Podman's Docker-compatible API), checked, torn down
compose-check:
	@bash scripts/compose-check.sh

# The charts only (no image builds, no compose; those run in `make test`): helm lint
# --strict against values.schema.json, helm template validated against the Kubernetes
# schema, the Airflow values in sync, step pods built from the chart's pod template, shellcheck
helm-check: setup
	@$(ENV) $(PY) -m pytest -q tests/helm tests/orchestration/test_pod_specs.py --ignore=tests/helm/test_compose.py

bench: airflow-db
	@$(ENV) $(PY) bench/run.py

kind-up:
	@bash scripts/kind-up.sh

clean: down
	rm -rf .stack reports
