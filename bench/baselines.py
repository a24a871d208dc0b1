"""What the pipeline's steps are compared with:

- `psql \\copy` of the CSV from local disk into the raw rows table: the server
  parses everything, nothing is validated; the physical limit of a load;
- naive inserts: psycopg `executemany` (which psycopg 3 pipelines) and a loop
  of single-row `execute` calls (one round trip per row);
- a naive generator calling Faker for every field of every row
  (naive_generator.py, run in the generator's virtualenv where Faker lives).

US dates such as 11/8/2016 are left to PostgreSQL with DateStyle MDY, set
explicitly rather than trusted to the server's default."""

import csv
import os
import time
from itertools import islice
from pathlib import Path
from typing import TextIO

from measure import Measured, measure
from stack import connect
from superstore_common.source_format import column_name

# The table the loader COPYs into: the raw layer's rows.
STAGING_TABLE = f"{os.environ.get('WAREHOUSE_RAW_SCHEMA', 'raw')}.order_lines"
DATESTYLE = "ISO, MDY"
NAIVE_GENERATOR = Path(__file__).with_name("naive_generator.py")


def staging_columns(csv_path: Path) -> list[str]:
    """The table's columns of the file's columns, in file order: 'Sub-Category' -> sub_category."""
    with csv_path.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    return [column_name(name) for name in header]


def psql_copy(db: str, csv_path: Path, log: TextIO) -> Measured:
    columns = ", ".join(staging_columns(csv_path))
    env = os.environ
    argv = [
        "psql", "-h", env["WAREHOUSE_HOST"], "-p", env["WAREHOUSE_PORT"], "-U", env["WAREHOUSE_USER"], "-d", db,
        "-v", "ON_ERROR_STOP=1", "-c", f"\\copy {STAGING_TABLE} ({columns}) from '{csv_path}' csv header",
    ]  # fmt: skip
    return measure(argv, log, {**env, "PGPASSWORD": env["WAREHOUSE_PASSWORD"], "PGDATESTYLE": DATESTYLE})


def _insert(db: str, csv_path: Path, rows: int, row_by_row: bool) -> float:
    """Seconds to read `rows` rows of the file and insert them; rolled back."""
    columns = staging_columns(csv_path)
    sql = f"insert into {STAGING_TABLE} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"
    with connect(db) as conn:
        conn.execute(f"set datestyle = '{DATESTYLE}'")
        started = time.perf_counter()
        with conn.transaction(force_rollback=True), conn.cursor() as cursor:
            with csv_path.open(newline="", encoding="utf-8") as file:
                reader = csv.reader(file)
                next(reader)
                if row_by_row:
                    for row in islice(reader, rows):
                        cursor.execute(sql, row)
                else:
                    cursor.executemany(sql, islice(reader, rows))
            seconds = time.perf_counter() - started
    return seconds


def executemany_insert(db: str, csv_path: Path, rows: int) -> float:
    return _insert(db, csv_path, rows, row_by_row=False)


def execute_loop_insert(db: str, csv_path: Path, rows: int) -> float:
    return _insert(db, csv_path, rows, row_by_row=True)


def naive_generator(venvs: Path, rows: int, out: Path, log: TextIO) -> Measured:
    return measure([str(venvs / "generator" / "bin" / "python"), str(NAIVE_GENERATOR), str(rows), str(out)], log)
