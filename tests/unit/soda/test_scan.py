"""The scan step against the star schema the real loader and dbt steps built
from a sample of the source (conftest): the clean schema passes; each kind
of bad data fails the step with the check named; a scan of some loads reads
only what they wrote, and the table-wide checks."""

import json
from pathlib import Path

import pytest
from conftest import PUBLISHED_SCHEMA
from superstore_common.settings import WarehouseSettings
from superstore_soda.scanner import data_source_configuration, run_scan

CHECKS = 36  # in checks/published.yml
TABLES = {"fct_sales", "dim_customers", "dim_products", "dim_locations", "dim_orders", "dim_dates"}
NO_LOAD = "load-" + "0" * 20  # well formed, never loaded


def test_the_star_schema_is_what_the_pipeline_built_from_the_sample(star_schema):
    """The fixture's own check: the scanned tables are the pipeline's, with
    the figures the sample's lines make."""
    sample, built = star_schema.sample, star_schema.built
    figures = sample.figures

    assert built.built["tables"] == figures.tables(PUBLISHED_SCHEMA)
    assert built.loaded["loaded_rows"] == figures.lines and built.loaded["rejected_rows"] == 0
    assert (built.loaded["sales_sum"], built.loaded["profit_sum"]) == (str(figures.sales), str(figures.profit))
    with star_schema.published.connect() as conn:
        lines = conn.execute(
            f"select sales.load_id, orders.order_id, count(*) from {PUBLISHED_SCHEMA}.fct_sales as sales"
            f" join {PUBLISHED_SCHEMA}.dim_orders as orders using (order_key)"
            " group by sales.load_id, orders.order_id"
        ).fetchall()
    published = {(load_id, order_id): count for load_id, order_id, count in lines}
    expected = {}
    for load_id, load in zip(built.load_ids, sample.loads, strict=True):
        for row in load.rows:
            expected[load_id, row["Order ID"]] = expected.get((load_id, row["Order ID"]), 0) + 1
    assert published == expected  # each load's lines, order by order


def test_a_clean_star_schema_passes(star_schema, soda_scan, step_env):
    # The Kaggle file's first 300 lines carry 4-character US ZIP codes: dbt
    # restored their leading zero, and the ZIP check sees the cleaned values.
    short = sum(row["Country"] == "United States" and len(row["Postal Code"]) < 5 for row in star_schema.sample.rows)
    print(f"{short} lines of the sample carry a US ZIP code of fewer than 5 characters")

    run = soda_scan("--checks", "published")

    assert run.returncode == 0, run.stderr
    assert run.result == {**run.result, "passed": CHECKS, "warned": 0, "failed": 0, "errors": 0, "load_ids": None}
    assert {check["table"] for check in run.result["checks"]} == TABLES
    assert all(set(check) == {"name", "table", "outcome"} for check in run.result["checks"])
    assert step_env["WAREHOUSE_PASSWORD"] not in run.stderr + json.dumps(run.result)
    # no ~7 s wait on Soda's usage telemetry
    assert run.seconds < 5
    print(f"one scan of the published checks took {run.seconds:.1f} s (process included)")


