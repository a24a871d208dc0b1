"""`create-schemas` and `drop-staging` on PostgreSQL."""

import os
import re

from conftest import RAW_SCHEMA, run_loader
from superstore_common.settings import WarehouseSettings

# The raw layer's rows as dbt reads them: names and types exactly (", " only between columns).
RAW_ROWS = """row_id integer, order_id varchar(32), order_date date, ship_date date, ship_mode varchar(32),
customer_id varchar(32), customer_name varchar(128), segment varchar(32), country varchar(64), city varchar(128),
state varchar(64), postal_code varchar(16), region varchar(32), product_id varchar(32), category varchar(64),
sub_category varchar(64), product_name varchar(512), sales numeric(18,4), quantity integer, discount numeric(6,4),
profit numeric(18,4), _source_line integer, _load_id varchar(32)"""
LOADS = """load_id varchar(32), bucket varchar(256), key varchar(1024), etag varchar(128), state varchar(16),
source_rows bigint, raw_rows bigint, rejected_rows bigint, sales_sum numeric(38,4), profit_sum numeric(38,4),
reason varchar(1024), received_at timestamp without time zone, updated_at timestamp without time zone,
published_at timestamp without time zone"""
LOAD_TRANSITIONS = """load_id varchar(32), from_state varchar(16), to_state varchar(16),
changed_at timestamp without time zone, changed_by varchar(256), reason varchar(1024)"""

COLUMN_TYPE = """
select column_name || ' ' || case
    when data_type = 'character varying' then 'varchar(' || character_maximum_length || ')'
    when data_type = 'numeric' then 'numeric(' || numeric_precision || ',' || numeric_scale || ')'
    else data_type end
from information_schema.columns where table_schema = %s and table_name = %s order by ordinal_position
"""
EXISTS = "select count(*) from information_schema.schemata where schema_name = %s"


def columns(db, schema: str, table: str) -> list[str]:
    return [row[0] for row in db.connection.execute(COLUMN_TYPE, (schema, table))]


def test_create_schemas_is_idempotent_and_builds_the_raw_layer_and_the_ledger(schemas, db):
    run = run_loader("create-schemas")

    published, ops = (os.environ[f"WAREHOUSE_{s}_SCHEMA"] for s in ("PUBLISHED", "OPS"))
    assert (run.returncode, run.json) == (0, {"schemas": [RAW_SCHEMA, published, ops]}), run.stderr
    assert schemas == run.json
    assert columns(db, RAW_SCHEMA, "order_lines") == re.split(r",\s+", RAW_ROWS)
    assert columns(db, RAW_SCHEMA, "loads") == re.split(r",\s+", LOADS)
    assert columns(db, RAW_SCHEMA, "load_transitions") == re.split(r",\s+", LOAD_TRANSITIONS)
    for schema in (published, ops):
        assert db.one(EXISTS, (schema,)) == (1,)
    # A load's rows are found by a BRIN index on the load id.
    (indexdef,) = db.one(
        "select indexdef from pg_indexes where schemaname = %s and tablename = 'order_lines'", (RAW_SCHEMA,)
    )
    assert indexdef.endswith("USING brin (_load_id)")


def test_drop_staging_drops_the_runs_audit_schema_and_only_that(schemas, db):
    settings = WarehouseSettings()
    mine, other = settings.audit_schema("run-x"), settings.audit_schema("run-y")
    assert mine != other and mine.startswith(settings.staging_schema)
    for schema in (mine, other):
        db.connection.execute(f'create schema "{schema}"')
        db.connection.execute(f'create table "{schema}".stg_orders (x integer)')

    dropped = run_loader("drop-staging", "--run-id", "run-x")
    again = run_loader("drop-staging", "--run-id", "run-x")

    assert (dropped.returncode, dropped.json) == (0, {"dropped": mine}), dropped.stderr
    assert (again.returncode, again.json) == (0, {"dropped": mine}), again.stderr
    assert [db.one(EXISTS, (schema,))[0] for schema in (mine, other, RAW_SCHEMA)] == [0, 1, 1]


def test_drop_staging_needs_the_run_id(schemas):
    run = run_loader("drop-staging")

    assert run.returncode != 0 and run.json is None
    assert len(run.error_lines) == 1 and "--run-id" in run.error_lines[0], run.stderr
