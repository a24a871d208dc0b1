"""Fixtures: a database, schemas and a bucket of our own on the local stack
(other suites share the servers); the raw layer filled by the real loader
entrypoint; the superstore-dbt entrypoint run as a real process."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from dbt_warehouse import Warehouse
from stack import conninfo, drop_database, fresh_database

RUN = uuid.uuid4().hex[:8]
DATABASE = f"test_dbt_{RUN}"  # two sessions at once never share it
# Not the defaults: proves that every schema name comes from the environment.
SETTINGS = {
    "WAREHOUSE_DB": DATABASE,
    "WAREHOUSE_RAW_SCHEMA": "dbt_test_raw",
    "WAREHOUSE_STAGING_SCHEMA": "dbt_test_staging",
    "WAREHOUSE_PUBLISHED_SCHEMA": "dbt_test_analytics",
    "WAREHOUSE_OPS_SCHEMA": "dbt_test_ops",
    "RAW_BUCKET": f"dbt-test-{RUN}",
}
ENTRYPOINT = Path(sys.executable).with_name("superstore-dbt")


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Warehouse:
    fresh_database(DATABASE)
    env = {**os.environ, **SETTINGS}
    warehouse = Warehouse(conninfo(DATABASE), env)
    warehouse.s3.create_bucket(Bucket=SETTINGS["RAW_BUCKET"])
    warehouse.loader("create-schemas", result_path=tmp_path_factory.mktemp("loader") / "return.json")
    yield warehouse
    bucket = boto3.resource("s3").Bucket(SETTINGS["RAW_BUCKET"])
    bucket.objects.all().delete()
    bucket.delete()
    drop_database(DATABASE)


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
            env={**warehouse.env, "XCOM_RETURN_PATH": str(scratch / "return.json"), **kept, **env},
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


@pytest.fixture
def result_path(tmp_path) -> Path:
    return tmp_path / "return.json"
