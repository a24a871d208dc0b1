"""Fixtures for the Soda step's tests: small hand-made published tables in a
database of our own on the local PostgreSQL, and the superstore-soda
entrypoint run as a process."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg import sql
from stack import connect, fresh_database, set_env

DATABASE = "test_soda"
# Not the default: proves that the schema name comes from the environment.
PUBLISHED_SCHEMA = "soda_test_analytics"
ENTRYPOINT = Path(sys.executable).with_name("superstore-soda")

# A clean star schema: two customers (one moved: two versions, one current),
# two products, three orders, four lines. The last line, its order and the
# customer's second version come from a later batch.
CLEAN_TABLES = """
create table dim_customers (
    customer_key text, customer_id text, customer_name text, segment text, country text, city text,
    state text, postal_code text, region text, version_number int, valid_from date, valid_to date,
    is_current boolean, batch_id text
);
insert into dim_customers values
    ('c1-1', 'CG-12520', 'Claire Gute', 'Consumer', 'United States', 'Henderson', 'Kentucky', '42420', 'South',
     1, '2016-11-08', '2017-06-12', false, 'initial'),
    ('c1-2', 'CG-12520', 'Claire Gute', 'Consumer', 'United States', 'Seattle', 'Washington', '98103', 'West',
     2, '2017-06-12', null, true, 'gen-20170612-abc'),
    ('c2-1', 'DV-13045', 'Darrin Van Huff', 'Corporate', 'United States', 'Los Angeles', 'California', '90036',
     'West', 1, '2016-06-12', null, true, 'initial');

create table dim_products (product_key text, product_id text, product_name text, category text, sub_category text);
insert into dim_products values
    ('p1', 'FUR-BO-10001798', 'Bush Somerset Collection Bookcase', 'Furniture', 'Bookcases'),
    ('p2', 'OFF-LA-10000240', 'Self-Adhesive Address Labels for Typewriters by Universal', 'Office Supplies', 'Labels');

create table dim_orders (
    order_key text, order_id text, order_date date, ship_date date, ship_mode text, customer_id text
);
insert into dim_orders values
    ('o1', 'CA-2016-152156', '2016-11-08', '2016-11-11', 'Second Class', 'CG-12520'),
    ('o2', 'CA-2016-138688', '2016-06-12', '2016-06-16', 'Second Class', 'DV-13045'),
    ('o3', 'CA-2017-100001', '2017-06-12', '2017-06-14', 'First Class', 'CG-12520');

create table dim_dates (date_key int, date date, year int, month int, day int);
insert into dim_dates values
    (20160612, '2016-06-12', 2016, 6, 12), (20160616, '2016-06-16', 2016, 6, 16),
    (20161108, '2016-11-08', 2016, 11, 8), (20161111, '2016-11-11', 2016, 11, 11),
    (20170612, '2017-06-12', 2017, 6, 12), (20170614, '2017-06-14', 2017, 6, 14);

create table fct_sales (
    order_line_key text, order_key text, customer_key text, product_key text, order_date_key int, ship_date_key int,
    sales numeric(14, 4), quantity int, discount numeric(4, 2), profit numeric(14, 4), batch_id text
);
insert into fct_sales values
    ('l1', 'o1', 'c1-1', 'p1', 20161108, 20161111, 261.96, 2, 0, 41.9136, 'initial'),
    ('l2', 'o1', 'c1-1', 'p2', 20161108, 20161111, 14.62, 2, 0, 6.8714, 'initial'),
    ('l3', 'o2', 'c2-1', 'p2', 20160612, 20160616, 7.31, 1, 0, 3.5819, 'initial'),
    ('l4', 'o3', 'c1-2', 'p1', 20170612, 20170614, 104.784, 1, 0.2, -7.8588, 'gen-20170612-abc');
"""


def pytest_configure(config):
    # soda-core still imports distutils
    config.addinivalue_line("filterwarnings", "ignore:The distutils package is deprecated:DeprecationWarning")
    if "WAREHOUSE_PASSWORD" not in os.environ:
        raise pytest.UsageError(
            "`source scripts/env.sh` and `bash scripts/stack.sh up` first (WAREHOUSE_PASSWORD unset)"
        )


@pytest.fixture(scope="session")
def database() -> str:
    fresh_database(DATABASE)
    return DATABASE


@pytest.fixture
def warehouse(database: str) -> Iterator[Callable[[str], None]]:
    """The clean published tables, rebuilt for each test; call it with SQL to
    spoil them."""
    schema = sql.Identifier(PUBLISHED_SCHEMA)
    with connect(database) as conn:

        def execute(statements: str) -> None:
            conn.execute(sql.SQL("set search_path to {}").format(schema))
            conn.execute(statements)

        conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema))
        conn.execute(sql.SQL("create schema {}").format(schema))
        execute(CLEAN_TABLES)
        yield execute


@pytest.fixture
def step_env(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    settings = {
        "WAREHOUSE_KIND": "postgres",
        "WAREHOUSE_DB": database,
        "WAREHOUSE_PUBLISHED_SCHEMA": PUBLISHED_SCHEMA,
        "XCOM_RETURN_PATH": str(tmp_path / "return.json"),
    }
    return set_env(monkeypatch, settings)


@dataclass(frozen=True)
class StepRun:
    returncode: int
    stderr: str
    result: dict | None
    seconds: float

    @property
    def error_line(self) -> str:
        return self.stderr.strip().splitlines()[-1]


@pytest.fixture
def soda_scan(step_env: dict[str, str]) -> Callable[..., StepRun]:
    """Run `superstore-soda scan ARGS` as a process."""

    def run(*args: str) -> StepRun:
        result_path = Path(step_env["XCOM_RETURN_PATH"])
        result_path.unlink(missing_ok=True)
        started = time.monotonic()
        done = subprocess.run(
            [str(ENTRYPOINT), "scan", *args], env=step_env, capture_output=True, text=True, timeout=120
        )
        seconds = time.monotonic() - started
        result = json.loads(result_path.read_text()) if result_path.exists() else None
        return StepRun(done.returncode, done.stderr, result, seconds)

    return run
