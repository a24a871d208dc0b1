"""Loader tests run against the local stack (real PostgreSQL, moto server),
with the settings of scripts/env.sh (`make unit` sources it).

Isolation from other suites sharing the stack: an S3 bucket and warehouse
schemas of this test session's own (raw layer and ledger, published, ops,
the prefix of the per-run audit schemas), dropped at the end.

The data: the real data set, `../shared/data/superstore-kaggle.csv`, or
where that is absent the public copy `data/superstore.csv` fetched by
`bash scripts/fetch-data.sh`. Expected figures (rows, sums, dates) are
derived from the file under test, never written down per copy.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import psycopg
import psycopg.rows
import pytest
from stack import KAGGLE_CSV, source_csv
from superstore_common import warehouse
from superstore_common.loads import Ledger, LoadState
from superstore_common.settings import WarehouseSettings

REPO = Path(__file__).resolve().parents[3]
LOADER = REPO / ".venv" / "loader" / "bin" / "superstore-loader"
SOURCE = source_csv()  # the Kaggle copy beside the repo, or the public one (fetched); SUPERSTORE_SOURCE forces one
SHARED_SOURCE = KAGGLE_CSV

SESSION = uuid.uuid4().hex[:8]
SCHEMA_PREFIX = f"loader_test_{SESSION}"
TEST_SETTINGS = {
    "RAW_BUCKET": f"loader-test-{SESSION}",
    "WAREHOUSE_RAW_SCHEMA": f"{SCHEMA_PREFIX}_raw",
    "WAREHOUSE_STAGING_SCHEMA": f"{SCHEMA_PREFIX}_staging",  # the audit schemas' prefix
    "WAREHOUSE_PUBLISHED_SCHEMA": f"{SCHEMA_PREFIX}_analytics",
    "WAREHOUSE_OPS_SCHEMA": f"{SCHEMA_PREFIX}_ops",
    "WAREHOUSE_KIND": "postgres",
    "LOG_LEVEL": "INFO",
}
os.environ.update(TEST_SETTINGS)

BUCKET = TEST_SETTINGS["RAW_BUCKET"]
RAW_SCHEMA = TEST_SETTINGS["WAREHOUSE_RAW_SCHEMA"]
LOADER_ACTOR = "superstore-loader"


def connect() -> psycopg.Connection:
    return psycopg.connect(
        host=os.environ["WAREHOUSE_HOST"], port=os.environ["WAREHOUSE_PORT"], dbname=os.environ["WAREHOUSE_DB"],
        user=os.environ["WAREHOUSE_USER"], password=os.environ["WAREHOUSE_PASSWORD"], autocommit=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def s3():
    client = boto3.client("s3")
    try:
        client.create_bucket(Bucket=BUCKET)
    except Exception as error:  # not a skip: these tests need the stack
        pytest.fail(
            f"moto server unreachable at {os.environ['AWS_ENDPOINT_URL']} ({error}); run `bash scripts/stack.sh up`"
        )
    yield client
    bucket = boto3.resource("s3").Bucket(BUCKET)
    bucket.objects.all().delete()
    bucket.delete()


@pytest.fixture(scope="session")
def db():
    try:
        connection = connect()
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL unreachable ({error}); run `bash scripts/stack.sh up`")
    yield Database(connection)
    # Every schema of this session: the configured ones and the audit schemas under the prefix.
    names = connection.execute(
        "select schema_name from information_schema.schemata where schema_name like %s",
        (SCHEMA_PREFIX.replace("_", r"\_") + r"\_%",),
    ).fetchall()
    for (name,) in names:
        connection.execute(f'drop schema if exists "{name}" cascade')
    connection.close()


@dataclass
class Database:
    connection: psycopg.Connection

    raw_schema = RAW_SCHEMA
    raw = f'"{RAW_SCHEMA}".order_lines'
    loads = f'"{RAW_SCHEMA}".loads'
    transitions_table = f'"{RAW_SCHEMA}".load_transitions'

    def one(self, sql: str, params=()) -> tuple:
        return self.connection.execute(sql, params).fetchone()

    def all(self, sql: str, params=()) -> list[tuple]:
        return self.connection.execute(sql, params).fetchall()

    def snapshot(self) -> tuple:
        """The whole raw layer, as a load that stages nothing must leave it."""
        return self.one(f"select count(*), sum(sales), sum(profit), string_agg(distinct _load_id, ',') from {self.raw}")

    def raw_rows(self, load_id: str) -> int:
        return self.one(f"select count(*) from {self.raw} where _load_id = %s", (load_id,))[0]

    def load(self, load_id: str) -> dict | None:
        cursor = self.connection.cursor(row_factory=psycopg.rows.dict_row)
        return cursor.execute(f"select * from {self.loads} where load_id = %s", (load_id,)).fetchone()

    def transitions(self, load_id: str) -> list[tuple]:
        """(from, to, by, reason) in the order they happened."""
        return self.all(
            f"select from_state, to_state, changed_by, reason from {self.transitions_table}"
            " where load_id = %s order by changed_at, ctid",  # ctid: insertion order within one transaction
            (load_id,),
        )


@contextmanager
def ledger() -> Iterator[Ledger]:
    """The load ledger of this session, in this process."""
    with warehouse.connect(WarehouseSettings(), "loader-tests") as connection:
        yield Ledger(connection, RAW_SCHEMA)


def move(load_id: str, *states: LoadState, by: str = "superstore-dbt", reason: str | None = None) -> None:
    """Move a load through `states`, one transition each, as the build (dbt) does."""
    with ledger() as loads, loads.connection.transaction():
        loads.lock()
        for state in states:
            loads.move([load_id], state, by=by, reason=reason)


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


# --- objects and the load step


def announce(s3, key: str, bucket: str = BUCKET) -> dict[str, str]:
    """The object version as its S3 event announces it: bucket, key, ETag."""
    return {"bucket": bucket, "key": key, "etag": s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')}


def load_id_of(obj: dict[str, str]) -> str:
    from superstore_common.objects import load_id

    return load_id(obj["bucket"], obj["key"], obj["etag"])


def run_load(*objects: dict[str, str], args: tuple[str, ...] = ()) -> Run:
    return run_loader("load", "--objects", json.dumps(list(objects)), *args)


def put(s3, key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def put_object(s3, name: str, body: bytes) -> dict[str, str]:
    """A new object under a key of its own, as announced."""
    return announce(s3, put(s3, unique_key(name), body))


def unique_key(name: str) -> str:
    return f"test/{uuid.uuid4().hex[:8]}/{name}"


# --- the data set and what is expected of it


def source_rows() -> tuple[list[str], list[list[str]]]:
    """The data set's header and rows (fresh lists: tests change them)."""
    header, *rows = _source_file()
    return list(header), [list(row) for row in rows]


