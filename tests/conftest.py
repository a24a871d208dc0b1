"""Shared fixtures for the suites that run in the orchestration virtualenv."""

import os

import pytest


def pytest_configure(config):
    # Settings come from scripts/env.sh (the Makefile sources it).
    missing = [n for n in ("AWS_ENDPOINT_URL", "WAREHOUSE_PASSWORD", "AIRFLOW_HOME") if n not in os.environ]
    if missing:
        raise pytest.UsageError(f"run through `make test` (scripts/env.sh not sourced: {', '.join(missing)} unset)")
