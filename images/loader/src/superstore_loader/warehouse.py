"""The loader's side of the warehouse: the schemas, the raw layer's rows
table (`<raw>.order_lines`, append-only, every row with its load id) and
how rows get into it. PostgreSQL locally, Redshift on AWS: every difference
between the two for these writes lives in this module (the ledger's own is
in superstore_common.warehouse.Dialect).

| | PostgreSQL | Redshift |
|---|---|---|
| rows in | `COPY ... FROM STDIN`, text format, streamed; the load id as a column default | CSV file in S3, then `COPY ... FROM 's3://...' IAM_ROLE` |
| a load's rows found by | a BRIN index on `_load_id` (a load's rows are contiguous) | the sort key |
"""

import json
import re
import select
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from superstore_common.loads import Ledger
from superstore_common.objects import S3Object
from superstore_common.ops import RunRecords
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError
from superstore_common.warehouse import POSTGRES, Connection, quote_ident, quote_literal

from superstore_loader.columns import LOAD_ID_COLUMN, RAW_COLUMNS
from superstore_loader.validation import Chunk

ROWS_TABLE = "order_lines"


def _column_definitions(columns: tuple[tuple[str, str], ...]) -> str:
    return ",\n  ".join(f"{name} {sql_type}" for name, sql_type in columns)


class RawWriter(ABC):
    """Takes validated chunks of one object; `loaded_rows` is what the
    warehouse reports once the object's rows are in."""

    loaded_rows: int | None = None

    @abstractmethod
    def write(self, chunk: Chunk) -> None: ...


class Warehouse(ABC):
    """The schemas, the raw rows table and the load ledger of one warehouse."""

    def __init__(self, connection: Connection, settings: WarehouseSettings):
        self.connection = connection
        self.settings = settings
        self.ledger = Ledger(connection, settings.raw_schema)
        self.rows_table = f"{quote_ident(settings.raw_schema)}.{quote_ident(ROWS_TABLE)}"

    @property
    def schemas(self) -> list[str]:
        s = self.settings
        return [s.raw_schema, s.published_schema, s.ops_schema]

    # --- statements (plain strings: what a dialect sends is testable without a connection)

    def schema_statements(self) -> list[str]:
        return [
            *(f"create schema if not exists {quote_ident(schema)}" for schema in self.schemas),
            *self.ledger.ddl(),
            *RunRecords(self.connection, self.settings.ops_schema).ddl(),
            f"create table if not exists {self.rows_table} (\n  {_column_definitions(RAW_COLUMNS)}\n){self.rows_table_layout}",
            *self.rows_index_statements(),
        ]

    rows_table_layout = ""

    def rows_index_statements(self) -> list[str]:
        return []

    # --- operations

    def transaction(self):
        return self.connection.transaction()

    @abstractmethod
    def raw_writer(self, obj: S3Object): ...

    @property
    @abstractmethod
    def data_errors(self) -> tuple[type[Exception], ...]:
        """How the warehouse refuses values (too long, bad bytes): the load
        then checks every row of the object to say which rows."""

    def execute(self, sql: str, params: tuple | None = None) -> None:
        self.connection.execute(sql, params)

    def create_schemas(self) -> list[str]:
        with self.transaction():
            for statement in self.schema_statements():
                self.execute(statement)
        return self.schemas

    def drop_audit_schema(self, run_id: str) -> str:
        schema = self.settings.audit_schema(run_id)
        with self.transaction():
            self.execute(f"drop schema if exists {quote_ident(schema)} cascade")
        return schema


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


class CopyTextWriter(RawWriter):
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
    def rows_index_statements(self) -> list[str]:
        # A load's rows arrive together, so each block range holds one load id:
        # a BRIN index finds them at almost no cost to the COPY.
        return [f"create index if not exists order_lines_load_id on {self.rows_table} using brin ({LOAD_ID_COLUMN[0]})"]

    def copy_sql(self) -> str:
        # The rows table's columns but the load id (a column default).
        columns = ", ".join(name for name, _ in RAW_COLUMNS if name != LOAD_ID_COLUMN[0])
        # null '': empty fields load as NULL, as Redshift's EMPTYASNULL does.
        return f"copy {self.rows_table} ({columns}) from stdin (format text, null '')"

    def load_id_default_sql(self, load_id: str | None) -> str:
        change = "drop default" if load_id is None else f"set default {quote_literal(load_id)}"
        return f"alter table {self.rows_table} alter column {LOAD_ID_COLUMN[0]} {change}"

    @property
    def data_errors(self) -> tuple[type[Exception], ...]:
        import psycopg

        return (psycopg.errors.DataError,)

    @contextmanager
    def raw_writer(self, obj: S3Object) -> Iterator[RawWriter]:
        raw = self.connection.raw
        # A savepoint: a restart (another encoding, the exact path) undoes only this object.
        with raw.transaction(), raw.cursor() as cursor:
            # As a column default the load id is not sent and parsed with every
            # row. Only this transaction sees it; it is dropped before the end.
            cursor.execute(self.load_id_default_sql(obj.load_id))
            with cursor.copy(self.copy_sql()) as copy:

                def send(data) -> None:
                    copy.write(data)
                    _wait_until_sent(raw.pgconn)

                writer = CopyTextWriter(send)
                yield writer
            writer.loaded_rows = cursor.rowcount
            cursor.execute(self.load_id_default_sql(None))


