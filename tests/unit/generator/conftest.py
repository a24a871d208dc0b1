"""Fixtures for the generator's tests: a bucket of our own on the moto server
holding the real Superstore file as reference, a database of our own on the
local PostgreSQL, and the superstore-generator entrypoint run as a process."""

import csv
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import boto3
import pytest
from stack import drop_database, fresh_database, set_env, source_csv
from superstore_generator.profile import Profile

SOURCE_FILE = source_csv()  # the Kaggle copy beside the repo, or the public one
SESSION = uuid.uuid4().hex[:8]  # two sessions at once never share a bucket or database
BUCKET = f"generator-test-{SESSION}"
REFERENCE_KEY = "raw/initial/superstore.csv"
REFERENCE_URI = f"s3://{BUCKET}/{REFERENCE_KEY}"
DATABASE = f"test_generator_{SESSION}"
# Not the defaults: proves that names come from the environment.
PUBLISHED_SCHEMA = "generator_test_analytics"
ENTRYPOINT = Path(sys.executable).with_name("superstore-generator")
# Every distribution a reference learns: what the reference tests compare.
PROFILE_FIELDS = tuple(field.name for field in fields(Profile))


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
    s3.delete_bucket(Bucket=BUCKET)


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """Our own database; its published schema starts absent."""
    fresh_database(DATABASE)
    yield DATABASE
    drop_database(DATABASE)


@pytest.fixture
def step_env(database: str, reference_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for a generator run: our bucket, our database, a local XCom
    file."""
    settings = {
        "RAW_BUCKET": BUCKET,
        "WAREHOUSE_DB": database,
        "WAREHOUSE_PUBLISHED_SCHEMA": PUBLISHED_SCHEMA,
        "XCOM_RETURN_PATH": str(tmp_path / "return.json"),
    }
    return set_env(monkeypatch, settings)


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
