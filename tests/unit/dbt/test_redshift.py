"""The Redshift target, tested by what it would send: Redshift cannot be
reached from here (and dbt-redshift does not connect to PostgreSQL)."""

import json
from types import SimpleNamespace

import pytest
from superstore_common.settings import WarehouseSettings
from superstore_common.warehouse import REDSHIFT, Connection
from superstore_dbt.publish import Publisher
from superstore_dbt.runner import Mart

REDSHIFT_ENV = {"WAREHOUSE_KIND": "redshift", "WAREHOUSE_HOST": "redshift.example.invalid", "WAREHOUSE_PORT": "5439"}
MARTS = ["fct_sales", "dim_customers", "dim_locations", "dim_products", "dim_orders", "dim_dates"]


@pytest.fixture(scope="module")
def redshift_manifest(dbt_step) -> dict:
    run = dbt_step("parse", **REDSHIFT_ENV)
    assert run.returncode == 0, run.stderr
    return json.loads((run.target_dir / "manifest.json").read_text())


def test_project_parses_for_redshift(redshift_manifest):
    assert redshift_manifest["metadata"]["adapter_type"] == "redshift"


def test_redshift_marts_get_dist_and_sort_keys_instead_of_indexes(redshift_manifest):
    configs = {mart: redshift_manifest["nodes"][f"model.superstore.{mart}"]["config"] for mart in MARTS}
    assert (configs["fct_sales"]["dist"], configs["fct_sales"]["sort"]) == ("order_key", ["order_date_key"])
    assert {configs[mart]["dist"] for mart in ("dim_customers", "dim_locations", "dim_products", "dim_dates")} == {
        "all"
    }
    for mart, config in configs.items():
        assert not config.get("indexes"), mart
        assert config["materialized"] == "table" and config["unique_key"], mart  # audit tables, published by key


def test_candidate_rows_compile_for_redshift_without_a_connection(dbt_step):
    # rebuild: the check for published orders would ask the warehouse
    variables = json.dumps({"load_ids": ["load-0123456789abcdef0123"], "rebuild": True})
    run = dbt_step(
        "compile",
        "--select",
        "stg_orders",
        "--vars",
        variables,
        "--no-introspect",
        "--no-populate-cache",
        **REDSHIFT_ENV,
    )
    assert run.returncode == 0, run.stderr
    compiled = run.target_dir / "compiled" / "superstore"
    stg_orders = (compiled / "models" / "staging" / "stg_orders.sql").read_text()
    # unbounded text in keys: Redshift's TEXT is varchar(256) and casts truncate
    assert "md5(coalesce(cast(order_id as varchar(max)), '_null_'))" in stg_orders
    assert "where _load_id in ('load-0123456789abcdef0123')" in stg_orders
    assert "or _load_id in (select load_id from" in stg_orders  # and the published history
    assert "lpad(postal_code, 5, '0')" in stg_orders
    assert (compiled / "tests" / "staging" / "stg_orders_order_header_consistent.sql").exists()


def test_a_load_id_that_is_not_one_does_not_compile(dbt_step):
    run = dbt_step("compile", "--select", "stg_orders", "--vars", '{"load_ids": ["x\' or 1=1 --"]}', "--no-introspect")
    assert run.returncode == 1 and "not a load id" in run.stderr


class Recorded:
    """A Redshift connection as far as the publisher uses it: what it sends."""

    def __init__(self, columns: list[str]):
        self.columns = columns

    def fetchall(self, sql, params=None):
        return [(name,) for name in self.columns]


def redshift_publisher(columns: list[str]) -> Publisher:
    connection = Connection(SimpleNamespace(), REDSHIFT)
    connection.fetchall = Recorded(columns).fetchall
    settings = WarehouseSettings(password="-", kind="redshift")
    return Publisher(
        connection, settings, "staging_abc", [Mart("dim_orders", "order_key"), Mart("fct_sales", "order_line_key")]
    )


def test_redshift_publishes_an_incremental_run_by_delete_using_and_insert():
    statements = redshift_publisher(["order_key", "order_id"]).statements(rebuild=False)
    assert statements[:2] == [
        'delete from "analytics"."dim_orders" using "staging_abc"."dim_orders"'
        ' where "analytics"."dim_orders"."order_key" = "staging_abc"."dim_orders"."order_key"',
        'insert into "analytics"."dim_orders" ("order_key", "order_id") select "order_key", "order_id"'
        ' from "staging_abc"."dim_orders"',
    ]
    assert len(statements) == 4


def test_redshift_rebuilds_by_create_like_and_insert():
    statements = redshift_publisher([]).statements(rebuild=True)
    assert statements[:3] == [
        'drop table if exists "analytics"."dim_orders"',
        'create table "analytics"."dim_orders" (like "staging_abc"."dim_orders")',
        'insert into "analytics"."dim_orders" select * from "staging_abc"."dim_orders"',
    ]
    assert not any("set schema" in statement or "cascade" in statement for statement in statements)
