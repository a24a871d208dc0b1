"""`create-schemas` and `drop-staging` on PostgreSQL."""

import os
import re

from conftest import run_loader

# The staging table dbt reads: names and types exactly (", " only between columns).
STAGING = """row_id integer, order_id varchar(32), order_date date, ship_date date, ship_mode varchar(32),
customer_id varchar(32), customer_name varchar(128), segment varchar(32), country varchar(64), city varchar(128),
state varchar(64), postal_code varchar(16), region varchar(32), product_id varchar(32), category varchar(64),
sub_category varchar(64), product_name varchar(512), sales numeric(18,4), quantity integer, discount numeric(6,4),
profit numeric(18,4), _batch_id varchar(128), _source_bucket varchar(256), _source_key varchar(1024),
_source_etag varchar(128), _source_line integer"""

COLUMN_TYPE = """
select column_name || ' ' || case
    when data_type = 'character varying' then 'varchar(' || character_maximum_length || ')'
    when data_type = 'numeric' then 'numeric(' || numeric_precision || ',' || numeric_scale || ')'
    else data_type end
from information_schema.columns where table_schema = %s and table_name = %s order by ordinal_position
"""


def columns(db, schema: str, table: str) -> list[str]:
    return [row[0] for row in db.connection.execute(COLUMN_TYPE, (schema, table))]


def test_create_schemas_is_idempotent_and_builds_the_contract_tables(schemas, db):
    run = run_loader("create-schemas")

    staging, published, ops = (os.environ[f"WAREHOUSE_{s}_SCHEMA"] for s in ("STAGING", "PUBLISHED", "OPS"))
    assert (run.returncode, run.json) == (0, {"schemas": [staging, published, ops]}), run.stderr
    assert columns(db, staging, "orders") == re.split(r",\s+", STAGING)
    assert columns(db, ops, "load_ledger")[:5] == [
        "bucket varchar(256)", "key varchar(1024)", "etag varchar(128)", "batch_id varchar(128)", "status varchar(16)",
    ]  # fmt: skip
    assert db.one("select count(*) from information_schema.schemata where schema_name = %s", (published,)) == (1,)


def test_drop_staging_drops_the_schema_and_only_that(schemas, db):
    staging, ops = os.environ["WAREHOUSE_STAGING_SCHEMA"], os.environ["WAREHOUSE_OPS_SCHEMA"]

    dropped = run_loader("drop-staging")
    again = run_loader("drop-staging")

    assert (dropped.returncode, dropped.json) == (0, {"dropped": staging}), dropped.stderr
    assert (again.returncode, again.json) == (0, {"dropped": staging}), again.stderr
    exists = "select count(*) from information_schema.schemata where schema_name = %s"
    assert (db.one(exists, (staging,)), db.one(exists, (ops,))) == ((0,), (1,))
    assert run_loader("create-schemas").returncode == 0  # for the tests that follow
