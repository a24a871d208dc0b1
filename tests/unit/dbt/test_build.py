"""superstore-dbt build on the real data set, then hand-made incremental
batches: a good one, its replay, and bad ones the batch checks must stop."""

import json
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from dbt_warehouse import OrderLine, Warehouse, read_source
from superstore_dbt.runner import PROJECT_DIR

SOURCE = read_source()
MARTS = {
    "fct_sales": "order_line_key",
    "dim_customers": "customer_key",
    "dim_products": "product_key",
    "dim_orders": "order_key",
    "dim_dates": "date_key",
}
INITIAL_KEY = "raw/initial/superstore.csv"
BATCH_KEY = "incoming/batch-1.csv"

# The batch: new orders, after the data set's last one (2017-12-30).
MOVED = SOURCE[0]  # Claire Gute, CG-12520
RETURNING = max(
    (line for line in SOURCE if line.customer_id == "DV-13045"), key=lambda line: (line.order_date, line.order_id)
)
NEW_ORDER_DATES = {"order_date": date(2018, 1, 5), "ship_date": date(2018, 1, 8)}
ANCHORAGE = {"city": "Anchorage", "state": "Alaska", "postal_code": "99501", "region": "West"}  # in no order yet
NEW_PRODUCT = {
    "product_id": "OFF-ZZ-99999999",
    "product_name": "Test Stapler",
    "category": "Office Supplies",
    "sub_category": "Fasteners",
    "sales": Decimal("12.34"),
    "profit": Decimal("-1.5"),
}
BATCH = [
    # an existing customer ships to a new city: a new version of her
    replace(MOVED, order_id="CA-2018-990001", **NEW_ORDER_DATES, **ANCHORAGE),
    # ... and buys a product never sold before
    replace(MOVED, order_id="CA-2018-990001", **NEW_ORDER_DATES, **ANCHORAGE, **NEW_PRODUCT),
    # a customer never seen before
    replace(
        SOURCE[1], order_id="CA-2018-990002", **NEW_ORDER_DATES, customer_id="ZZ-99999", customer_name="Zoe Zimmer"
    ),
    # an existing customer at her current address: no new version
    replace(RETURNING, order_id="CA-2018-990003", **NEW_ORDER_DATES),
]


def project_files() -> set[str]:
    return {str(path.relative_to(PROJECT_DIR)) for path in PROJECT_DIR.rglob("*")}


def mart_tests(run) -> dict[str, tuple[str, str]]:
    """Each mart test of a build: its name -> (the mart it tests, the SQL it ran)."""
    manifest = json.loads((run.target_dir / "manifest.json").read_text())
    ran = run.target_dir / "run" / "superstore"
    return {
        node["name"]: (
            node["attached_node"].split(".")[-1],
            (ran / node["original_file_path"] / node["path"]).read_text(),
        )
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["fqn"][1] == "marts"
    }


def ledger(warehouse: Warehouse, key: str) -> tuple[str, str | None]:
    return warehouse.rows("select status, reason from {ops}.load_ledger where key = %s", key)[0]


def customer_versions(warehouse: Warehouse, customer_id: str) -> list:
    return warehouse.rows(
        """select version_number, city, valid_from, valid_to, is_current, customer_key
           from {published}.dim_customers where customer_id = %s order by version_number""",
        customer_id,
    )


def customer_keys_of_lines(warehouse: Warehouse, customer_id: str) -> dict[str, str]:
    """order_line_key -> customer_key, for every fact line of a customer."""
    return dict(
        warehouse.rows(
            """select f.order_line_key, f.customer_key from {published}.fct_sales as f
               join {published}.dim_orders as o using (order_key) where o.customer_id = %s""",
            customer_id,
        )
    )