def _wait_until_sent(pgconn) -> None:
    """libpq keeps whatever the socket does not take yet, without limit: wait
    (GIL released) until it is sent, so memory stays bounded by one chunk."""
    while pgconn.flush() == 1:
        readable, _, _ = select.select([pgconn.socket], [pgconn.socket], [])
        if readable:  # the server may speak meanwhile (a notice, an error): as libpq asks, read it
            pgconn.consume_input()


# --- Redshift

VALIDATED_PREFIX = "validated/"


class CsvFileWriter(RawWriter):
    _names = [name for name, _ in RAW_COLUMNS]

    def __init__(self, load_id: str, file):
        self._load_id = pa.scalar(load_id, pa.string())
        self._file = file

    def write(self, chunk: Chunk) -> None:
        load_ids = pa.repeat(self._load_id, len(chunk))
        rows = pa.table([*map(_empty_as_null, chunk.columns), chunk.lines, load_ids], names=self._names)
        pacsv.write_csv(rows, self._file, pacsv.WriteOptions(include_header=False))


def _empty_as_null(values: pa.Array) -> pa.Array:
    """Arrow quotes every string, and EMPTYASNULL is meant for empty fields:
    an empty value is written as a null (an empty unquoted field) instead."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


class Redshift(Warehouse):
    # Rows of a load sit together, found by the sort key.
    rows_table_layout = f"\ncompound sortkey ({LOAD_ID_COLUMN[0]})"

    def __init__(self, connection: Connection, settings: WarehouseSettings, s3, lake: LakeSettings):
        super().__init__(connection, settings)
        if not settings.redshift_iam_role:
            raise StepError("WAREHOUSE_REDSHIFT_IAM_ROLE is required when WAREHOUSE_KIND=redshift")
        self.s3 = s3
        self.bucket = lake.raw_bucket

    def copy_sql(self, manifest_uri: str) -> str:
        # A manifest names the one file: a plain FROM 's3://...' is a key
        # prefix and would also load validated/x.csv2 for validated/x.csv.
        return (
            f"copy {self.rows_table} ({', '.join(name for name, _ in RAW_COLUMNS)})\n"
            f"from {quote_literal(manifest_uri)}\n"
            f"iam_role {quote_literal(self.settings.redshift_iam_role)}\n"
            "manifest format as csv emptyasnull encoding utf8 dateformat 'YYYY-MM-DD'\n"
            "compupdate off statupdate off"
        )

    @property
    def data_errors(self) -> tuple[type[Exception], ...]:
        import redshift_connector

        # A failed COPY FROM S3 is a ProgrammingError pointing at stl_load_errors.
        return (redshift_connector.DataError, redshift_connector.ProgrammingError)

    @contextmanager
    def raw_writer(self, obj: S3Object) -> Iterator[RawWriter]:
        data_key = f"{VALIDATED_PREFIX}{obj.key}"
        with tempfile.TemporaryFile() as file:
            writer = CsvFileWriter(obj.load_id, file)
            yield writer
            file.seek(0)
            self.s3.upload_fileobj(file, self.bucket, data_key, ExtraArgs={"ContentType": "text/csv"})
        manifest = {"entries": [{"url": f"s3://{self.bucket}/{data_key}", "mandatory": True}]}
        manifest_key = f"{data_key}.manifest"
        self.s3.put_object(Bucket=self.bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
        self.execute(self.copy_sql(f"s3://{self.bucket}/{manifest_key}"))
        (writer.loaded_rows,) = self.connection.fetchone("select pg_last_copy_count()")


@contextmanager
def open_warehouse(settings: WarehouseSettings, s3=None, lake: LakeSettings | None = None) -> Iterator[Warehouse]:
    from superstore_common.warehouse import connect

    with connect(settings, "superstore-loader") as connection:
        if connection.dialect is POSTGRES:
            yield Postgres(connection, settings)
        else:
            yield Redshift(connection, settings, s3, lake or LakeSettings())