@pytest.mark.parametrize(
    ("spoil_sql", "failing_check"),
    [
        (
            "insert into dim_products select * from dim_products where product_key = {first_product}",
            "dim_products product_key is unique",
        ),
        (
            "insert into dim_dates select * from dim_dates where date_key = (select min(date_key) from dim_dates)",
            "dim_dates date_key is unique",
        ),
        (
            "update fct_sales set order_line_key = {first_line} where order_line_key = {second_line}",
            "fct_sales order_line_key is unique",
        ),
        (
            "update fct_sales set order_key = md5('no such order') where order_line_key = {first_line}",
            "fct_sales order_key exists in dim_orders",
        ),
        (
            "update fct_sales set customer_key = md5('no such customer') where order_line_key = {first_line}",
            "fct_sales customer_key exists in dim_customers",
        ),
        (
            "update fct_sales set order_date_key = 20991231 where order_line_key = {first_line}",
            "fct_sales order_date_key exists in dim_dates",
        ),
        (
            "update fct_sales set product_key = null where order_line_key = {second_line}",
            "fct_sales product_key is set",
        ),
        (
            "update fct_sales set location_key = null where order_line_key = {second_line}",
            "fct_sales location_key is set",
        ),
        (
            "update fct_sales set quantity = 0 where order_line_key = {first_line}",
            "fct_sales quantity between 1 and 1000",
        ),
        (
            "update fct_sales set quantity = 1001 where order_line_key = {first_line}",
            "fct_sales quantity between 1 and 1000",
        ),
        (
            "update fct_sales set discount = 1.5 where order_line_key = {first_line}",
            "fct_sales discount between 0 and 1",
        ),
        ("update fct_sales set sales = -1 where order_line_key = {first_line}", "fct_sales sales not negative"),
        # SCD2: a second current version of a customer, or none
        (
            "insert into dim_customers select md5(customer_key || ' v2'), customer_id, customer_name, segment,"
            " version_number + 1, current_date, null, true, load_id"
            " from dim_customers where customer_key = {first_customer}",
            "dim_customers has one current version per customer",
        ),
        (
            "update dim_customers set is_current = false where customer_key = {first_customer}",
            "dim_customers has one current version per customer",
        ),
        # dim_locations: a US ZIP code that lost its leading zero; a line
        # pointing at a location that is not there, or at none
        (
            "update dim_locations set postal_code = '4242' where location_key = {first_location}",
            "dim_locations US ZIP codes have 5 characters",
        ),
        (
            "update fct_sales set location_key = md5('nowhere') where order_line_key = {first_line}",
            "fct_sales location_key exists in dim_locations",
        ),
        (
            "delete from dim_locations where location_key = {first_location}",
            "fct_sales location_key exists in dim_locations",
        ),
        (
            "insert into dim_locations select * from dim_locations where location_key = {first_location}",
            "dim_locations location_key is unique",
        ),
        # an empty fact is not fresh either: Soda's freshness check fails on no rows
        ("delete from fct_sales", ("fct_sales has rows", "fct_sales latest load is fresh")),
    ],
)
def test_bad_data_fails_the_scan_naming_the_check(spoil, soda_scan, spoil_sql, failing_check):
    spoil(spoil_sql)

    run = soda_scan()

    failing = assert_failed(run, failing_check)
    assert run.result["failed"] == len(failing) and run.result["passed"] == CHECKS - len(failing)


def failed_line(*checks: str) -> str:
    return f"error: {len(checks)} check{'s' if len(checks) > 1 else ''} failed: {'; '.join(sorted(checks))}"


def assert_failed(run, checks: str | tuple[str, ...]) -> tuple[str, ...]:
    """The scan failed (exit 1) naming `checks`, one or several, in its one
    error line; returns them as a tuple."""
    failing = (checks,) if isinstance(checks, str) else checks
    assert run.returncode == 1
    assert run.error_line == failed_line(*failing)
    return failing


def test_a_4_character_zip_code_outside_the_us_passes(spoil, soda_scan):
    spoil("update dim_locations set country = 'Canada', postal_code = '4242' where location_key = {first_location}")

    run = soda_scan()

    assert run.returncode == 0, run.stderr


def test_several_failures_are_named_in_one_line(spoil, soda_scan):
    spoil(
        "update fct_sales set quantity = 0 where order_line_key = {first_line};"
        "update fct_sales set product_key = md5('no such product') where order_line_key = {second_line};"
        "update dim_locations set postal_code = '4242' where location_key = {second_location}"
    )

    run = soda_scan()

    assert run.returncode == 1
    assert run.error_line == (
        "error: 3 checks failed: dim_locations US ZIP codes have 5 characters;"
        " fct_sales product_key exists in dim_products; fct_sales quantity between 1 and 1000"
    )
    assert run.result["failed"] == 3


@pytest.mark.parametrize("which", ["second", "both"])
def test_a_per_load_scan_runs_every_check(star_schema, soda_scan, which):
    load_ids = [star_schema.second] if which == "second" else list(star_schema.built.load_ids)

    run = soda_scan("--load-ids", json.dumps(load_ids))

    assert run.returncode == 0, run.stderr
    assert run.result == {**run.result, "passed": CHECKS, "failed": 0, "errors": 0, "load_ids": load_ids}


