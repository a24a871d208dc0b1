"""Fixtures for the Soda step's tests: the star schema built once per session
by the real pipeline steps (soda_warehouse.py) in a database, a bucket and
schemas of the session's own, spoiled per test and restored after, and the
superstore-soda entrypoint run as a process."""

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import boto3
import pytest
from psycopg import sql
from soda_warehouse import (
    CALENDAR,
    REPO,
    SOURCES,
    Built,
    Pipeline,
    PipelineError,
    Published,
    Sample,
    source_file,
)
from stack import conninfo, fresh_database, set_env

SESSION = uuid.uuid4().hex[:8]
DATABASE = "test_soda"
# Not the defaults: proves that every name comes from the environment.
SETTINGS = {
    "WAREHOUSE_KIND": "postgres",
    "WAREHOUSE_DB": DATABASE,
    "WAREHOUSE_RAW_SCHEMA": "soda_test_raw",
    "WAREHOUSE_STAGING_SCHEMA": "soda_test_staging",
    "WAREHOUSE_PUBLISHED_SCHEMA": "soda_test_analytics",
    "WAREHOUSE_OPS_SCHEMA": "soda_test_ops",
    "RAW_BUCKET": f"soda-test-{SESSION}",
    # The sample's orders are years old (the source's): every date of the
    # calendar dbt publishes counts as fresh here, so that a clean scan has
    # no warning; the freshness tests set their own ages.
    "QUALITY_FRESHNESS_ORDER_DATE_WARN_AFTER": f"{(date.today() - CALENDAR[0]).days + 1}d",
    # No lineage into the shared reports/lineage/ (scripts/env.sh): the
    # lineage test turns it on, into a file of its own.
    "OPENLINEAGE_DISABLED": "true",
}
PUBLISHED_SCHEMA = SETTINGS["WAREHOUSE_PUBLISHED_SCHEMA"]
PRISTINE_SCHEMA = "soda_test_pristine"  # the published tables as dbt built them
ENTRYPOINT = Path(sys.executable).with_name("superstore-soda")


def pytest_configure(config):
    # soda-core still imports distutils
    config.addinivalue_line("filterwarnings", "ignore:The distutils package is deprecated:DeprecationWarning")
    if "WAREHOUSE_PASSWORD" not in os.environ:
        raise pytest.UsageError(
            "`source scripts/env.sh` and `bash scripts/stack.sh up` first (WAREHOUSE_PASSWORD unset)"
        )


@dataclass(frozen=True)
class StarSchema:
    """The published star schema the pipeline built from the sample."""

    sample: Sample
    built: Built
    published: Published
    # {first}, {second}: the load ids; {first_line}, {first_order}, ...: keys
    # of a line of each load (the first load's own: no line of the second
    # points at its customer, product or location), as SQL literals.
    literals: dict[str, sql.Composable]

    @property
    def first(self) -> str:
        return self.built.load_ids[0]

    @property
    def second(self) -> str:
        return self.built.load_ids[1]


@pytest.fixture(scope="session")
def bucket() -> Iterator[str]:
    name = SETTINGS["RAW_BUCKET"]
    s3 = boto3.client("s3")
    try:
        s3.create_bucket(Bucket=name)
    except Exception as error:  # not a skip: these tests need the stack
        pytest.fail(f"moto unreachable at {os.environ.get('AWS_ENDPOINT_URL')} ({error}); `bash scripts/stack.sh up`")
    yield name
    remaining = boto3.resource("s3").Bucket(name)
    remaining.objects.all().delete()
    remaining.delete()


@pytest.fixture(scope="session")
def star_schema(bucket: str, tmp_path_factory: pytest.TempPathFactory) -> StarSchema:
    source = source_file()
    if source is None:
        tried = ", ".join(str(path.relative_to(REPO.parent)) for path in SOURCES)
        pytest.fail(f"no source file ({tried}): `bash scripts/fetch-data.sh` fetches the public one", pytrace=False)
    sample = Sample.read(source)
    fresh_database(DATABASE)
    pipeline = Pipeline({**os.environ, **SETTINGS}, tmp_path_factory.mktemp("pipeline"))
    try:
        built = pipeline.build(sample, run_id=f"soda-tests-{SESSION}")
    except PipelineError as error:
        pytest.fail(str(error), pytrace=False)
    published = Published(conninfo(DATABASE), PUBLISHED_SCHEMA, PRISTINE_SCHEMA)
    published.keep()
    literals: dict[str, sql.Composable] = {"first": sql.Literal(built.load_ids[0])}
    literals["second"] = sql.Literal(built.load_ids[1])
    for name, load_id, own in (("first", built.load_ids[0], True), ("second", built.load_ids[1], False)):
        for key, value in published.keys(load_id, own=own).items():
            literals[f"{name}_{key}"] = sql.Literal(value)
    return StarSchema(sample, built, published, literals)


