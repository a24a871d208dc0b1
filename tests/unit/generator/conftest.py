"""Fixtures for the generator's tests: a bucket of our own on the moto server
holding the real Superstore file as reference, a database of our own on the
local PostgreSQL, and the superstore-generator entrypoint run as a process."""

import csv
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
from psycopg import sql
from stack import conninfo

SOURCE_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "superstore-kaggle.csv"
BUCKET = "generator-test"
REFERENCE_KEY = "raw/initial/superstore.csv"
REFERENCE_URI = f"s3://{BUCKET}/{REFERENCE_KEY}"
DATABASE = "test_generator"
# Not the defaults: proves that names come from the environment.
PUBLISHED_SCHEMA = "generator_test_analytics"
ENTRYPOINT = Path(sys.executable).with_name("superstore-generator")


def pytest_configure(config):
    missing = [name for name in ("AWS_ENDPOINT_URL", "WAREHOUSE_PASSWORD") if name not in os.environ]
    if missing:
        raise pytest.UsageError(
            f"`source scripts/env.sh` and `bash scripts/stack.sh up` first ({', '.join(missing)} unset)"
        )


@pytest.fixture(scope="session")
def source_rows() -> list[dict[str, str]]:
    with SOURCE_FILE.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="session")
def s3():
    return boto3.client("s3")


def empty_bucket(s3) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        if keys := [{"Key": item["Key"]} for item in page.get("Contents", [])]:
            s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


@pytest.fixture(scope="session")
def reference_uri(s3) -> Iterator[str]:
    """The real data set as reference file, in a bucket of our own (the
    shared bucket's incoming/ prefix feeds other suites' queue), emptied
    before and after the session (moto keeps objects in memory)."""
    if BUCKET not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)
    empty_bucket(s3)
    s3.upload_file(str(SOURCE_FILE), BUCKET, REFERENCE_KEY)
    yield REFERENCE_URI
    empty_bucket(s3)


@pytest.fixture(scope="session")
def database() -> str:
    """Our own database; its published schema starts absent."""
    with psycopg.connect(conninfo(os.environ["WAREHOUSE_DB"]), autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(DATABASE)))
    with psycopg.connect(conninfo(DATABASE), autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PUBLISHED_SCHEMA)))
    return DATABASE


@pytest.fixture
def step_env(database: str, reference_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for a generator run: our bucket, our database, a local XCom
    file. Set in os.environ too, for in-process use of the package."""
    settings = {
        "RAW_BUCKET": BUCKET,
        "WAREHOUSE_DB": database,
        "WAREHOUSE_PUBLISHED_SCHEMA": PUBLISHED_SCHEMA,
        "XCOM_RETURN_PATH": str(tmp_path / "return.json"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


@dataclass(frozen=True)
class StepRun:
    returncode: int
    stderr: str
    result: dict | None


@pytest.fixture
def generate(step_env: dict[str, str]) -> Callable[..., StepRun]:
    """Run `superstore-generator generate ARGS` as a process."""

    def run(*args: str, **env: str) -> StepRun:
        result_path = Path(step_env["XCOM_RETURN_PATH"])
        result_path.unlink(missing_ok=True)
        done = subprocess.run(
            [str(ENTRYPOINT), "generate", *args],
            env={**step_env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        return StepRun(done.returncode, done.stderr, result)

    return run


@pytest.fixture
def read_object(s3) -> Callable[[str], bytes]:
    return lambda key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