@pytest.mark.parametrize(
    ("spoil_sql", "failing_check"),
    [
        # per-row checks, on the load's lines
        (
            "update fct_sales set quantity = 0 where order_line_key = {second_line}",
            "fct_sales quantity between 1 and 1000",
        ),
        (
            "update fct_sales set product_key = null where order_line_key = {second_line}",
            "fct_sales product_key is set",
        ),
        (
            "update fct_sales set customer_key = md5('no such customer') where order_line_key = {second_line}",
            "fct_sales customer_key exists in dim_customers",
        ),
        (
            "update fct_sales set location_key = md5('nowhere') where order_line_key = {second_line}",
            "fct_sales location_key exists in dim_locations",
        ),
        # an older row carrying a key the load wrote
        (
            "update fct_sales set order_line_key = {second_line} where order_line_key = {first_line}",
            "fct_sales order_line_key is unique",
        ),
        (
            "insert into dim_orders select * from dim_orders where order_key = {second_order}",
            "dim_orders order_key is unique",
        ),
        (
            "insert into dim_locations select * from dim_locations where location_key = {second_location}",
            "dim_locations location_key is unique",
        ),
        # table-level checks, on whole tables, whatever load the row is from
        (
            "update fct_sales set order_line_key = null where order_line_key = {first_line}",
            "fct_sales order_line_key is set",
        ),
        (
            "update dim_customers set is_current = false where customer_key = {first_customer}",
            "dim_customers has one current version per customer",
        ),
        (
            "update dim_locations set postal_code = '4242' where location_key = {first_location}",
            "dim_locations US ZIP codes have 5 characters",
        ),
    ],
)
def test_a_per_load_scan_fails_on_what_the_load_wrote_and_on_table_checks(
    star_schema, spoil, soda_scan, spoil_sql, failing_check
):
    spoil(spoil_sql)

    run = soda_scan("--load-ids", json.dumps([star_schema.second]))

    assert_failed(run, failing_check)


# Rows only the first load wrote, spoiled for every per-row and per-key
# check: its line {first_line} (whose customer, product and location no line
# of the second load points at, and stay pointed at, duplicated), and
# another of its lines pointing nowhere.
OTHER_FIRST_LINE = (
    "(select max(order_line_key) from fct_sales where load_id = {first} and order_line_key <> {first_line})"
)
FIRST_LOAD_SPOILED = (
    "update fct_sales set quantity = 0, discount = 2, sales = -1, order_date_key = 20991231"
    " where order_line_key = {first_line};"
    "update fct_sales set product_key = null, customer_key = md5('no such customer'), location_key = md5('nowhere')"
    f" where order_line_key = {OTHER_FIRST_LINE};"
    "insert into dim_orders select * from dim_orders where order_key = {first_order};"
    "insert into dim_customers select customer_key, customer_id, customer_name, segment, version_number,"
    " valid_from, valid_to, false, load_id from dim_customers where customer_key = {first_customer};"
    "insert into dim_products select * from dim_products where product_key = {first_product};"
    "insert into dim_locations select * from dim_locations where location_key = {first_location}"
)
FIRST_LOAD_FAILURES = {
    "fct_sales quantity between 1 and 1000",
    "fct_sales discount between 0 and 1",
    "fct_sales sales not negative",
    "fct_sales product_key is set",
    "fct_sales customer_key exists in dim_customers",
    "fct_sales location_key exists in dim_locations",
    "fct_sales order_date_key exists in dim_dates",
    "dim_orders order_key is unique",
    "dim_customers customer_key is unique",
    "dim_products product_key is unique",
    "dim_locations location_key is unique",
}


def test_a_per_load_scan_reads_no_row_of_other_loads(star_schema, spoil, soda_scan):
    spoil(FIRST_LOAD_SPOILED)

    second = soda_scan("--load-ids", json.dumps([star_schema.second]))
    first = soda_scan("--load-ids", json.dumps([star_schema.first]))
    every_row = soda_scan()

    assert second.returncode == 0, second.stderr
    assert second.result["passed"] == CHECKS
    for run in (first, every_row):
        assert run.returncode == 1
        assert {c["name"] for c in run.result["checks"] if c["outcome"] == "fail"} == FIRST_LOAD_FAILURES


