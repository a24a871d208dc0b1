"""The bad-input suite's side of the local stack: a database, schemas and a
bucket of its own, the real entrypoints run as processes (loader, dbt), and
what a case looks at afterwards (the ledger, the raw layer, the rejected-rows
file in S3, a checksum of every published table)."""

import csv
import io
import json
import os
import re
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
from psycopg.rows import dict_row
from stack import REPO, conninfo, source_csv

SESSION = uuid.uuid4().hex[:8]
DATABASE = "bad_input"
# Not the defaults: every schema and the bucket come from the environment.
SETTINGS = {
    "WAREHOUSE_DB": DATABASE,
    "WAREHOUSE_KIND": "postgres",
    "WAREHOUSE_RAW_SCHEMA": "bad_input_raw",
    "WAREHOUSE_STAGING_SCHEMA": "bad_input_staging",
    "WAREHOUSE_PUBLISHED_SCHEMA": "bad_input_analytics",
    "WAREHOUSE_OPS_SCHEMA": "bad_input_ops",
    "RAW_BUCKET": f"bad-input-{SESSION}",
    "INCOMING_PREFIX": "incoming/",
    "LOG_LEVEL": "INFO",
}
BUCKET = SETTINGS["RAW_BUCKET"]
RAW = SETTINGS["WAREHOUSE_RAW_SCHEMA"]
PUBLISHED = SETTINGS["WAREHOUSE_PUBLISHED_SCHEMA"]
LOADER = REPO / ".venv" / "loader" / "bin" / "superstore-loader"
DBT = REPO / ".venv" / "dbt" / "bin" / "superstore-dbt"
GOOD_LINES = 200  # the header and 199 rows of the data set

LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@dataclass(frozen=True)
class StepRun:
    returncode: int
    stderr: str
    result: dict | None

    @property
    def error_lines(self) -> list[str]:
        """stderr without the log records (steps log to stderr too): the step's own words."""
        return [line for line in self.stderr.splitlines() if line.strip() and not LOG_RECORD.match(line)]


def step(entrypoint: Path, *args: str) -> StepRun:
    """An entrypoint as a container runs it: a process; env in; exit code, stderr and XCom JSON out."""
    with tempfile.TemporaryDirectory(prefix="bad-input-") as scratch:
        xcom = Path(scratch) / "return.json"
        env = {**os.environ, **SETTINGS, "XCOM_RETURN_PATH": str(xcom), "DBT_TARGET_PATH": f"{scratch}/target"}
        process = subprocess.run([str(entrypoint), *args], env=env, capture_output=True, text=True, check=False)
        result = json.loads(xcom.read_text()) if xcom.exists() else None
    return StepRun(process.returncode, process.stderr, result)


def loader(*args: str) -> StepRun:
    return step(LOADER, *args)


def dbt(*args: str) -> StepRun:
    return step(DBT, *args)


def load(*objects: dict[str, str], args: tuple[str, ...] = ()) -> StepRun:
    return loader("load", "--objects", json.dumps(list(objects)), *args)


def build(mode: str, load_ids: list[str], run_id: str) -> StepRun:
    return dbt("build", "--mode", mode, "--load-ids", json.dumps(load_ids), "--run-id", run_id)


# --- S3


def s3():
    return boto3.client("s3")


def put(key: str, body: bytes) -> dict[str, str]:
    """An object in our bucket, as its event announces it: bucket, key, ETag."""
    s3().put_object(Bucket=BUCKET, Key=key, Body=body)
    return announce(key)


def announce(key: str) -> dict[str, str]:
    return {"bucket": BUCKET, "key": key, "etag": s3().head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')}


def case_key(name: str) -> str:
    return f"incoming/bad-input/{uuid.uuid4().hex[:8]}/{name}"


def rejects_key(key: str) -> str:
    return f"rejected/{key}.rejected.csv"


def rejected_rows(key: str) -> list[list[str]] | None:
    """The rejected-rows file of an object (header row first), None if there is none."""
    try:
        body = s3().get_object(Bucket=BUCKET, Key=rejects_key(key))["Body"].read()
    except s3().exceptions.NoSuchKey:
        return None
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


# --- the warehouse


def connect() -> psycopg.Connection:
    return psycopg.connect(conninfo(DATABASE), autocommit=True)


def query(sql: str, *params) -> list[tuple]:
    with connect() as conn:
        return conn.execute(sql.format(raw=RAW, published=PUBLISHED), params).fetchall()


def ledger(obj: dict[str, str]) -> dict | None:
    """The load of an object version (bucket, key, ETag), None if the loader never received it."""
    with connect() as conn, conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            f'select * from "{RAW}".loads where bucket = %s and key = %s and etag = %s',
            (obj["bucket"], obj["key"], obj["etag"]),
        ).fetchone()


def loads_of_key(key: str) -> int:
    return query('select count(*) from "{raw}".loads where bucket = %s and key = %s', BUCKET, key)[0][0]


def raw_rows(load_id: str) -> int:
    return query('select count(*) from "{raw}".order_lines where _load_id = %s', load_id)[0][0]


def raw_total() -> int:
    return query('select count(*) from "{raw}".order_lines')[0][0]


def published_checksums() -> dict[str, tuple]:
    """Row count and an order-independent md5 of every table in the published schema."""
    tables = [
        name
        for (name,) in query(
            "select table_name from information_schema.tables where table_schema = %s order by table_name", PUBLISHED
        )
    ]
    digest = "md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), ''))"
    return {table: query(f'select count(*), {digest} from "{PUBLISHED}"."{table}" as t')[0] for table in tables}


# --- the data


def good_lines() -> list[bytes]:
    """The first GOOD_LINES lines of the data set, as bytes (each with its line break)."""
    lines = []
    with source_csv().open("rb") as source:
        for line in source:
            lines.append(line)
            if len(lines) == GOOD_LINES:
                break
    return lines


def good_file() -> bytes:
    return b"".join(good_lines())


def header() -> list[str]:
    return next(csv.reader([good_lines()[0].decode("utf-8-sig")]))


def rows(count: int, start: int = 0) -> list[list[str]]:
    """Rows of the good file (fresh lists: cases change them)."""
    text = b"".join(good_lines()[1:]).decode("utf-8")
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))][start : start + count]


def to_csv(head: list[str], body: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(body)
    return out.getvalue().encode("utf-8")


def column(name: str) -> int:
    return header().index(name)
