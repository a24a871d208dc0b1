"""Loader tests run against the local stack (real PostgreSQL, moto server),
with the settings of scripts/env.sh (`make unit` sources it).

Isolation from other suites sharing the stack: an S3 bucket and three
warehouse schemas of this test session's own, dropped at the end.
"""

import csv
import functools
import io
import json
import os
import re
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest

REPO = Path(__file__).resolve().parents[3]
LOADER = REPO / ".venv" / "loader" / "bin" / "superstore-loader"
KAGGLE = REPO.parent / "shared" / "data" / "superstore-kaggle.csv"
KAGGLE_ROWS = 9986

RUN_ID = uuid.uuid4().hex[:8]
TEST_SETTINGS = {
    "RAW_BUCKET": f"loader-test-{RUN_ID}",
    "WAREHOUSE_STAGING_SCHEMA": f"loader_test_{RUN_ID}_staging",
    "WAREHOUSE_PUBLISHED_SCHEMA": f"loader_test_{RUN_ID}_analytics",
    "WAREHOUSE_OPS_SCHEMA": f"loader_test_{RUN_ID}_ops",
    "WAREHOUSE_KIND": "postgres",
    "LOG_LEVEL": "INFO",
}


os.environ.update(TEST_SETTINGS)


def connect() -> psycopg.Connection:
    return psycopg.connect(
        host=os.environ["WAREHOUSE_HOST"], port=os.environ["WAREHOUSE_PORT"], dbname=os.environ["WAREHOUSE_DB"],
        user=os.environ["WAREHOUSE_USER"], password=os.environ["WAREHOUSE_PASSWORD"], autocommit=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def s3():
    client = boto3.client("s3")
    try:
        client.create_bucket(Bucket=os.environ["RAW_BUCKET"])
    except Exception as error:  # not a skip: these tests need the stack
        pytest.fail(
            f"moto server unreachable at {os.environ['AWS_ENDPOINT_URL']} ({error}); run `bash scripts/stack.sh up`"
        )
    yield client
    bucket = boto3.resource("s3").Bucket(os.environ["RAW_BUCKET"])
    bucket.objects.all().delete()
    bucket.delete()


@pytest.fixture(scope="session")
def db():
    try:
        connection = connect()
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL unreachable ({error}); run `bash scripts/stack.sh up`")
    yield Database(connection)
    for schema in ("STAGING", "PUBLISHED", "OPS"):
        connection.execute(f'drop schema if exists "{os.environ[f"WAREHOUSE_{schema}_SCHEMA"]}" cascade')
    connection.close()


@dataclass
class Database:
    connection: psycopg.Connection

    @property
    def staging(self) -> str:
        return f'"{os.environ["WAREHOUSE_STAGING_SCHEMA"]}".orders'

    @property
    def ledger(self) -> str:
        return f'"{os.environ["WAREHOUSE_OPS_SCHEMA"]}".load_ledger'

    def one(self, sql: str, params=()) -> tuple:
        return self.connection.execute(sql, params).fetchone()

    def snapshot(self) -> tuple:
        """What a failed load must leave unchanged."""
        return self.one(
            f"select count(*), sum(sales), sum(profit), string_agg(distinct _batch_id, ',') from {self.staging}"
        )

    def ledger_row(self, key: str) -> dict:
        cursor = self.connection.cursor(row_factory=psycopg.rows.dict_row)
        return cursor.execute(f"select * from {self.ledger} where key = %s", (key,)).fetchone()


@pytest.fixture(scope="session")
def schemas(db, s3):
    result = run_loader("create-schemas")
    assert result.returncode == 0, result.stderr
    return result.json


@dataclass
class Run:
    returncode: int
    stderr: str
    json: dict | None
    peak_rss_kb: int

    @property
    def error_lines(self) -> list[str]:
        """stderr without the log records (the step logs to stderr too)."""
        return [line for line in self.stderr.splitlines() if not LOG_RECORD.match(line)]


LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def run_loader(*args: str) -> Run:
    """The step as a container runs it: a process; env in; exit code, stderr and XCom JSON out."""
    xcom = Path(tempfile.gettempdir()) / f"loader-xcom-{uuid.uuid4().hex}.json"
    env = {**os.environ, "XCOM_RETURN_PATH": str(xcom)}
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen([str(LOADER), *args], env=env, stderr=stderr, stdout=subprocess.DEVNULL)
        peak_rss_kb = 0
        while process.poll() is None:
            peak_rss_kb = max(peak_rss_kb, _peak_rss_kb(process.pid))
            time.sleep(0.02)
        stderr.seek(0)
        result = json.loads(xcom.read_text()) if xcom.exists() else None
        xcom.unlink(missing_ok=True)
        return Run(process.returncode, stderr.read().decode(), result, peak_rss_kb)


def _peak_rss_kb(pid: int) -> int:
    """VmHWM: the peak RSS of the running program (rusage would also count
    this test process's memory, inherited through fork before exec)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def kaggle_rows() -> tuple[list[str], list[list[str]]]:
    """The real data set's header and rows (fresh lists: tests change them)."""
    header, *rows = _kaggle_file()
    return list(header), [list(row) for row in rows]


@functools.cache
def _kaggle_file() -> tuple[tuple[str, ...], ...]:
    with KAGGLE.open(encoding="utf-8", newline="") as file:
        return tuple(map(tuple, csv.reader(file)))


def to_csv(header, rows, *, line_terminator="\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_terminator)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def put(s3, key: str, body: bytes) -> str:
    s3.put_object(Bucket=os.environ["RAW_BUCKET"], Key=key, Body=body)
    return key


def unique_key(name: str) -> str:
    return f"test/{uuid.uuid4().hex[:8]}/{name}"


@pytest.fixture(scope="session")
def kaggle_key(s3) -> str:
    return put(s3, unique_key("superstore-kaggle.csv"), KAGGLE.read_bytes())
