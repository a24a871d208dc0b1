"""The warehouse: PostgreSQL locally, Redshift on AWS. Every difference
between the two lives in this module; the SQL in `Warehouse` runs on both.

Staged rows are stored in `order_lines` (the source columns, the line, the
object's id) and each object's lineage once in `source_objects`; dbt reads
both joined, as the view `orders`.

| | PostgreSQL | Redshift |
|---|---|---|
| rows in | `COPY ... FROM STDIN`, text format, streamed; the object's id as a column default | CSV file in S3, then `COPY ... FROM 's3://...' IAM_ROLE` |
| empty staging | `TRUNCATE` (transactional) | `DELETE` (`TRUNCATE` commits the transaction) |
| ledger status | `CHECK` constraint | no `CHECK` constraints in Redshift |
| now | `now()` | `getdate()` |
"""

import json
import re
import select
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError

from superstore_loader.columns import (
    OBJECT_COLUMNS,
    OBJECT_ID_COLUMN,
    ROW_COLUMNS,
    STAGING_COLUMNS,
)
from superstore_loader.s3objects import S3Object
from superstore_loader.validation import Chunk

STAGING_VIEW = "orders"
ROWS_TABLE = "order_lines"
OBJECTS_TABLE = "source_objects"
LEDGER_TABLE = "load_ledger"
LEDGER_STATUSES = ("staged", "published", "rejected")
REASON_MAX_BYTES = 1024


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _column_definitions(columns: tuple[tuple[str, str], ...]) -> str:
    return ",\n  ".join(f"{name} {sql_type}" for name, sql_type in columns)


@dataclass(frozen=True)
class LedgerEntry:
    obj: S3Object
    batch_id: str
    status: str
    source_rows: int
    loaded_rows: int
    rejected_rows: int
    sales_sum: Decimal | None = None
    profit_sum: Decimal | None = None
    reason: str | None = None


def object_lineage(obj: S3Object, batch_id: str) -> tuple[str, ...]:
    """The values of OBJECT_LINEAGE_COLUMNS: the same on every row of the object."""
    return (batch_id, obj.bucket, obj.key, obj.etag)


class StagingWriter(ABC):
    """Takes validated chunks of one object; `loaded_rows` is what the
    warehouse reports once the object is in staging."""

    loaded_rows: int | None = None

    @abstractmethod
    def write(self, chunk: Chunk) -> None: ...


