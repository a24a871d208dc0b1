"""superstore-dbt build on the real data set loaded by the real loader, then
hand-made incremental loads: a good one, its replay, bad ones the checks
must stop before anything is published, and a rebuild from the raw history."""

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from dbt_warehouse import OrderLine, Warehouse, read_source, to_csv
from stack import source_csv
from superstore_common.settings import WarehouseSettings
from superstore_dbt.runner import PROJECT_DIR

SOURCE_FILE = source_csv()
SOURCE = read_source(SOURCE_FILE)
MARTS = {
    "fct_sales": "order_line_key",
    "dim_customers": "customer_key",
    "dim_locations": "location_key",
    "dim_products": "product_key",
    "dim_orders": "order_key",
    "dim_dates": "date_key",
}
INITIAL_KEY = "raw/initial/superstore.csv"
BATCH_KEY = "incoming/batch-1.csv"


def zip5(line: OrderLine) -> str:
    return line.postal_code.zfill(5) if line.country == "United States" and line.postal_code else line.postal_code


def expected_versions(lines: list[OrderLine]) -> dict[str, list[tuple[str, str]]]:
    """Each customer's (name, segment) versions, walking the orders by (date, id)."""
    orders = sorted(
        {(line.customer_id, line.order_date, line.order_id, line.customer_name, line.segment) for line in lines}
    )
    versions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for customer_id, _, _, name, segment in orders:
        if not versions[customer_id] or versions[customer_id][-1] != (name, segment):
            versions[customer_id].append((name, segment))
    return versions


# The batch: new orders, after the data set's last one.
LAST_DAY = max(line.order_date for line in SOURCE)
NEW_DATES = {"order_date": LAST_DAY + timedelta(days=6), "ship_date": LAST_DAY + timedelta(days=9)}
CHANGED = SOURCE[0]  # changes segment with her next order: a new version
RETURNING = max(
    (line for line in SOURCE if line.customer_id != CHANGED.customer_id), key=lambda x: (x.order_date, x.order_id)
)
OTHER_SEGMENT = next(s for s in ("Consumer", "Corporate", "Home Office") if s != CHANGED.segment)
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
    # an existing customer changes segment: a new version of her
    replace(CHANGED, order_id="CA-2099-990001", **NEW_DATES, segment=OTHER_SEGMENT),
    # ... and buys a product never sold before
    replace(CHANGED, order_id="CA-2099-990001", **NEW_DATES, segment=OTHER_SEGMENT, **NEW_PRODUCT),
    # a customer never seen before
    replace(SOURCE[1], order_id="CA-2099-990002", **NEW_DATES, customer_id="ZZ-99999", customer_name="Zoe Zimmer"),
    # an existing customer, unchanged, ships to a place no order went to: no new version, a new place
    replace(RETURNING, order_id="CA-2099-990003", **NEW_DATES, **ANCHORAGE),
]


def project_files() -> set[str]:
    return {str(path.relative_to(PROJECT_DIR)) for path in PROJECT_DIR.rglob("*")}


def audit_schema(run_id: str) -> str:
    return WarehouseSettings(password="-", staging_schema="dbt_test_staging").audit_schema(run_id)


def mart_tests(run) -> dict[str, str]:
    """Each mart test of a build: its name -> the SQL it ran."""
    manifest = json.loads((run.target_dir / "manifest.json").read_text())
    ran = run.target_dir / "run" / "superstore"
    return {
        node["name"]: (ran / node["original_file_path"] / node["path"]).read_text()
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["fqn"][1] == "marts"
    }


def customer_versions(warehouse: Warehouse, customer_id: str) -> list:
    return warehouse.rows(
        """select version_number, customer_name, segment, valid_from, valid_to, is_current, customer_key
           from {published}.dim_customers where customer_id = %s order by version_number""",
        customer_id,
    )