@functools.cache
def _source_file() -> tuple[tuple[str, ...], ...]:
    with SOURCE.open(encoding="utf-8", newline="") as file:
        return tuple(map(tuple, csv.reader(file)))


def source_row_count() -> int:
    return len(_source_file()) - 1


SALES, PROFIT = 17, 20  # columns of the source file


def file_sums(rows: list[list[str]]) -> tuple[Decimal, Decimal]:
    return sum(Decimal(r[SALES]) for r in rows), sum(Decimal(r[PROFIT]) for r in rows)


def shown(total: Decimal) -> str:
    """A sum as the result shows it (as the warehouse's sum() of numeric(18,4))."""
    return str(total.quantize(Decimal("0.0001")))


def parse_date(value: str) -> date:
    """The source's dates: US (11/8/2016) in one copy, ISO in the other."""
    for layout in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            pass
    raise ValueError(f"not a source date: {value!r}")


def small_file(rows: int = 40) -> tuple[list[str], list[list[str]]]:
    header, all_rows = source_rows()
    return header, all_rows[:rows]


def to_csv(header, rows, *, line_terminator="\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_terminator)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def source_object(s3) -> dict[str, str]:
    """The data set, as an object announced by an event."""
    return put_object(s3, SOURCE.name, SOURCE.read_bytes())