@dataclass(frozen=True)
class Snapshot:
    checksums: dict[str, str]
    counts: dict[str, int]

    @classmethod
    def of(cls, warehouse: Warehouse) -> "Snapshot":
        published = [
            mart for mart in MARTS if warehouse.value("select to_regclass(%s)", f"{warehouse.published}.{mart}")
        ]
        return cls(
            checksums=warehouse.checksums(published),
            counts={mart: warehouse.value(f"select count(*) from {{published}}.{mart}") for mart in published},
        )


@dataclass(frozen=True)
class Build:
    """One build of the scenario and the marts around it."""

    run: object  # conftest.StepRun
    before: Snapshot
    after: Snapshot


@pytest.fixture(scope="module")
def build(warehouse, dbt_step):
    def stage_and_build(lines: list[OrderLine], batch_id: str, key: str, mode: str, **options) -> Build:
        before = Snapshot.of(warehouse)
        warehouse.stage(lines, batch_id=batch_id, key=key)
        run = dbt_step("build", "--mode", mode, **options)
        return Build(run, before, Snapshot.of(warehouse))

    return stage_and_build


# -- the fixtures play the scenario in order; the tests only look at it -----


@pytest.fixture(scope="module")
def project_files_before() -> set[str]:
    return project_files()


@pytest.fixture(scope="module")
def initial_load(project_files_before, build) -> Build:
    # keep_target=False: dbt's files go to the entrypoint's own temp dir
    initial = build(SOURCE, "initial-1", INITIAL_KEY, "initial", keep_target=False)
    assert initial.run.returncode == 0, initial.run.stderr
    return initial


@pytest.fixture(scope="module")
def initial_rerun(initial_load, build) -> Build:
    return build(SOURCE, "initial-1", INITIAL_KEY, "initial")


@pytest.fixture(scope="module")
def history_before_batch(initial_rerun, warehouse) -> dict:
    customers = (MOVED.customer_id, RETURNING.customer_id)
    return {
        "versions": {customer: customer_versions(warehouse, customer) for customer in customers},
        "line_keys": {customer: customer_keys_of_lines(warehouse, customer) for customer in customers},
    }


@pytest.fixture(scope="module")
def incremental(history_before_batch, build) -> Build:
    batch = build(BATCH, "batch-1", BATCH_KEY, "incremental")
    assert batch.run.returncode == 0, batch.run.stderr
    return batch


@pytest.fixture(scope="module")
def replay(incremental, build) -> Build:
    """The same batch again, e.g. a retried task."""
    return build(BATCH, "batch-1", BATCH_KEY, "incremental")


@pytest.fixture
def rejected(replay, build):
    """Build a bad batch (after the good one)."""
    return lambda lines, key: build(lines, key, key, "incremental")


# -- initial load -------------------------------------------------------------


def test_initial_load_publishes_every_line_of_the_file(initial_load, warehouse):
    result = initial_load.run.result
    assert result["tables"][f"{warehouse.published}.fct_sales"] == len(SOURCE) == 9986
    sales, profit = warehouse.rows("select sum(sales) as sales, sum(profit) as profit from {published}.fct_sales")[0]
    assert (sales, profit) == (sum(line.sales for line in SOURCE), sum(line.profit for line in SOURCE))
    assert result["failed"] == [] and result["tests_failed"] == 0 and result["tests_passed"] > 40
    assert ledger(warehouse, INITIAL_KEY) == ("published", None)


def test_result_counts_every_mart(initial_load, warehouse):
    result = initial_load.run.result
    assert result["mode"] == "initial" and result["models"] == 6
    assert result["tables"] == {
        f"{warehouse.published}.{mart}": rows for mart, rows in initial_load.after.counts.items()
    }


def test_keys_are_unique(initial_load, warehouse):
    for mart, key in MARTS.items():
        total, distinct = warehouse.rows(
            f"select count(*) as total, count(distinct {key}) as keys from {{published}}.{mart}"
        )[0]
        assert total == distinct, mart


def test_products_are_unique_although_product_ids_repeat(initial_load):
    pairs = {(line.product_id, line.product_name) for line in SOURCE}
    assert len({line.product_id for line in SOURCE}) == len(pairs) - 32  # ids with several names
    assert initial_load.after.counts["dim_products"] == len(pairs)


