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
from urllib.parse import quote_plus

import boto3
import psycopg
from psycopg.rows import dict_row
from stack import REPO, conninfo, source_csv

SESSION = uuid.uuid4().hex[:8]
DATABASE = f"bad_input_{SESSION}"  # two sessions at once never share it
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
    "REJECTED_PREFIX": "rejected/",
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


def rows(count: int, start: int = 0, ascii: bool = False) -> list[list[str]]:
    """Rows of the good file (fresh lists: cases change them); ascii: only
    rows without a non-ASCII character (for cases about encodings)."""
    text = b"".join(good_lines()[1:]).decode("utf-8")
    found = [list(row) for row in csv.reader(io.StringIO(text, newline="")) if not ascii or "".join(row).isascii()]
    return found[start : start + count]


def to_csv(head: list[str], body: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(body)
    return out.getvalue().encode("utf-8")


def column(name: str) -> int:
    return header().index(name)


# --- a case: one object put in S3 and loaded, and what it must leave behind


def message_of(key: str, where: str, reason: str, rejected: int = 1, whole_file: bool = False) -> str:
    """The loader's one-line rejection, as the ledger keeps it (stderr adds `error: `);
    whole_file: the object refused as such (not CSV text, no rows), no row counted."""
    rows = "file rejected" if whole_file else f"{rejected} row{'s' if rejected != 1 else ''} rejected"
    return f"s3://{BUCKET}/{key} {where}: {reason} ({rows}, see s3://{BUCKET}/{rejects_key(key)})"


def where(line: int, column: str | None) -> str:
    return f'line {line}, column "{column}"' if column else f"line {line}"


@dataclass
class Case:
    obj: dict[str, str]
    run: StepRun
    raw_before: int
    published: dict[str, tuple]

    @property
    def key(self) -> str:
        return self.obj["key"]

    @property
    def load(self) -> dict | None:
        return ledger(self.obj)

    def assert_published_unchanged(self) -> None:
        assert published_checksums() == self.published

    def assert_nothing_loaded(self) -> None:
        """No partial load: the raw layer is as it was, the published tables too."""
        assert raw_total() == self.raw_before
        self.assert_published_unchanged()

    def assert_rejected(
        self,
        line: int,
        column: str | None,
        reason: str,
        *,
        rejected: int = 1,
        source_rows: int | None = None,
        whole_file: bool = False,
    ) -> list[list[str]]:
        """Exit 1, exactly one line on stderr naming file, line and column;
        the ledger says rejected with that line as the reason; nothing in the
        raw layer; the rejected rows in S3 (returned without their header).
        whole_file: "(file rejected, ...)", pass rejected=0."""
        message = message_of(self.key, where(line, column), reason, rejected, whole_file)
        assert self.run.returncode == 1, self.run.stderr
        assert self.run.error_lines == [f"error: {message}"], self.run.stderr
        assert self.run.result is None  # nothing could be loaded: no result
        load = self.load
        assert (load["state"], load["reason"], load["raw_rows"], load["rejected_rows"]) == (
            "rejected",
            message,
            None,
            rejected,
        )
        if source_rows is not None:
            assert load["source_rows"] == source_rows
        assert raw_rows(load["load_id"]) == 0
        self.assert_nothing_loaded()
        file = rejected_rows(self.key)
        assert file is not None, f"no {rejects_key(self.key)}"
        assert file[0][:3] == ["line", "column", "reason"]
        assert file[1][:3] == [str(line), column or "", reason]
        return file[1:]

    def assert_file_rejected(self, line: int, reason: str) -> list[str]:
        """The object refused whole before any row (not CSV text, no rows):
        `line N: reason (file rejected, see ...)`, no column, no row counted,
        no source row; the rejects file holds that one line (the file's
        header row, or the contract's columns, is returned)."""
        rejected = self.assert_rejected(line, None, reason, rejected=0, source_rows=0, whole_file=True)
        assert rejected == [[str(line), "", reason]]
        return rejected_rows(self.key)[0][3:]

    def assert_staged(self, rows: int) -> list[dict]:
        """Exit 0, no error; every row in the raw layer under its load id
        (returned by line); not published."""
        assert self.run.returncode == 0, self.run.stderr
        assert self.run.error_lines == [], self.run.stderr
        (result,) = self.run.result["objects"]
        assert (result["status"], result["rows"], result["rejected_rows"], result["key"]) == (
            "staged",
            rows,
            0,
            self.key,
        )
        load = self.load
        assert (load["state"], load["source_rows"], load["raw_rows"], load["reason"]) == ("staged", rows, rows, None)
        assert raw_total() == self.raw_before + rows
        assert rejected_rows(self.key) is None
        self.assert_published_unchanged()
        return raw_of(load["load_id"])


RAW_COLUMNS = "_source_line, row_id, order_id, order_date, ship_date, customer_name, product_name, sales, quantity"


def raw_of(load_id: str) -> list[dict]:
    """A load's raw rows (some columns), by line."""
    with connect() as conn, conn.cursor(row_factory=dict_row) as cursor:
        sql = f'select {RAW_COLUMNS} from "{RAW}".order_lines where _load_id = %s order by _source_line'
        return cursor.execute(sql, (load_id,)).fetchall()


@dataclass
class Cases:
    published: dict[str, tuple]

    def load(self, name: str, body: bytes, key: str | None = None, via_event: bool = False) -> Case:
        """Put the file at `key` (else a key of its own) and load it; via_event:
        as the incremental DAG would, from the S3 event's record (URL-encoded key)."""
        before = raw_total()
        obj = put(key or case_key(name), body)
        if via_event:
            (announced,) = event_objects(obj)
            assert announced == obj  # the event decodes to exactly the stored key
        return Case(obj, load(obj), before, self.published)


def s3_record(obj: dict[str, str], name: str = "ObjectCreated:Put") -> dict:
    """An S3 notification record as S3 writes it: the key URL-encoded (a space as '+', '+' as %2B)."""
    return {
        "eventName": name,
        "s3": {"bucket": {"name": obj["bucket"]}, "object": {"key": quote_plus(obj["key"]), "eTag": obj["etag"]}},
    }


def sqs_message(message_id: str, body: dict | str) -> dict:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"receipt-{message_id}",
        "Body": body if isinstance(body, str) else json.dumps(body),
    }


def event_objects(obj: dict[str, str]) -> list[dict]:
    """The objects take_batch hands the loader for this object's S3 event."""
    from superstore_orchestration.events import parse_messages

    batch = parse_messages([sqs_message("m1", {"Records": [s3_record(obj)]})], BUCKET, SETTINGS["INCOMING_PREFIX"])
    assert batch.rejected == []
    return batch.as_xcom()["objects"]