class Warehouse(ABC):
    """Schemas, the staging table and the load ledger in one warehouse."""

    now_sql: str
    status_check: str

    def __init__(self, connection, settings: WarehouseSettings):
        self.connection = connection
        self.settings = settings
        staging = quote_ident(settings.staging_schema)
        self.staging_view = f"{staging}.{quote_ident(STAGING_VIEW)}"
        self.rows_table = f"{staging}.{quote_ident(ROWS_TABLE)}"
        self.objects_table = f"{staging}.{quote_ident(OBJECTS_TABLE)}"
        self.ledger_table = f"{quote_ident(settings.ops_schema)}.{quote_ident(LEDGER_TABLE)}"

    # --- statements (plain strings: what a dialect sends is testable without a connection)

    def schema_statements(self) -> list[str]:
        schemas = (self.settings.staging_schema, self.settings.published_schema, self.settings.ops_schema)
        return [
            *(f"create schema if not exists {quote_ident(schema)}" for schema in schemas),
            f"create table if not exists {self.ledger_table} (\n{self.ledger_columns()}\n)",
            f"create table if not exists {self.rows_table} (\n  {_column_definitions(ROW_COLUMNS)}\n)",
            f"create table if not exists {self.objects_table} (\n  {_column_definitions(OBJECT_COLUMNS)},\n"
            f"  primary key ({OBJECT_ID_COLUMN[0]})\n)",
            # Every row has its object, so a left join returns the same rows; but
            # the planner then never estimates fewer rows than are staged, even
            # with stale statistics on the object ids (a misestimate there made
            # dbt's plans explode).
            f"create or replace view {self.staging_view} as\n"
            f"select {', '.join(name for name, _ in STAGING_COLUMNS)}\n"
            f"from {self.rows_table} left join {self.objects_table} using ({OBJECT_ID_COLUMN[0]})",
        ]

    def ledger_columns(self) -> str:
        return f"""  bucket varchar(256) not null,
  key varchar(1024) not null,
  etag varchar(128) not null,
  batch_id varchar(128),
  status varchar(16) not null{self.status_check},
  source_rows integer,
  loaded_rows integer,
  rejected_rows integer,
  sales_sum numeric(18,4),
  profit_sum numeric(18,4),
  reason varchar({REASON_MAX_BYTES}),
  updated_at timestamptz not null default {self.now_sql},
  primary key (bucket, key, etag)"""

    @abstractmethod
    def clear_staging_statements(self) -> list[str]: ...

    # --- operations

    @abstractmethod
    def transaction(self): ...

    @abstractmethod
    def staging_writer(self, obj: S3Object, batch_id: str): ...

    @property
    @abstractmethod
    def data_errors(self) -> tuple[type[Exception], ...]:
        """How the warehouse refuses values (too long, bad bytes): the load
        then checks every row of the object to say which rows."""

    def execute(self, sql: str, params: tuple | None = None) -> None:
        with closing(self.connection.cursor()) as cursor:
            cursor.execute(sql, params)

    def fetchone(self, sql: str, params: tuple | None = None) -> tuple | None:
        with closing(self.connection.cursor()) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def create_schemas(self) -> list[str]:
        with self.transaction():
            for statement in self.schema_statements():
                self.execute(statement)
        return [self.settings.staging_schema, self.settings.published_schema, self.settings.ops_schema]

    def drop_staging(self) -> str:
        with self.transaction():
            self.execute(f"drop schema if exists {quote_ident(self.settings.staging_schema)} cascade")
        return self.settings.staging_schema

    def clear_staging(self) -> None:
        for statement in self.clear_staging_statements():
            self.execute(statement)

    def next_object_id(self) -> int:
        (object_id,) = self.fetchone(f"select coalesce(max({OBJECT_ID_COLUMN[0]}), 0) + 1 from {self.objects_table}")
        return object_id

    def record_object(self, object_id: int, obj: S3Object, batch_id: str) -> None:
        """The lineage of a staged object's rows, once they are in."""
        columns = ", ".join(name for name, _ in OBJECT_COLUMNS)
        self.execute(
            f"insert into {self.objects_table} ({columns}) values (%s, %s, %s, %s, %s)",
            (object_id, *object_lineage(obj, batch_id)),
        )

    def forget_loads(self) -> None:
        self.execute(f"delete from {self.ledger_table}")

    def ledger_status(self, obj: S3Object) -> tuple[str, str | None] | None:
        """(status, reason) of this exact object version, None if never loaded."""
        return self.fetchone(
            f"select status, reason from {self.ledger_table} where bucket = %s and key = %s and etag = %s",
            (obj.bucket, obj.key, obj.etag),
        )

    def record(self, entry: LedgerEntry) -> None:
        """Upsert as delete + insert: portable (Redshift has no ON CONFLICT)."""
        obj = entry.obj
        self.execute(
            f"delete from {self.ledger_table} where bucket = %s and key = %s and etag = %s",
            (obj.bucket, obj.key, obj.etag),
        )
        reason = entry.reason and entry.reason.encode()[:REASON_MAX_BYTES].decode(errors="ignore")
        self.execute(
            f"insert into {self.ledger_table} (bucket, key, etag, batch_id, status, source_rows, loaded_rows,"
            " rejected_rows, sales_sum, profit_sum, reason) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (obj.bucket, obj.key, obj.etag, entry.batch_id, entry.status, entry.source_rows, entry.loaded_rows,
             entry.rejected_rows, entry.sales_sum, entry.profit_sum, reason),
        )  # fmt: skip


# --- PostgreSQL


