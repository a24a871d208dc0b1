"""superstore-dbt build on the real data set, then hand-made incremental
batches: good, replayed, and bad ones that the batch checks must stop."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

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


def project_files() -> set[str]:
    return {str(path.relative_to(PROJECT_DIR)) for path in PROJECT_DIR.rglob("*")}


def ledger(warehouse: Warehouse, key: str) -> tuple[str, str | None]:
    return warehouse.rows("select status, reason from {ops}.load_ledger where key = %s", key)[0]


def customer_versions(warehouse: Warehouse, customer_id: str) -> list[tuple]:
    return warehouse.rows(
        """select version_number, city, valid_from, valid_to, is_current, customer_key
           from {published}.dim_customers where customer_id = %s order by version_number""",
        customer_id,
    )


def line_customer_keys(warehouse: Warehouse, customer_id: str) -> dict[str, str]:
    """order_line_key -> customer_key of every fact line of a customer."""
    return dict(
        warehouse.rows(
            """select f.order_line_key, f.customer_key from {published}.fct_sales as f
               join {published}.dim_orders as o using (order_key) where o.customer_id = %s""",
            customer_id,
        )
    )


def latest_order(customer_id: str) -> OrderLine:
    return max((line for line in SOURCE if line.customer_id == customer_id), key=lambda l: (l.order_date, l.order_id))


# A batch of new orders, after the last order of the data set (2017-12-30).
MOVED = SOURCE[0]  # Claire Gute, CG-12520
RETURNING = latest_order("DV-13045")
BATCH = [
    # an existing customer ships to a city no order has seen: a new version
    replace(MOVED, order_id="CA-2018-990001", order_date=date(2018, 1, 5), ship_date=date(2018, 1, 8),
            city="Anchorage", state="Alaska", postal_code="99501", region="West"),
    # ... in the same order, a product never sold before
    replace(MOVED, order_id="CA-2018-990001", order_date=date(2018, 1, 5), ship_date=date(2018, 1, 8),
            city="Anchorage", state="Alaska", postal_code="99501", region="West",
            product_id="OFF-ZZ-99999999", product_name="Test Stapler", category="Office Supplies",
            sub_category="Fasteners", sales=Decimal("12.3400"), quantity=2, discount=Decimal("0.2"),
            profit=Decimal("-1.5000")),
    # a customer never seen before
    replace(SOURCE[1], order_id="CA-2018-990002", order_date=date(2018, 1, 6), ship_date=date(2018, 1, 9),
            customer_id="ZZ-99999", customer_name="Zoe Zimmer", segment="Home Office"),
    # an existing customer at her current address: no new version
    replace(RETURNING, order_id="CA-2018-990003", order_date=date(2018, 1, 7), ship_date=date(2018, 1, 7),
            ship_mode="Same Day"),
]


@dataclass(frozen=True)
class Snapshot:
    checksums: dict[str, str]
    counts: dict[str, int]

    @classmethod
    def of(cls, warehouse: Warehouse) -> "Snapshot":
        return cls(
            checksums=warehouse.checksums(MARTS),
            counts={mart: warehouse.value(f"select count(*) from {{published}}.{mart}") for mart in MARTS},
        )


# -- the fixtures run the scenario in order; the tests only look at it ------


@pytest.fixture(scope="module")
def initial_load(warehouse, dbt_step):
    warehouse.stage(SOURCE, batch_id="initial-1", key=INITIAL_KEY)
    files_before = project_files()
    run = dbt_step("build", "--mode", "initial", keep_target=False)
    assert run.returncode == 0, run.stderr
    return run, files_before


@pytest.fixture(scope="module")
def initial_rerun(initial_load, warehouse, dbt_step):
    before = Snapshot.of(warehouse)
    run = dbt_step("build", "--mode", "initial")
    assert run.returncode == 0, run.stderr
    return before, Snapshot.of(warehouse), run


@pytest.fixture(scope="module")
def incremental(initial_rerun, warehouse, dbt_step):
    before = Snapshot.of(warehouse)
    keys_before = {customer: line_customer_keys(warehouse, customer) for customer in (MOVED.customer_id, RETURNING.customer_id)}
    versions_before = {customer: customer_versions(warehouse, customer) for customer in (MOVED.customer_id, RETURNING.customer_id)}
    warehouse.stage(BATCH, batch_id="batch-1", key=BATCH_KEY)
    run = dbt_step("build", "--mode", "incremental")
    assert run.returncode == 0, run.stderr
    return before, keys_before, versions_before, run


@pytest.fixture(scope="module")
def replay(incremental, warehouse, dbt_step):
    """The same batch again, e.g. a retried task."""
    before = Snapshot.of(warehouse)
    warehouse.stage(BATCH, batch_id="batch-1", key=BATCH_KEY)
    run = dbt_step("build", "--mode", "incremental")
    return before, Snapshot.of(warehouse), run


@pytest.fixture
def rejected(replay, warehouse, dbt_step):
    """Stage a bad batch, build: (run, snapshot before, snapshot after)."""

    def build(lines: list[OrderLine], key: str):
        before = Snapshot.of(warehouse)
        warehouse.stage(lines, batch_id=key, key=key)
        run = dbt_step("build", "--mode", "incremental")
        return run, before, Snapshot.of(warehouse)

    return build


# -- initial load -------------------------------------------------------------


def test_initial_load_publishes_every_line_of_the_file(initial_load, warehouse):
    run, _ = initial_load
    sales, profit = warehouse.rows("select sum(sales), sum(profit) from {published}.fct_sales")[0]
    assert run.result["tables"][f"{warehouse.published}.fct_sales"] == len(SOURCE) == 9986
    assert (sales, profit) == (sum(line.sales for line in SOURCE), sum(line.profit for line in SOURCE))
    assert run.result["failed"] == [] and run.result["tests_failed"] == 0 and run.result["tests_passed"] > 40
    assert ledger(warehouse, INITIAL_KEY) == ("published", None)


def test_result_counts_every_mart(initial_load, warehouse):
    run, _ = initial_load
    assert run.result["mode"] == "initial" and run.result["models"] == 6
    assert run.result["tables"] == {
        f"{warehouse.published}.{mart}": warehouse.value(f"select count(*) from {{published}}.{mart}") for mart in MARTS
    }


def test_keys_are_unique(initial_load, warehouse):
    for mart, key in MARTS.items():
        total, distinct = warehouse.rows(f"select count(*), count(distinct {key}) from {{published}}.{mart}")[0]
        assert total == distinct, mart


def test_products_are_unique_although_product_ids_repeat(initial_load, warehouse):
    pairs = {(line.product_id, line.product_name) for line in SOURCE}
    product_ids = {line.product_id for line in SOURCE}
    assert len(product_ids) < len(pairs)  # 32 ids carry several names
    assert warehouse.value("select count(*) from {published}.dim_products") == len(pairs)


def test_every_order_and_date_is_covered(initial_load, warehouse):
    assert warehouse.value("select count(*) from {published}.dim_orders") == len({line.order_id for line in SOURCE})
    first, last = warehouse.rows('select min(date), max(date) from {published}.dim_dates')[0]
    assert (first, last) == (date(2010, 1, 1), date(2035, 12, 31))


def test_customer_history_follows_the_order_addresses(initial_load, warehouse):
    versions = customer_versions(warehouse, MOVED.customer_id)
    assert [v[0] for v in versions] == list(range(1, len(versions) + 1))
    assert [v[4] for v in versions] == [False] * (len(versions) - 1) + [True]
    # each version ends where the next begins
    assert all(version[3] == following[2] for version, following in zip(versions, versions[1:]))


def test_the_packaged_project_stays_untouched(initial_load):
    _, files_before = initial_load
    assert project_files() == files_before  # no target/, logs/ or partial-parse files


def test_postgres_marts_have_a_unique_index_on_their_key(initial_rerun, warehouse):
    unique_indexes = warehouse.rows(
        "select tablename, indexdef from pg_indexes where schemaname = %s and indexdef like 'CREATE UNIQUE%%'",
        warehouse.published,
    )
    assert {(table, key) for table, key in MARTS.items()} == {
        (table, definition.rsplit("(", 1)[1].rstrip(")")) for table, definition in unique_indexes
    }


def test_rerunning_the_initial_load_changes_nothing(initial_rerun):
    before, after, _ = initial_rerun
    assert after == before


# -- incremental batch -------------------------------------------------------


def test_incremental_batch_adds_exactly_its_lines(incremental, warehouse):
    before, *_, run = incremental
    assert run.result["mode"] == "incremental"
    assert run.result["tables"][f"{warehouse.published}.fct_sales"] == before.counts["fct_sales"] + len(BATCH)
    batch_sales = warehouse.value("select sum(sales) from {published}.fct_sales where batch_id = 'batch-1'")
    assert batch_sales == sum(line.sales for line in BATCH)
    assert ledger(warehouse, BATCH_KEY) == ("published", None)


def test_batch_adds_new_customer_product_and_orders(incremental, warehouse):
    before, *_ = incremental
    assert customer_versions(warehouse, "ZZ-99999")[0][:2] == (1, SOURCE[1].city)
    assert warehouse.value("select count(*) from {published}.dim_products where product_id = 'OFF-ZZ-99999999'") == 1
    assert warehouse.value("select count(*) from {published}.dim_orders") == before.counts["dim_orders"] + 3


def test_moved_customer_gets_a_new_version(incremental, warehouse):
    _, keys_before, versions_before, _ = incremental
    old, new = versions_before[MOVED.customer_id], customer_versions(warehouse, MOVED.customer_id)
    assert new[:-1][:-1] == old[:-1]  # history untouched ...
    assert new[-2][:3] == old[-1][:3] and new[-2][3:5] == (date(2018, 1, 5), False)  # ... but the last version closed
    assert new[-1][:5] == (len(old) + 1, "Anchorage", date(2018, 1, 5), None, True)
    lines = line_customer_keys(warehouse, MOVED.customer_id)
    new_lines = {line: key for line, key in lines.items() if line not in keys_before[MOVED.customer_id]}
    assert len(new_lines) == 2 and set(new_lines.values()) == {new[-1][5]}  # new lines -> new version
    assert {line: lines[line] for line in keys_before[MOVED.customer_id]} == keys_before[MOVED.customer_id]


def test_customer_at_the_same_address_keeps_her_version(incremental, warehouse):
    _, keys_before, versions_before, _ = incremental
    versions = customer_versions(warehouse, RETURNING.customer_id)
    assert versions == versions_before[RETURNING.customer_id]
    lines = line_customer_keys(warehouse, RETURNING.customer_id)
    assert set(lines.values()) - set(keys_before[RETURNING.customer_id].values()) == set()
    assert lines.keys() - keys_before[RETURNING.customer_id].keys() and versions[-1][4]


def test_replaying_a_batch_changes_nothing(replay, warehouse):
    before, after, run = replay
    assert run.returncode == 0, run.stderr
    assert after == before
    assert ledger(warehouse, BATCH_KEY) == ("published", None)


# -- bad batches: checked, stopped, recorded ---------------------------------


def test_a_batch_failing_a_check_is_not_published(rejected, warehouse):
    bad_line = replace(BATCH[0], order_id="CA-2018-990004", quantity=-1)
    run, before, after = rejected([bad_line], key="incoming/negative-quantity.csv")
    assert run.returncode == 1
    assert run.stderr.strip() == "error: 1 check failed, batch not published: stg_orders_quantity_positive"
    assert after == before
    status, reason = ledger(warehouse, "incoming/negative-quantity.csv")
    assert status == "rejected" and "stg_orders_quantity_positive" in reason
    # the failing rows stay inspectable next to the batch
    stored = warehouse.rows("select order_id, quantity from {staging}.stg_orders_quantity_positive")
    assert stored == [("CA-2018-990004", -1)]


def test_a_resent_order_is_not_published_twice(rejected, warehouse):
    run, before, after = rejected(BATCH[2:3], key="incoming/resent.csv")
    assert run.returncode == 1
    assert run.stderr.strip() == "error: 1 check failed, batch not published: stg_orders_order_ids_not_yet_published"
    assert after == before
    status, reason = ledger(warehouse, "incoming/resent.csv")
    assert status == "rejected" and "stg_orders_order_ids_not_yet_published" in reason
