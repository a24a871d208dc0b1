"""The loader's side of the contract, for these tests: the staging and ledger
tables (same DDL as the loader's), a staged batch, and queries on the result."""

import csv
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.rows import namedtuple_row

SOURCE_CSV = Path("/work/shared/data/superstore-kaggle.csv")
BUCKET = "superstore-raw"

DDL = """
create schema {staging};
create table {staging}.orders (
    row_id integer, order_id varchar(32), order_date date, ship_date date, ship_mode varchar,
    customer_id varchar, customer_name varchar, segment varchar, country varchar, city varchar,
    state varchar, postal_code varchar, region varchar, product_id varchar, category varchar,
    sub_category varchar, product_name varchar, sales numeric(18,4), quantity integer,
    discount numeric(6,4), profit numeric(18,4), _batch_id varchar, _source_bucket varchar,
    _source_key varchar, _source_etag varchar, _source_line integer
);
create schema {ops};
create table {ops}.load_ledger (
    bucket varchar, key varchar, etag varchar, batch_id varchar,
    status varchar check (status in ('staged', 'published', 'rejected')),
    source_rows integer, loaded_rows integer, rejected_rows integer,
    sales_sum numeric(18,4), profit_sum numeric(18,4), reason varchar,
    updated_at timestamptz not null default now(),
    primary key (bucket, key, etag)
);
"""


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


def us_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


PARSERS = {int: int, str: str, Decimal: Decimal, date: us_date}


def read_source(path: Path = SOURCE_CSV) -> list[OrderLine]:
    """The CSV's columns are OrderLine's fields, in the same order."""
    with path.open(encoding="utf-8", newline="") as source:
        rows = csv.reader(source)
        next(rows)  # header
        return [
            OrderLine(*(PARSERS[field.type](value) for field, value in zip(fields(OrderLine), row, strict=True)))
            for row in rows
        ]


class Warehouse:
    def __init__(self, conninfo: str, staging: str, published: str, ops: str) -> None:
        self.conninfo, self.staging, self.published, self.ops = conninfo, staging, published, ops

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True)

    def reset(self) -> None:
        with self.connect() as conn:
            for schema in (self.staging, self.published, self.ops):
                conn.execute(f"drop schema if exists {schema} cascade")
            conn.execute(DDL.format(staging=self.staging, ops=self.ops))

    def stage(self, lines: Sequence[OrderLine], batch_id: str, key: str, etag: str = "etag-1") -> None:
        """What the loader does: replace the staged batch, record it as 'staged'."""
        with self.connect() as conn:
            conn.execute(f"truncate {self.staging}.orders")
            with conn.cursor().copy(f"copy {self.staging}.orders from stdin") as copy:
                for line_number, line in enumerate(lines, start=2):
                    copy.write_row((*astuple(line), batch_id, BUCKET, key, etag, line_number))
            conn.execute(
                f"""insert into {self.ops}.load_ledger (bucket, key, etag, batch_id, status, source_rows, loaded_rows,
                        rejected_rows, sales_sum, profit_sum)
                    values (%s, %s, %s, %s, 'staged', %s, %s, 0, %s, %s)
                    on conflict (bucket, key, etag) do update set status = 'staged', batch_id = excluded.batch_id""",
                (BUCKET, key, etag, batch_id, len(lines), len(lines),
                 sum(line.sales for line in lines), sum(line.profit for line in lines)),
            )  # fmt: skip

    def rows(self, query: str, *params: object) -> list[tuple]:
        """Rows as named tuples; {published}, {staging}, {ops} in the query name the schemas."""
        query = query.format(published=self.published, staging=self.staging, ops=self.ops)
        with self.connect() as conn, conn.cursor(row_factory=namedtuple_row) as cursor:
            return cursor.execute(query, params).fetchall()

    def execute(self, statement: str, *params: object) -> None:
        with self.connect() as conn:
            conn.execute(statement.format(published=self.published, staging=self.staging, ops=self.ops), params)

    def value(self, query: str, *params: object) -> object:
        return self.rows(query, *params)[0][0]

    def checksums(self, tables: Iterable[str]) -> dict[str, str]:
        """An order-independent digest of each table's full content."""
        digest = "md5(coalesce(string_agg(md5(row::text), '' order by md5(row::text)), ''))"
        return {table: self.value(f"select {digest} from {{published}}.{table} as row") for table in tables}