# PostgreSQL COPY text format: backslash escapes for the characters it uses
# (the backslash first, so escapes are not escaped again).
_COPY_TEXT_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NEEDS_ESCAPE = "[" + "".join(re.escape(char) for char, _ in _COPY_TEXT_ESCAPES) + "]"


def escape_copy_text(values: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py():
        return values
    for char, escaped in _COPY_TEXT_ESCAPES:
        values = pc.replace_substring(values, char, escaped)
    return values


class CopyTextWriter(StagingWriter):
    """Rows in COPY text format (source columns, then the line), built per
    chunk by Arrow kernels: one string per row, then the rows' bytes sent as
    they lie in memory."""

    def __init__(self, send):
        self._send = send

    def write(self, chunk: Chunk) -> None:
        columns = chunk.columns if chunk.plain else [escape_copy_text(values) for values in chunk.columns]
        line_ends = pc.binary_join_element_wise(chunk.lines.cast(pa.string()), "", "\n")  # "<line>\n"
        rows = pc.binary_join_element_wise(*columns, line_ends, "\t")
        self._send(memoryview(_values_bytes(rows)))


def _values_bytes(strings: pa.Array) -> pa.Buffer:
    """The values of a string array back to back: a slice of its data buffer."""
    _, offsets, data = strings.buffers()
    bounds = pa.Array.from_buffers(pa.int32(), len(strings) + 1, [None, offsets], offset=strings.offset)
    start, end = bounds[0].as_py(), bounds[-1].as_py()
    return data.slice(start, end - start)


class Postgres(Warehouse):
    now_sql = "now()"
    status_check = f" check (status in ({', '.join(map(quote_literal, LEDGER_STATUSES))}))"

    def clear_staging_statements(self) -> list[str]:
        return [f"truncate {self.rows_table}, {self.objects_table}"]

    def copy_sql(self) -> str:
        # The rows table's columns but the object id (a column default).
        columns = ", ".join(name for name, _ in ROW_COLUMNS if name != OBJECT_ID_COLUMN[0])
        # null '': empty fields load as NULL, as Redshift's EMPTYASNULL does.
        return f"copy {self.rows_table} ({columns}) from stdin (format text, null '')"

    def object_id_default_sql(self, object_id: int | None) -> str:
        change = "drop default" if object_id is None else f"set default {int(object_id)}"
        return f"alter table {self.rows_table} alter column {OBJECT_ID_COLUMN[0]} {change}"

    def transaction(self):
        return self.connection.transaction()  # nested: a savepoint

    @property
    def data_errors(self) -> tuple[type[Exception], ...]:
        import psycopg

        return (psycopg.errors.DataError,)

    @contextmanager
    def staging_writer(self, obj: S3Object, batch_id: str) -> Iterator[StagingWriter]:
        # A savepoint: a restart (another encoding, the exact path) undoes only this object.
        with self.connection.transaction(), self.connection.cursor() as cursor:
            object_id = self.next_object_id()
            # As a column default the object's id is not sent and parsed with
            # every row. Only this transaction sees it; it is dropped before the end.
            cursor.execute(self.object_id_default_sql(object_id))
            with cursor.copy(self.copy_sql()) as copy:

                def send(data) -> None:
                    copy.write(data)
                    _wait_until_sent(self.connection.pgconn)

                writer = CopyTextWriter(send)
                yield writer
            writer.loaded_rows = cursor.rowcount
            cursor.execute(self.object_id_default_sql(None))
            self.record_object(object_id, obj, batch_id)


def _wait_until_sent(pgconn) -> None:
    """libpq keeps whatever the socket does not take yet, without limit: wait
    (GIL released) until it is sent, so memory stays bounded by one chunk."""
    while pgconn.flush() == 1:
        readable, _, _ = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:  # the server may speak meanwhile (a notice, an error): as libpq asks, read it
            pgconn.consume_input()


# --- Redshift

VALIDATED_PREFIX = "validated/"


class CsvFileWriter(StagingWriter):
    _names = [name for name, _ in ROW_COLUMNS]

    def __init__(self, object_id: int, file):
        self._object_id = pa.scalar(object_id, pa.int32())
        self._file = file

    def write(self, chunk: Chunk) -> None:
        object_ids = pa.repeat(self._object_id, len(chunk))
        rows = pa.table([*map(_empty_as_null, chunk.columns), chunk.lines, object_ids], names=self._names)
        pacsv.write_csv(rows, self._file, pacsv.WriteOptions(include_header=False))


def _empty_as_null(values: pa.Array) -> pa.Array:
    """Arrow quotes every string, and EMPTYASNULL is meant for empty fields:
    an empty value is written as a null (an empty unquoted field) instead."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


class Redshift(Warehouse):
    now_sql = "getdate()"
    status_check = ""  # Redshift does not support CHECK constraints

    def __init__(self, connection, settings: WarehouseSettings, s3, lake: LakeSettings):
        super().__init__(connection, settings)
        if not settings.redshift_iam_role:
            raise StepError("WAREHOUSE_REDSHIFT_IAM_ROLE is required when WAREHOUSE_KIND=redshift")
        self.s3 = s3
        self.bucket = lake.raw_bucket

    def clear_staging_statements(self) -> list[str]:
        return [f"delete from {self.rows_table}", f"delete from {self.objects_table}"]

    def copy_sql(self, manifest_uri: str) -> str:
        # A manifest names the one file: a plain FROM 's3://...' is a key
        # prefix and would also load validated/x.csv2 for validated/x.csv.
        return (
            f"copy {self.rows_table} ({', '.join(name for name, _ in ROW_COLUMNS)})\n"
            f"from {quote_literal(manifest_uri)}\n"
            f"iam_role {quote_literal(self.settings.redshift_iam_role)}\n"
            "manifest format as csv emptyasnull encoding utf8 dateformat 'YYYY-MM-DD'\n"
            "compupdate off statupdate off"
        )

    @contextmanager
    def transaction(self):
        try:
            yield
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()

    @property
    def data_errors(self) -> tuple[type[Exception], ...]:
        import redshift_connector

        # A failed COPY FROM S3 is a ProgrammingError pointing at stl_load_errors.
        return (redshift_connector.DataError, redshift_connector.ProgrammingError)

    @contextmanager
    def staging_writer(self, obj: S3Object, batch_id: str) -> Iterator[StagingWriter]:
        data_key = f"{VALIDATED_PREFIX}{obj.key}"
        object_id = self.next_object_id()
        with tempfile.TemporaryFile() as file:
            writer = CsvFileWriter(object_id, file)
            yield writer
            file.seek(0)
            self.s3.upload_fileobj(file, self.bucket, data_key, ExtraArgs={"ContentType": "text/csv"})
        manifest = {"entries": [{"url": f"s3://{self.bucket}/{data_key}", "mandatory": True}]}
        manifest_key = f"{data_key}.manifest"
        self.s3.put_object(Bucket=self.bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
        self.execute(self.copy_sql(f"s3://{self.bucket}/{manifest_key}"))
        (writer.loaded_rows,) = self.fetchone("select pg_last_copy_count()")
        self.record_object(object_id, obj, batch_id)


@contextmanager
def open_warehouse(settings: WarehouseSettings, s3=None, lake: LakeSettings | None = None) -> Iterator[Warehouse]:
    password = settings.password.get_secret_value()
    # Drivers imported on use: each takes a noticeable time to import.
    if settings.kind == "postgres":
        import psycopg

        connection = psycopg.connect(
            host=settings.host, port=settings.port, dbname=settings.db, user=settings.user, password=password,
            autocommit=True, application_name="superstore-loader", connect_timeout=30,
        )  # fmt: skip
        warehouse = Postgres(connection, settings)
    else:
        import redshift_connector

        connection = redshift_connector.connect(
            host=settings.host, port=settings.port, database=settings.db, user=settings.user, password=password
        )
        warehouse = Redshift(connection, settings, s3, lake or LakeSettings())
    with closing(connection):
        yield warehouse
