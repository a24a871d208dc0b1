"""Fixtures: a database of our own on the local PostgreSQL (other suites share
the server), and the superstore-dbt entrypoint run as a real process."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from dbt_warehouse import Warehouse
from stack import conninfo, fresh_database

DATABASE = "test_dbt"
# Not the defaults: proves that every schema name comes from the environment.
SCHEMAS = {
    "WAREHOUSE_STAGING_SCHEMA": "dbt_test_staging",
    "WAREHOUSE_PUBLISHED_SCHEMA": "dbt_test_analytics",
    "WAREHOUSE_OPS_SCHEMA": "dbt_test_ops",
}
ENTRYPOINT = Path(sys.executable).with_name("superstore-dbt")


@pytest.fixture(scope="session")
def warehouse() -> Warehouse:
    fresh_database(DATABASE)
    warehouse = Warehouse(
        conninfo(DATABASE),
        staging=SCHEMAS["WAREHOUSE_STAGING_SCHEMA"],
        published=SCHEMAS["WAREHOUSE_PUBLISHED_SCHEMA"],
        ops=SCHEMAS["WAREHOUSE_OPS_SCHEMA"],
    )
    warehouse.reset()
    return warehouse


@dataclass(frozen=True)
class StepRun:
    returncode: int
    stderr: str
    result: dict | None
    target_dir: Path


@pytest.fixture(scope="session")
def dbt_step(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., StepRun]:
    """Run `superstore-dbt ARGS` against our database; env overrides settings.
    keep_target: dbt's target/ goes where the test can read it, instead of
    the entrypoint's own temp dir."""

    def run(*args: str, keep_target: bool = True, **env: str) -> StepRun:
        scratch = tmp_path_factory.mktemp("dbt-step")
        kept = {"DBT_TARGET_PATH": str(scratch / "target")} if keep_target else {}
        process = subprocess.run(
            [str(ENTRYPOINT), *args],
            env={
                **os.environ,
                "WAREHOUSE_DB": DATABASE,
                **SCHEMAS,
                "XCOM_RETURN_PATH": str(scratch / "return.json"),
                **kept,
                **env,
            },
            capture_output=True,
            text=True,
            check=False,
        )
        result_file = scratch / "return.json"
        return StepRun(
            returncode=process.returncode,
            stderr=process.stderr,
            result=json.loads(result_file.read_text()) if result_file.exists() else None,
            target_dir=scratch / "target",
        )

    return run