def test_every_order_and_day_is_there(initial_load, warehouse):
    assert initial_load.after.counts["dim_orders"] == len({line.order_id for line in SOURCE})
    assert warehouse.rows("select min(date), max(date) from {published}.dim_dates")[0] == (
        date(2010, 1, 1),
        date(2035, 12, 31),
    )


def test_customer_versions_follow_the_order_addresses(initial_load, warehouse):
    versions = customer_versions(warehouse, MOVED.customer_id)
    assert [v.version_number for v in versions] == list(range(1, len(versions) + 1))
    assert [v.is_current for v in versions] == [False] * (len(versions) - 1) + [True]
    assert all(version.valid_to == following.valid_from for version, following in pairwise(versions))
    assert all(version.city != following.city for version, following in pairwise(versions))


def test_the_packaged_project_stays_untouched(initial_load, project_files_before):
    assert project_files() == project_files_before  # no target/, logs/, partial-parse files


def test_postgres_marts_have_a_unique_index_on_their_key(initial_load, warehouse):
    unique_indexes = warehouse.rows(
        "select tablename, indexdef from pg_indexes where schemaname = %s and indexdef like 'CREATE UNIQUE%%'",
        warehouse.published,
    )
    assert {(table, definition.rsplit("(", 1)[1].rstrip(")")) for table, definition in unique_indexes} == set(
        MARTS.items()
    )


def test_the_fact_has_indexes_for_the_lookups_of_one_batch(initial_load, warehouse):
    indexed = warehouse.rows(
        "select indexdef from pg_indexes where schemaname = %s and tablename = 'fct_sales'", warehouse.published
    )
    assert {definition.rsplit("(", 1)[1].rstrip(")") for (definition,) in indexed} >= {"order_key", "batch_id"}


def test_a_full_refresh_tests_whole_tables(initial_rerun):
    tests = mart_tests(initial_rerun.run)
    assert len(tests) == 27
    assert not [name for name, (_, sql) in tests.items() if "stg_orders" in sql]


def test_rerunning_the_initial_load_changes_nothing(initial_rerun):
    assert initial_rerun.run.returncode == 0, initial_rerun.run.stderr
    assert initial_rerun.after == initial_rerun.before


# -- incremental batch -------------------------------------------------------


def test_incremental_batch_adds_exactly_its_lines(incremental, warehouse):
    assert incremental.run.result["mode"] == "incremental"
    assert incremental.after.counts["fct_sales"] == incremental.before.counts["fct_sales"] + len(BATCH)
    assert incremental.run.result["tables"][f"{warehouse.published}.fct_sales"] == incremental.after.counts["fct_sales"]
    batch_sales = warehouse.value("select sum(sales) from {published}.fct_sales where batch_id = 'batch-1'")
    assert batch_sales == sum(line.sales for line in BATCH)
    assert ledger(warehouse, BATCH_KEY) == ("published", None)


def test_batch_adds_its_new_customer_product_and_orders(incremental, warehouse):
    [new_customer] = customer_versions(warehouse, "ZZ-99999")
    assert (new_customer.version_number, new_customer.is_current) == (1, True)
    assert warehouse.value("select count(*) from {published}.dim_products where product_id = 'OFF-ZZ-99999999'") == 1
    assert incremental.after.counts["dim_orders"] == incremental.before.counts["dim_orders"] + 3


def test_moved_customer_gets_a_new_version_for_her_new_orders(incremental, history_before_batch, warehouse):
    before = history_before_batch["versions"][MOVED.customer_id]
    after = customer_versions(warehouse, MOVED.customer_id)
    moved_on = date(2018, 1, 5)
    assert after[:-2] == before[:-1]  # history untouched
    assert after[-2] == before[-1]._replace(valid_to=moved_on, is_current=False)  # the old current version closed
    new = after[-1]
    assert (new.version_number, new.city, new.valid_from, new.valid_to, new.is_current) == (
        len(before) + 1,
        "Anchorage",
        moved_on,
        None,
        True,
    )
    old_lines = history_before_batch["line_keys"][MOVED.customer_id]
    lines = customer_keys_of_lines(warehouse, MOVED.customer_id)
    assert {line: lines[line] for line in old_lines} == old_lines  # old lines keep their version
    assert [key for line, key in lines.items() if line not in old_lines] == [new.customer_key] * 2