def customer_keys_of_lines(warehouse: Warehouse, customer_id: str) -> dict[str, str]:
    """order_line_key -> customer_key, for every fact line of a customer."""
    return dict(
        warehouse.rows(
            """select f.order_line_key, f.customer_key from {published}.fct_sales as f
               join {published}.dim_customers as c using (customer_key) where c.customer_id = %s""",
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
    load_ids: list[str]
    before: Snapshot
    after: Snapshot


@pytest.fixture(scope="module")
def build(warehouse, dbt_step, tmp_path_factory):
    def load_and_build(files: dict[str, bytes], mode: str, run_id: str, **options) -> Build:
        before = Snapshot.of(warehouse)
        load_ids = [
            warehouse.load(body, key, tmp_path_factory.mktemp("load") / "r.json") for key, body in files.items()
        ]
        states = {load_id: warehouse.load_state(load_id)[0] for load_id in load_ids}
        candidates = [load_id for load_id in load_ids if states[load_id] == "staged"]  # as the loader reports
        run = dbt_step("build", "--mode", mode, "--load-ids", json.dumps(candidates), "--run-id", run_id, **options)
        return Build(run, load_ids, before, Snapshot.of(warehouse))

    return load_and_build


# -- the fixtures play the scenario in order; the tests only look at it -----


@pytest.fixture(scope="module")
def project_files_before() -> set[str]:
    return project_files()


@dataclass(frozen=True)
class InitialBuild(Build):
    """... and what the published tables held right after it (the tests that
    look at it may run after the incremental loads)."""

    distinct_load_ids: list
    distinct_loaded_at: list
    customer_ids: int
    current_customers: int


@pytest.fixture(scope="module")
def initial_load(project_files_before, build, warehouse) -> InitialBuild:
    # keep_target=False: dbt's files go to the entrypoint's own temp dir
    initial = build({INITIAL_KEY: SOURCE_FILE.read_bytes()}, "initial", "initial-1", keep_target=False)
    assert initial.run.returncode == 0, initial.run.stderr
    return InitialBuild(
        **vars(initial),
        distinct_load_ids=warehouse.rows("select distinct load_id from {published}.fct_sales"),
        distinct_loaded_at=warehouse.rows("select distinct loaded_at from {published}.fct_sales"),
        customer_ids=warehouse.value("select count(distinct customer_id) from {published}.dim_customers"),
        current_customers=warehouse.value("select count(*) from {published}.dim_customers where is_current"),
    )


@pytest.fixture(scope="module")
def initial_rerun(initial_load, build) -> Build:
    return build({INITIAL_KEY: SOURCE_FILE.read_bytes()}, "initial", "initial-2")


@pytest.fixture(scope="module")
def history_before_batch(initial_rerun, warehouse) -> dict:
    customers = (CHANGED.customer_id, RETURNING.customer_id)
    return {
        "versions": {customer: customer_versions(warehouse, customer) for customer in customers},
        "line_keys": {customer: customer_keys_of_lines(warehouse, customer) for customer in customers},
    }


@pytest.fixture(scope="module")
def incremental(history_before_batch, build) -> Build:
    batch = build({BATCH_KEY: to_csv(BATCH)}, "incremental", "batch-1")
    assert batch.run.returncode == 0, batch.run.stderr
    return batch


@pytest.fixture(scope="module")
def replay(incremental, build) -> Build:
    """The same object again, e.g. a redelivered event."""
    return build({BATCH_KEY: to_csv(BATCH)}, "incremental", "batch-1-again")


@pytest.fixture
def rejected(replay, build):
    """Load and build bad objects (after the good one)."""
    return lambda files, run_id: build(files, "incremental", run_id)


# -- initial load -------------------------------------------------------------


def test_initial_load_publishes_every_line_of_the_file(initial_load, warehouse):
    result = initial_load.run.result
    assert result["tables"][f"{warehouse.published}.fct_sales"] == len(SOURCE)
    sales, profit = warehouse.rows(
        "select sum(sales) as sales, sum(profit) as profit from {published}.fct_sales where load_id = %s",
        initial_load.load_ids[0],
    )[0]
    assert (sales, profit) == (sum(line.sales for line in SOURCE), sum(line.profit for line in SOURCE))
    assert result["rejected"] == [] and result["tests_passed"] > 25 and result["builds"] == 1
    assert result["published"] == initial_load.load_ids
    assert warehouse.load_state(initial_load.load_ids[0]) == ("published", None)


def test_result_counts_every_mart(initial_load, warehouse):
    result = initial_load.run.result
    assert (
        result["mode"] == "initial" and result["rebuild"] and result["models"] == 8
    )  # + stg_orders, int_customer_versions
    assert result["tables"] == {
        f"{warehouse.published}.{mart}": rows for mart, rows in initial_load.after.counts.items()
    }


def test_every_row_knows_its_load_and_when_it_was_published(initial_load, warehouse):
    (load_id,) = initial_load.load_ids
    assert initial_load.distinct_load_ids == [(load_id,)]
    published_at = warehouse.value("select published_at from {raw}.loads where load_id = %s", load_id)
    assert initial_load.distinct_loaded_at == [(published_at,)]


def test_keys_are_unique(initial_load, warehouse):
    for mart, key in MARTS.items():
        total, distinct = warehouse.rows(
            f"select count(*) as total, count(distinct {key}) as keys from {{published}}.{mart}"
        )[0]
        assert total == distinct, mart


def test_products_are_unique_although_product_ids_repeat(initial_load):
    pairs = {(line.product_id, line.product_name) for line in SOURCE}
    assert len({line.product_id for line in SOURCE}) < len(pairs)  # some ids carry several names
    assert initial_load.after.counts["dim_products"] == len(pairs)


def test_every_order_and_day_is_there(initial_load, warehouse):
    assert initial_load.after.counts["dim_orders"] == len({line.order_id for line in SOURCE})
    assert warehouse.rows("select min(date), max(date) from {published}.dim_dates")[0] == (
        date(2010, 1, 1),
        date(2035, 12, 31),
    )


def test_customers_are_versioned_on_their_own_attributes_only(initial_load, warehouse):
    versions = expected_versions(SOURCE)
    assert initial_load.after.counts["dim_customers"] == sum(len(v) for v in versions.values())
    assert initial_load.customer_ids == len(versions)
    # most customers ship to several places: that is no new version of them
    places = defaultdict(set)
    for line in SOURCE:
        places[line.customer_id].add((line.city, line.state))
    assert sum(len(p) > 1 for p in places.values()) > len(places) / 2
    assert initial_load.current_customers == len(versions)


def test_locations_are_the_ship_to_places_with_5_character_zip_codes(initial_load, warehouse):
    places = {(line.country, line.region, line.state, line.city, zip5(line)) for line in SOURCE}
    assert initial_load.after.counts["dim_locations"] == len(places)
    assert warehouse.value("select count(*) from {published}.dim_locations where length(postal_code) <> 5") == 0
    # every line points at the place its order ships to
    published = set(
        warehouse.rows(
            """select o.order_id, l.city, l.state, l.postal_code from {published}.fct_sales f
               join {published}.dim_orders o using (order_key) join {published}.dim_locations l using (location_key)
               where f.load_id = %s""",
            initial_load.load_ids[0],
        )
    )
    assert published == {(line.order_id, line.city, line.state, zip5(line)) for line in SOURCE}


def test_the_raw_layer_keeps_the_source_postal_codes(initial_load, warehouse):
    short = sum(1 for line in SOURCE if len(line.postal_code) < 5)
    short_in_raw = warehouse.value(
        "select count(*) from {raw}.order_lines where length(postal_code) < 5 and _load_id = %s",
        initial_load.load_ids[0],
    )
    assert short_in_raw == short
    assert short > 0 or SOURCE_FILE.name != "superstore-kaggle.csv"  # the Kaggle copy lost 438 leading zeros


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


def test_the_fact_has_indexes_for_the_lookups_of_one_load(initial_load, warehouse):
    indexed = warehouse.rows(
        "select indexdef from pg_indexes where schemaname = %s and tablename = 'fct_sales'", warehouse.published
    )
    assert {definition.rsplit("(", 1)[1].rstrip(")") for (definition,) in indexed} >= {"order_key", "load_id"}


def test_every_check_reads_the_audit_tables_not_the_published_ones(initial_rerun):
    tests = mart_tests(initial_rerun.run)
    assert len(tests) >= 20
    audit = f'"{audit_schema("initial-2")}".'
    for name, sql in tests.items():
        assert audit in sql and '"dbt_test_analytics".' not in sql, name


def test_rerunning_the_initial_load_changes_nothing(initial_rerun):
    assert initial_rerun.run.returncode == 0, initial_rerun.run.stderr
    assert initial_rerun.run.result["published"] == []  # the file is published: the loader skipped it
    assert initial_rerun.after == initial_rerun.before


# -- incremental load -----------------------------------------------------------


def test_incremental_load_adds_exactly_its_lines(incremental, warehouse):
    result = incremental.run.result
    assert result["mode"] == "incremental" and not result["rebuild"]
    assert result["published"] == incremental.load_ids
    assert incremental.after.counts["fct_sales"] == incremental.before.counts["fct_sales"] + len(BATCH)
    assert result["tables"][f"{warehouse.published}.fct_sales"] == incremental.after.counts["fct_sales"]
    (load_id,) = incremental.load_ids
    load_sales = warehouse.value("select sum(sales) from {published}.fct_sales where load_id = %s", load_id)
    assert load_sales == sum(line.sales for line in BATCH)
    assert warehouse.load_state(load_id) == ("published", None)


def test_the_load_adds_its_new_customer_product_place_and_orders(incremental, warehouse):
    [new_customer] = customer_versions(warehouse, "ZZ-99999")
    assert (new_customer.version_number, new_customer.is_current) == (1, True)
    assert warehouse.value("select count(*) from {published}.dim_products where product_id = 'OFF-ZZ-99999999'") == 1
    assert warehouse.value("select count(*) from {published}.dim_locations where city = 'Anchorage'") == 1
    assert incremental.after.counts["dim_orders"] == incremental.before.counts["dim_orders"] + 3


def test_a_changed_customer_gets_a_new_version_for_her_new_orders(incremental, history_before_batch, warehouse):
    before = history_before_batch["versions"][CHANGED.customer_id]
    after = customer_versions(warehouse, CHANGED.customer_id)
    changed_on = NEW_DATES["order_date"]
    assert after[:-2] == before[:-1]  # history untouched
    assert after[-2] == before[-1]._replace(valid_to=changed_on, is_current=False)  # the old current version closed
    new = after[-1]
    assert (new.version_number, new.segment, new.valid_from, new.valid_to, new.is_current) == (
        len(before) + 1,
        OTHER_SEGMENT,
        changed_on,
        None,
        True,
    )
    old_lines = history_before_batch["line_keys"][CHANGED.customer_id]
    lines = customer_keys_of_lines(warehouse, CHANGED.customer_id)
    assert {line: lines[line] for line in old_lines} == old_lines  # old lines keep their version
    assert [key for line, key in lines.items() if line not in old_lines] == [new.customer_key] * 2


def test_a_customer_shipping_elsewhere_keeps_her_version(incremental, history_before_batch, warehouse):
    versions = customer_versions(warehouse, RETURNING.customer_id)
    assert versions == history_before_batch["versions"][RETURNING.customer_id]
    old_lines = history_before_batch["line_keys"][RETURNING.customer_id]
    lines = customer_keys_of_lines(warehouse, RETURNING.customer_id)
    assert [key for line, key in lines.items() if line not in old_lines] == [versions[-1].customer_key]


def test_an_incremental_audit_holds_the_candidates_changes_only(incremental, warehouse):
    schema = audit_schema("batch-1")
    fact = warehouse.value(f'select count(*) from "{schema}".fct_sales')
    calendar = warehouse.value(f'select count(*) from "{schema}".dim_dates')
    assert (fact, calendar) == (len(BATCH), 2)  # its lines; the two days they point at


def test_replaying_a_load_changes_nothing(replay, warehouse):
    assert replay.run.returncode == 0, replay.run.stderr
    assert replay.run.result["published"] == [] and replay.run.result["builds"] == 0
    assert replay.after == replay.before


# -- bad loads: checked, stopped before anything is published, recorded ---------


def assert_rejected_alone(bad: Build, warehouse: Warehouse, check: str) -> None:
    assert bad.run.returncode == 0, bad.run.stderr  # the build did its job: a verdict
    (load_id,) = bad.load_ids
    assert bad.run.result["rejected"] == [{"load_id": load_id, "reason": f"1 check failed: {check}"}]
    assert bad.run.result["published"] == []
    assert bad.after == bad.before  # every published table byte-identical
    state, reason = warehouse.load_state(load_id)
    assert state == "rejected" and check in reason


@pytest.fixture(scope="module")
def negative_quantity(replay, build) -> Build:
    """A load failing a batch check (module-scoped: the rebuild needs a rejected load, in any test order)."""
    return build(
        {"incoming/negative-quantity.csv": to_csv([replace(BATCH[0], order_id="CA-2099-990004", quantity=-1)])},
        "incremental",
        "neg",
    )


def test_a_load_failing_a_batch_check_is_not_published(negative_quantity, warehouse):
    bad = negative_quantity
    assert_rejected_alone(bad, warehouse, "stg_orders_quantity_positive")
    # the failing rows stay inspectable in the run's audit schema, the rows in the raw layer
    schema = audit_schema("neg")
    assert warehouse.rows(f'select order_id, quantity from "{schema}".stg_orders_quantity_positive') == [
        ("CA-2099-990004", -1)
    ]
    assert warehouse.value("select count(*) from {raw}.order_lines where _load_id = %s", bad.load_ids[0]) == 1


def test_an_order_sent_again_is_not_published_twice(rejected, warehouse):
    bad = rejected({"incoming/resent.csv": to_csv(BATCH[2:3])}, "resent")  # an order batch-1 published
    assert_rejected_alone(bad, warehouse, "stg_orders_order_ids_not_yet_published")


@pytest.mark.parametrize(
    ("order_id", "second_line", "run_id"),
    [
        ("CA-2099-990020", {"ship_mode": "Same Day"}, "header"),
        ("CA-2099-990021", {"postal_code": ""}, "header-null"),  # "": NULL in the raw layer, against a value
    ],
)
def test_an_order_whose_lines_disagree_on_its_header_is_rejected(rejected, warehouse, order_id, second_line, run_id):
    first = replace(BATCH[0], order_id=order_id, ship_mode="Second Class", postal_code="10024")
    lines = [first, replace(first, row_id=first.row_id + 1, product_id=BATCH[2].product_id, **second_line)]
    bad = rejected({f"incoming/{run_id}.csv": to_csv(lines)}, run_id)
    assert_rejected_alone(bad, warehouse, "stg_orders_order_header_consistent")
    failing = warehouse.rows(f'select order_id from "{audit_schema(run_id)}".stg_orders_order_header_consistent')
    assert failing == [(first.order_id,)]


def test_a_mart_check_failing_publishes_nothing(rejected, warehouse):
    """The case that used to leak: the staging checks pass, a mart check fails
    (a day past the calendar). Nothing may reach the published tables."""
    late = replace(BATCH[0], order_id="CA-2035-990005", order_date=date(2035, 12, 31), ship_date=date(2036, 1, 2))
    bad = rejected({"incoming/shipped-past-the-calendar.csv": to_csv([late])}, "late")
    assert_rejected_alone(bad, warehouse, "relationships_fct_sales_ship_date_key__date_key__ref_dim_dates_")


def test_a_bad_load_is_rejected_alone_and_the_good_one_published(rejected, warehouse):
    good = [replace(BATCH[2], order_id="CA-2099-990006")]
    bad = [replace(BATCH[0], order_id="CA-2099-990007", discount=Decimal("1.5"))]
    run = rejected({"incoming/good.csv": to_csv(good), "incoming/bad-discount.csv": to_csv(bad)}, "mixed")
    good_id, bad_id = run.load_ids
    assert run.run.result["published"] == [good_id]
    assert run.run.result["rejected"] == [
        {"load_id": bad_id, "reason": "1 check failed: stg_orders_discount_between_0_and_1"}
    ]
    assert run.after.counts["fct_sales"] == run.before.counts["fct_sales"] + 1
    assert (warehouse.load_state(good_id)[0], warehouse.load_state(bad_id)[0]) == ("published", "rejected")


def test_an_order_in_two_loads_of_one_run_rejects_the_later_one(rejected, warehouse):
    order = [replace(BATCH[2], order_id="CA-2099-990008")]
    run = rejected({"incoming/first.csv": to_csv(order), "incoming/second.csv": to_csv(order)}, "twice")
    first, second = run.load_ids
    assert run.run.result["published"] == [first]
    assert [r["load_id"] for r in run.run.result["rejected"]] == [second]
    assert run.after.counts["fct_sales"] == run.before.counts["fct_sales"] + 1


# -- rebuild from the raw history -------------------------------------------------


@pytest.fixture(scope="module")
def rebuild(replay, negative_quantity, build, warehouse):
    """After the scenario and (at least) one rejected load: the initial mode
    with nothing new rebuilds every mart from the whole raw history (e.g.
    after a model fix)."""
    return build({}, "initial", "rebuild")


def test_a_rebuild_from_the_raw_history_gives_the_published_tables(rebuild, warehouse):
    assert rebuild.run.returncode == 0, rebuild.run.stderr
    assert rebuild.run.result["rebuild"] and rebuild.run.result["rejected"] == []
    assert rebuild.after == rebuild.before
    # rejected loads' rows stay in the raw layer, and out of the marts
    rejected = warehouse.value("select count(*) from {raw}.loads where state = 'rejected'")
    assert rejected >= 1
    assert (
        warehouse.value(
            "select count(*) from {published}.fct_sales where load_id in (select load_id from {raw}.loads where state <> 'published')"
        )
        == 0
    )


def test_the_unit_tests_pass(dbt_step):
    run = dbt_step("unit-tests")
    assert run.returncode == 0, run.stderr
