"""The loader's side of the contract, for these tests: objects are put in S3
and loaded into the raw layer by the loader's own entrypoint (its DDL, its
ledger), never by a copy of them; then queries on what dbt published."""

import csv
import io
import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import psycopg
from psycopg.rows import namedtuple_row
from stack import REPO
from superstore_common.source_format import HEADER, parse_date

LOADER = REPO / ".venv" / "loader" / "bin" / "superstore-loader"


@dataclass(frozen=True)
class OrderLine:
    """One line of the source CSV, typed."""

    row_id: int
    order_id: str
    order_date: date
    ship_date: date
    ship_mode: str
    customer_id: str
    customer_name: str
    segment: str
    country: str
    city: str
    state: str
    postal_code: str
    region: str
    product_id: str
    category: str
    sub_category: str
    product_name: str
    sales: Decimal
    quantity: int
    discount: Decimal
    profit: Decimal


# Dates: the source's US ones (11/8/2016) or the public copy's ISO ones.
PARSERS = {int: int, str: str, Decimal: Decimal, date: parse_date}


def read_source(path: Path) -> list[OrderLine]:
    """The CSV's columns are OrderLine's fields, in the same order."""
    with path.open(encoding="utf-8", newline="") as source:
        rows = csv.reader(source)
        next(rows)  # header
        return [
            OrderLine(*(PARSERS[field.type](value) for field, value in zip(fields(OrderLine), row, strict=True)))
            for row in rows
        ]


def to_csv(lines: Sequence[OrderLine]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for line in lines:
        writer.writerow(v.isoformat() if isinstance(v, date) else v for v in astuple(line))
    return out.getvalue().encode()


class Warehouse:
    def __init__(self, conninfo: str, env: dict[str, str]) -> None:
        self.conninfo = conninfo
        self.env = env
        self.raw, self.published = env["WAREHOUSE_RAW_SCHEMA"], env["WAREHOUSE_PUBLISHED_SCHEMA"]
        self.bucket = env["RAW_BUCKET"]
        self.s3 = boto3.client("s3")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True)

    def loader(self, *args: str, result_path: Path) -> dict:
        process = subprocess.run(
            [str(LOADER), *args], env={**self.env, "XCOM_RETURN_PATH": str(result_path)}, capture_output=True, text=True
        )
        assert process.returncode == 0, process.stderr
        return json.loads(result_path.read_text())

    def load(self, lines: Sequence[OrderLine] | bytes, key: str, result_path: Path) -> str:
        """Put a file in S3 and load it with the loader: its load id."""
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=lines if isinstance(lines, bytes) else to_csv(lines))
        etag = self.s3.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')
        objects = json.dumps([{"bucket": self.bucket, "key": key, "etag": etag}])
        (load_id,) = [
            o["load_id"] for o in self.loader("load", "--objects", objects, result_path=result_path)["objects"]
        ]
        return load_id

    def rows(self, query: str, *params: object) -> list[tuple]:
        """Rows as named tuples; {published} and {raw} in the query name the schemas."""
        query = query.format(published=self.published, raw=self.raw)
        with self.connect() as conn, conn.cursor(row_factory=namedtuple_row) as cursor:
            return cursor.execute(query, params).fetchall()

    def execute(self, statement: str, *params: object) -> None:
        with self.connect() as conn:
            conn.execute(statement.format(published=self.published, raw=self.raw), params)

    def value(self, query: str, *params: object) -> object:
        return self.rows(query, *params)[0][0]

    def checksums(self, tables: Iterable[str]) -> dict[str, str]:
        """An order-independent digest of each table's full content."""
        digest = "md5(coalesce(string_agg(md5(row::text), '' order by md5(row::text)), ''))"
        return {table: self.value(f"select {digest} from {{published}}.{table} as row") for table in tables}

    def load_state(self, load_id: str) -> tuple[str, str | None]:
        return self.rows("select state, reason from {raw}.loads where load_id = %s", load_id)[0]