@pytest.fixture
def spoil(star_schema: StarSchema) -> Iterator[Callable[[str], None]]:
    """Call it with SQL on the published tables (unqualified names, the
    placeholders of StarSchema.literals) to spoil them for this test. dbt's
    unique indexes are dropped first, so duplicates can be made; every
    published table is rebuilt as dbt left it after the test."""
    spoiled = False
    with star_schema.published.connect() as conn:

        def execute(statements: str) -> None:
            nonlocal spoiled
            if not spoiled:
                spoiled = True
                star_schema.published.drop_unique_indexes(conn)
            conn.execute(sql.SQL("set search_path to {}").format(sql.Identifier(PUBLISHED_SCHEMA)))
            conn.execute(sql.SQL(statements).format(**star_schema.literals))

        yield execute
    if spoiled:
        star_schema.published.restore()


@pytest.fixture
def step_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return set_env(monkeypatch, {**SETTINGS, "XCOM_RETURN_PATH": str(tmp_path / "return.json")})


# The Airflow task a scan runs for (Airflow's AIRFLOW_CTX_* names): with
# them, the step records itself under runs/<dag>/<run>/<task>/ in RAW_BUCKET.
TASK = {"AIRFLOW_CTX_DAG_ID": "soda_tests", "AIRFLOW_CTX_TASK_ID": "scan"}


@dataclass(frozen=True)
class StepRun:
    returncode: int
    stderr: str
    result: dict | None
    seconds: float
    record: dict | None = None  # step.json, when the run was a task's
    artifacts: dict | None = None  # name -> parsed JSON

    @property
    def error_line(self) -> str:
        return self.stderr.strip().splitlines()[-1]

    @property
    def error_lines(self) -> list[str]:
        """stderr without the log records (the step logs to stderr too)."""
        return [line for line in self.stderr.strip().splitlines() if line.startswith("error")]


@pytest.fixture
def soda_scan(step_env: dict[str, str], bucket: str) -> Callable[..., StepRun]:
    """Run `superstore-soda scan ARGS` as a process (it records itself in the bucket)."""

    def run(*args: str, recorded: bool = False, env: dict[str, str] | None = None) -> StepRun:
        """recorded: run as an Airflow task's step (a run id of its own) and
        read back what it recorded in the lake."""
        result_path = Path(step_env["XCOM_RETURN_PATH"])
        result_path.unlink(missing_ok=True)
        run_env = {**step_env, **(env or {})}
        if recorded:
            run_env |= {**TASK, "AIRFLOW_CTX_DAG_RUN_ID": f"run-{uuid.uuid4().hex[:8]}"}
        started = time.monotonic()
        done = subprocess.run(
            [str(ENTRYPOINT), "scan", *args], env=run_env, capture_output=True, text=True, timeout=120, check=False
        )
        seconds = time.monotonic() - started
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        if not recorded:
            return StepRun(done.returncode, done.stderr, result, seconds)
        s3 = boto3.client("s3")
        prefix = f"runs/{TASK['AIRFLOW_CTX_DAG_ID']}/{run_env['AIRFLOW_CTX_DAG_RUN_ID']}/{TASK['AIRFLOW_CTX_TASK_ID']}/"
        listed = s3.list_objects_v2(Bucket=SETTINGS["RAW_BUCKET"], Prefix=prefix).get("Contents", [])
        stored = {
            item["Key"].removeprefix(prefix): json.loads(
                s3.get_object(Bucket=SETTINGS["RAW_BUCKET"], Key=item["Key"])["Body"].read()
            )
            for item in listed
        }
        record = stored.pop("step.json", None)
        return StepRun(done.returncode, done.stderr, result, seconds, record, stored)

    return run
