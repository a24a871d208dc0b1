"""The Redshift target, tested by what it would send: Redshift cannot be
reached from here (and dbt-redshift does not connect to PostgreSQL)."""

import json

import pytest

REDSHIFT = {"WAREHOUSE_KIND": "redshift", "WAREHOUSE_HOST": "redshift.example.invalid", "WAREHOUSE_PORT": "5439"}
MARTS = ["fct_sales", "dim_customers", "dim_products", "dim_orders", "dim_dates"]


@pytest.fixture(scope="module")
def redshift_manifest(dbt_step) -> dict:
    run = dbt_step("parse", **REDSHIFT)
    assert run.returncode == 0, run.stderr
    return json.loads((run.target_dir / "manifest.json").read_text())


def test_project_parses_for_redshift(redshift_manifest):
    assert redshift_manifest["metadata"]["adapter_type"] == "redshift"


def test_redshift_marts_get_dist_and_sort_keys_instead_of_indexes(redshift_manifest):
    configs = {mart: redshift_manifest["nodes"][f"model.superstore.{mart}"]["config"] for mart in MARTS}
    assert (configs["fct_sales"]["dist"], configs["fct_sales"]["sort"]) == ("order_key", ["order_date_key"])
    assert {configs[mart]["dist"] for mart in ("dim_customers", "dim_products", "dim_dates")} == {"all"}
    for mart, config in configs.items():
        assert not config.get("indexes"), mart
        assert config["materialized"] == "incremental" and config["incremental_strategy"] == "merge", mart


def test_batch_checks_compile_for_redshift_without_a_connection(dbt_step):
    # Only the staging layer compiles offline: the marts ask the warehouse
    # whether they exist (is_incremental). --full-refresh skips the lookup of
    # published orders in the duplicate check.
    run = dbt_step(
        "compile", "--select", "stg_orders", "--full-refresh", "--no-introspect", "--no-populate-cache", **REDSHIFT
    )
    assert run.returncode == 0, run.stderr
    compiled = run.target_dir / "compiled" / "superstore"
    stg_orders = (compiled / "models" / "staging" / "stg_orders.sql").read_text()
    # unbounded text in keys: Redshift's TEXT is varchar(256) and casts truncate
    assert "md5(coalesce(cast(order_id as varchar(max)), '_null_'))" in stg_orders
    assert "generate_series" not in stg_orders
    assert (compiled / "tests" / "staging" / "stg_orders_order_header_consistent.sql").exists()
