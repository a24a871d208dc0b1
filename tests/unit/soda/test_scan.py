"""The scan step against small hand-made published tables: a clean set
passes; each kind of bad data fails the step with the check named."""

import json
from pathlib import Path

import pytest
from superstore_common.settings import WarehouseSettings
from superstore_soda.scanner import data_source_configuration, run_scan

CHECKS = 27  # in checks/published.yml
LATER_BATCH = "gen-20170612-abc"  # wrote line l4, order o3 and customer version c1-2 (conftest)


def test_a_clean_star_schema_passes(warehouse, soda_scan, step_env):
    run = soda_scan("--checks", "published")

    assert run.returncode == 0, run.stderr
    assert run.result == {**run.result, "passed": CHECKS, "warned": 0, "failed": 0, "errors": 0}
    tables = {check["table"] for check in run.result["checks"]}
    assert tables == {"fct_sales", "dim_customers", "dim_products", "dim_orders", "dim_dates"}
    assert all(set(check) == {"name", "table", "outcome"} for check in run.result["checks"])
    assert step_env["WAREHOUSE_PASSWORD"] not in run.stderr + json.dumps(run.result)
    # no ~7 s wait on Soda's usage telemetry
    assert run.seconds < 5
    print(f"one scan of the published checks took {run.seconds:.1f} s (process included)")


@pytest.mark.parametrize(
    ("spoil", "failing_check"),
    [
        (
            "insert into dim_products select * from dim_products where product_key = 'p1'",
            "dim_products product_key is unique",
        ),
        ("insert into dim_dates select * from dim_dates where date_key = 20161108", "dim_dates date_key is unique"),
        (
            "update fct_sales set order_line_key = 'l1' where order_line_key = 'l2'",
            "fct_sales order_line_key is unique",
        ),
        (
            "update fct_sales set customer_key = 'c9-1' where order_line_key = 'l3'",
            "fct_sales customer_key exists in dim_customers",
        ),
        (
            "update fct_sales set order_date_key = 20991231 where order_line_key = 'l3'",
            "fct_sales order_date_key exists in dim_dates",
        ),
        ("update fct_sales set product_key = null where order_line_key = 'l4'", "fct_sales product_key is set"),
        ("update fct_sales set quantity = 0 where order_line_key = 'l1'", "fct_sales quantity between 1 and 1000"),
        ("update fct_sales set quantity = 1001 where order_line_key = 'l1'", "fct_sales quantity between 1 and 1000"),
        ("update fct_sales set discount = 1.5 where order_line_key = 'l1'", "fct_sales discount between 0 and 1"),
        ("update fct_sales set sales = -1 where order_line_key = 'l1'", "fct_sales sales not negative"),
        (
            "update dim_customers set is_current = true where customer_key = 'c1-1'",
            "dim_customers has one current version per customer",
        ),
        (
            "update dim_customers set is_current = false where customer_key = 'c2-1'",
            "dim_customers has one current version per customer",
        ),
        ("delete from fct_sales", "fct_sales has rows"),
    ],
)
def test_bad_data_fails_the_scan_naming_the_check(warehouse, soda_scan, spoil, failing_check):
    warehouse(spoil)

    run = soda_scan()

    assert run.returncode == 1
    assert run.error_line == f"error: 1 check failed: {failing_check}"
    assert run.result["failed"] == 1 and run.result["passed"] == CHECKS - 1


def test_several_failures_are_named_in_one_line(warehouse, soda_scan):
    warehouse(
        "update fct_sales set quantity = 0 where order_line_key = 'l1';"
        "update fct_sales set product_key = 'p9' where order_line_key = 'l2'"
    )

    run = soda_scan()

    assert run.returncode == 1
    assert run.error_line == (
        "error: 2 checks failed: fct_sales product_key exists in dim_products; fct_sales quantity between 1 and 1000"
    )


def test_a_batch_scan_runs_every_check(warehouse, soda_scan):
    run = soda_scan("--batch-id", LATER_BATCH)

    assert run.returncode == 0, run.stderr
    assert run.result == {**run.result, "passed": CHECKS, "failed": 0, "errors": 0, "batch_id": LATER_BATCH}