def test_customer_at_the_same_address_keeps_her_version(incremental, history_before_batch, warehouse):
    versions = customer_versions(warehouse, RETURNING.customer_id)
    assert versions == history_before_batch["versions"][RETURNING.customer_id]
    old_lines = history_before_batch["line_keys"][RETURNING.customer_id]
    lines = customer_keys_of_lines(warehouse, RETURNING.customer_id)
    assert [key for line, key in lines.items() if line not in old_lines] == [versions[-1].customer_key]


def test_an_incremental_run_tests_only_the_rows_it_merged(incremental, warehouse):
    batch_lines = "where batch_id in ('batch-1')"
    staged_keys = f'"{warehouse.staging}"."stg_orders"'
    for name, (mart, sql) in mart_tests(incremental.run).items():
        if mart == "fct_sales":
            assert batch_lines in sql, name
        elif mart == "dim_dates":  # a fixed calendar, read whole
            assert "dbt_subquery" not in sql, name
        else:
            assert staged_keys in sql, name


def test_replaying_a_batch_changes_nothing(replay, warehouse):
    assert replay.run.returncode == 0, replay.run.stderr
    assert replay.after == replay.before
    assert ledger(warehouse, BATCH_KEY) == ("published", None)


# -- bad batches: checked, stopped, recorded ---------------------------------


def test_a_batch_failing_a_check_is_not_published(rejected, warehouse):
    bad = rejected([replace(BATCH[0], order_id="CA-2018-990004", quantity=-1)], "incoming/negative-quantity.csv")
    assert bad.run.returncode == 1
    assert bad.run.stderr.strip() == "error: 1 check failed, batch not published: stg_orders_quantity_positive"
    assert bad.after == bad.before
    status, reason = ledger(warehouse, "incoming/negative-quantity.csv")
    assert status == "rejected" and "stg_orders_quantity_positive" in reason
    # the failing rows stay inspectable beside the batch
    assert warehouse.rows("select order_id, quantity from {staging}.stg_orders_quantity_positive") == [
        ("CA-2018-990004", -1)
    ]


def test_an_order_sent_again_is_not_published_twice(rejected, warehouse):
    bad = rejected(BATCH[2:3], "incoming/resent.csv")  # an order batch-1 published
    assert bad.run.returncode == 1
    assert bad.run.stderr.strip() == (
        "error: 1 check failed, batch not published: stg_orders_order_ids_not_yet_published"
    )
    assert bad.after == bad.before
    status, reason = ledger(warehouse, "incoming/resent.csv")
    assert status == "rejected" and "stg_orders_order_ids_not_yet_published" in reason


def test_mart_tests_read_the_batch_rows_and_no_older_ones(rejected, warehouse):
    # An older line pointing at no product: an incremental run does not read it.
    old_line = warehouse.value("select min(order_line_key) from {published}.fct_sales where batch_id = 'initial-1'")
    warehouse.execute(
        "update {published}.fct_sales set product_key = 'no-such-product' where order_line_key = %s", old_line
    )
    # The batch passes its checks, but is shipped after the last day of dim_dates.
    late = replace(BATCH[0], order_id="CA-2035-990005", order_date=date(2035, 12, 31), ship_date=date(2036, 1, 2))

    bad = rejected([late], "incoming/shipped-past-the-calendar.csv")

    assert bad.run.stderr.strip() == (
        "error: 1 check failed, batch not published: relationships_fct_sales_ship_date_key__date_key__ref_dim_dates_"
    )