@pytest.mark.parametrize("load_ids", [[], [NO_LOAD]], ids=["empty", "never-loaded"])
def test_a_scan_of_no_loaded_rows_reads_no_row_but_runs_every_check(spoil, soda_scan, load_ids):
    spoil(FIRST_LOAD_SPOILED + ";update fct_sales set quantity = 0 where order_line_key = {second_line}")

    run = soda_scan("--load-ids", json.dumps(load_ids))

    assert run.returncode == 0, run.stderr
    assert run.result == {**run.result, "passed": CHECKS, "failed": 0, "errors": 0, "load_ids": load_ids}


@pytest.mark.parametrize(
    ("spoil_sql", "failing_check"),
    [
        (
            "update fct_sales set order_line_key = null where order_line_key = {second_line}",
            "fct_sales order_line_key is set",
        ),
        (
            "update dim_customers set is_current = false where customer_key = {second_customer}",
            "dim_customers has one current version per customer",
        ),
        (
            "update dim_locations set postal_code = '4242' where location_key = {second_location}",
            "dim_locations US ZIP codes have 5 characters",
        ),
        # no order, no latest order date either
        ("delete from dim_orders", ("dim_orders has rows", "dim_orders latest order date is fresh")),
    ],
)
def test_a_scan_of_no_load_still_runs_the_table_checks(spoil, soda_scan, spoil_sql, failing_check):
    spoil(spoil_sql)

    run = soda_scan("--load-ids", "[]")

    assert_failed(run, failing_check)


@pytest.mark.parametrize(
    "load_ids",
    [
        "x' or '1' = '1",
        "[\"x' or '1' = '1\"]",
        '"load-0123456789abcdef0123"',
        "load-0123456789abcdef0123",
        '["load-0123456789ABCDEF0123"]',
        '["load-0123456789abcdef0123", 1]',
        '{"load_ids": []}',
        "",
    ],
)
def test_load_ids_that_are_not_a_list_of_load_ids_are_refused(soda_scan, load_ids):
    run = soda_scan("--load-ids", load_ids)

    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"error: --load-ids must be a JSON list of load ids (load-<20 hex>), got {load_ids!r}"
    ]
    assert run.result is None


def test_a_missing_table_is_a_scan_error(spoil, soda_scan):
    spoil("drop table dim_locations")

    run = soda_scan()

    assert run.returncode == 1
    assert run.error_line.startswith("error: ") and "scan error: " in run.error_line
    assert run.result["errors"] >= 1


def test_an_unreachable_warehouse_is_a_scan_error(soda_scan, step_env):
    step_env["WAREHOUSE_PORT"] = "1"

    run = soda_scan()

    assert run.returncode == 1
    assert "scan error: " in run.error_line
    assert step_env["WAREHOUSE_PASSWORD"] not in run.stderr


def test_unknown_checks_are_refused(soda_scan):
    run = soda_scan("--checks", "nope")

    assert run.returncode == 1
    assert run.error_line == "error: no checks named 'nope' (known: published)"


def test_warnings_do_not_fail_the_scan(star_schema, step_env, tmp_path: Path):
    lines = star_schema.sample.figures.lines
    checks = tmp_path / "checks.yml"
    checks.write_text(
        "checks for fct_sales:\n"
        "  - row_count:\n"
        "      name: fct_sales has more rows than the sample\n"
        f"      warn: when <= {lines}\n"
        "  - row_count > 0:\n"
        "      name: fct_sales has rows\n"
    )

    report = run_scan(checks, WarehouseSettings())

    assert report.result()["warned"] == 1 and report.result()["passed"] == 1
    assert report.failure() is None
    # the scan's connection is closed with it, not left idle in a transaction
    # that holds fct_sales (a later test's spoil fixture would wait for it)
    with star_schema.published.connect() as conn:
        idle = conn.execute(
            "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
            " and state like 'idle in transaction%%'"
        ).fetchone()[0]
    assert idle == 0


def test_the_redshift_data_source_is_configured_alike(step_env, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_KIND", "redshift")
    monkeypatch.setenv("WAREHOUSE_PORT", "5439")

    configuration = json.loads(data_source_configuration(WarehouseSettings()))

    source = configuration["data_source warehouse"]
    assert source["type"] == "redshift" and source["port"] == 5439
    assert source["schema"] == PUBLISHED_SCHEMA
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