@pytest.mark.parametrize(
    ("spoil", "failing_check"),
    [
        # per-row checks, on the batch's rows
        ("update fct_sales set quantity = 0 where order_line_key = 'l4'", "fct_sales quantity between 1 and 1000"),
        ("update fct_sales set product_key = null where order_line_key = 'l4'", "fct_sales product_key is set"),
        (
            "update fct_sales set customer_key = 'c9-1' where order_line_key = 'l4'",
            "fct_sales customer_key exists in dim_customers",
        ),
        # an older row carrying a key the batch wrote
        (
            "update fct_sales set order_line_key = 'l4' where order_line_key = 'l1'",
            "fct_sales order_line_key is unique",
        ),
        ("insert into dim_orders select * from dim_orders where order_key = 'o3'", "dim_orders order_key is unique"),
        # table-level checks, on whole tables
        ("update fct_sales set order_line_key = null where order_line_key = 'l1'", "fct_sales order_line_key is set"),
        (
            "update dim_customers set is_current = false where customer_key = 'c2-1'",
            "dim_customers has one current version per customer",
        ),
    ],
)
def test_a_batch_scan_fails_on_what_the_batch_wrote_and_on_table_checks(warehouse, soda_scan, spoil, failing_check):
    warehouse(spoil)

    run = soda_scan("--batch-id", LATER_BATCH)

    assert run.returncode == 1
    assert run.error_line == f"error: 1 check failed: {failing_check}"


def test_a_batch_scan_reads_no_row_of_other_batches(warehouse, soda_scan):
    warehouse(
        "update fct_sales set quantity = 0, customer_key = 'c9-1' where order_line_key = 'l1';"
        "insert into dim_orders select * from dim_orders where order_key = 'o2'"
    )

    assert soda_scan("--batch-id", LATER_BATCH).returncode == 0
    assert soda_scan().result["failed"] == 3


def test_a_batch_id_that_is_not_one_is_refused(soda_scan):
    run = soda_scan("--batch-id", "x' or '1' = '1")

    assert run.returncode == 1
    assert run.error_line == "error: not a batch id: \"x' or '1' = '1\" (letters, digits and ._:+- only, at most 128)"


def test_a_missing_table_is_a_scan_error(warehouse, soda_scan):
    warehouse("drop table dim_dates")

    run = soda_scan()

    assert run.returncode == 1
    assert run.error_line.startswith("error: ") and "scan error: " in run.error_line
    assert run.result["errors"] >= 1


def test_an_unreachable_warehouse_is_a_scan_error(warehouse, soda_scan, step_env):
    step_env["WAREHOUSE_PORT"] = "1"

    run = soda_scan()

    assert run.returncode == 1
    assert "scan error: " in run.error_line
    assert step_env["WAREHOUSE_PASSWORD"] not in run.stderr


def test_unknown_checks_are_refused(soda_scan):
    run = soda_scan("--checks", "nope")

    assert run.returncode == 1
    assert run.error_line == "error: no checks named 'nope' (known: published)"


def test_warnings_do_not_fail_the_scan(warehouse, step_env, tmp_path: Path):
    checks = tmp_path / "checks.yml"
    checks.write_text(
        "checks for fct_sales:\n"
        "  - row_count:\n"
        "      name: fct_sales has many rows\n"
        "      warn: when < 1000\n"
        "  - row_count > 0:\n"
        "      name: fct_sales has rows\n"
    )

    report = run_scan(checks, WarehouseSettings())

    assert report.result()["warned"] == 1 and report.result()["passed"] == 1
    assert report.failure() is None


def test_the_redshift_data_source_is_configured_alike(step_env, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_KIND", "redshift")
    monkeypatch.setenv("WAREHOUSE_PORT", "5439")

    configuration = json.loads(data_source_configuration(WarehouseSettings()))

    source = configuration["data_source warehouse"]
    assert source["type"] == "redshift" and source["port"] == 5439
    assert source["schema"] == "soda_test_analytics"
    assert "connection_timeout_sec" in source


def test_soda_reads_its_global_configuration_from_the_package():
    """Telemetry off, and no key missing: Soda would write the file back
    (into the image's read-only site-packages) to add one."""
    from soda.common.config_helper import ConfigHelper
    from superstore_soda import scanner

    soda_config = ConfigHelper.get_instance()

    assert soda_config.config_path == str(Path(scanner.__file__).with_name("soda_config.yml"))
    assert soda_config.send_anonymous_usage_stats is False
    assert set(soda_config.config) == set(ConfigHelper.DEFAULT_CONFIG)
