"""Learning from the warehouse's published tables (small aggregates over
psycopg) gives the same profile as learning from the same data as a CSV:
customers at their current version, ship-to places from dim_locations
(5-character ZIP codes) and where each customer has shipped to."""

import csv
import io

import psycopg
import pytest
import star_schema
from conftest import BUCKET, PROFILE_FIELDS, PUBLISHED_SCHEMA
from psycopg import sql
from stack import conninfo
from superstore_common.settings import WarehouseSettings
from superstore_common.source_format import parse_date
from superstore_common.step import StepError
from superstore_generator import warehouse_reference
from superstore_generator.csv_reference import CsvReference
from superstore_generator.profile import Customer
from superstore_generator.warehouse_reference import WarehouseReference

AS_OF = "2024-03-05"
CHANGED_KEY = "raw/initial/superstore-changed-customers.csv"


def publish(database: str, rows: list[dict[str, str]]) -> None:
    with psycopg.connect(conninfo(database)) as conn:
        star_schema.build(conn, PUBLISHED_SCHEMA, rows)


@pytest.fixture
def published(step_env, source_rows):
    """The real data set as a published star schema in our database."""
    publish(step_env["WAREHOUSE_DB"], source_rows)
    yield PUBLISHED_SCHEMA
    with psycopg.connect(conninfo(step_env["WAREHOUSE_DB"]), autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PUBLISHED_SCHEMA)))


def with_changed_customers(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows with two customers' own attributes changed in their later
    orders: one gets another segment, one another last name (dim_customers
    gets a second version for each)."""
    changes = {"CG-12520": (2016, {"Segment": "Home Office"}), "DV-13045": (2017, {"Customer Name": "Darrin Parker"})}
    changed = []
    for row in rows:
        since, change = changes.get(row["Customer ID"], (None, {}))
        changed.append({**row, **change} if since and parse_date(row["Order Date"]).year >= since else row)
    return changed


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def weights(distribution) -> list[tuple]:
    return list(zip(distribution.values, distribution.cum_weights, strict=True))


def zip_weights(distribution) -> list[tuple]:
    """(value, weight) pairs."""
    cum = [0.0, *distribution.cum_weights]
    return [(value, cum[i + 1] - cum[i]) for i, value in enumerate(distribution.values)]


def test_the_warehouse_teaches_what_the_csv_teaches(published, reference_uri):
    from_warehouse = WarehouseReference(WarehouseSettings())
    from_csv = CsvReference(reference_uri)

    assert from_warehouse.has_published_tables()
    warehouse_profile, csv_profile = from_warehouse.profile(), from_csv.profile()
    for field in PROFILE_FIELDS:
        assert weights(getattr(warehouse_profile, field)) == pytest.approx(weights(getattr(csv_profile, field))), field
    for year in (2014, 2017, 2024):
        assert sorted(from_warehouse.order_numbers_taken(year)) == sorted(from_csv.order_numbers_taken(year))


def test_a_years_order_ids_come_a_page_at_a_time(published, reference_uri, monkeypatch):
    monkeypatch.setattr(warehouse_reference, "ORDER_IDS_PAGE", 97)
    from_warehouse = WarehouseReference(WarehouseSettings())
    from_csv = CsvReference(reference_uri)

    for year in (2014, 2017, 2024):
        assert sorted(from_warehouse.order_numbers_taken(year)) == sorted(from_csv.order_numbers_taken(year))
    assert len(list(from_csv.order_numbers_taken(2017))) > 10 * 97  # many pages


@pytest.mark.parametrize("kind", ["postgres", "redshift"])
def test_an_unreachable_warehouse_fails_in_one_line(step_env, kind):
    settings = WarehouseSettings(kind=kind, port=1)  # nothing listens there

    with pytest.raises(StepError) as failed:
        WarehouseReference(settings).has_published_tables()

    message = str(failed.value)
    assert message.startswith("warehouse unreachable: ")
    assert "\n" not in message
    assert settings.password.get_secret_value() not in message


def test_customers_are_learned_at_their_current_version(published, step_env, source_rows, s3):
    rows = with_changed_customers(source_rows)
    publish(step_env["WAREHOUSE_DB"], rows)
    s3.put_object(Bucket=BUCKET, Key=CHANGED_KEY, Body=as_csv(rows))
    with psycopg.connect(conninfo(step_env["WAREHOUSE_DB"])) as conn:
        versions = conn.execute(
            sql.SQL("select count(*) from {}.dim_customers").format(sql.Identifier(PUBLISHED_SCHEMA))
        ).fetchone()[0]
    assert versions == len({row["Customer ID"] for row in rows}) + 2

    from_warehouse = WarehouseReference(WarehouseSettings()).profile()
    from_csv = CsvReference(f"s3://{BUCKET}/{CHANGED_KEY}").profile()

    for field in PROFILE_FIELDS:
        assert weights(getattr(from_warehouse, field)) == pytest.approx(weights(getattr(from_csv, field))), field
    customers = {customer.customer_id: customer for customer in from_warehouse.customers.values}
    assert len(customers) == len(from_warehouse.customers.values)  # one version each: the current one
    assert customers["CG-12520"] == Customer("CG-12520", "Claire Gute", "Home Office")
    assert customers["DV-13045"] == Customer("DV-13045", "Darrin Parker", "Corporate")
    # orders count over all of a customer's versions
    orders = {customer.customer_id: orders for customer, orders in zip_weights(from_warehouse.customers)}
    assert orders["CG-12520"] == len({row["Order ID"] for row in rows if row["Customer ID"] == "CG-12520"})


def test_places_are_the_published_ones_with_five_digit_zip_codes(published):
    profile = WarehouseReference(WarehouseSettings()).profile()

    places = profile.locations.values
    assert len(places) == 632
    assert {len(place.postal_code) for place in places} == {5}
    assert any(place.postal_code.startswith("0") for place in places)
    # each customer's places: 4,910 (customer, place) pairs of 793 customers
    assert len(profile.customer_places.values) == 4910
    assert {customer for customer, _ in profile.customer_places.values} == set(profile.customers.values)


def test_without_fact_rows_the_warehouse_is_no_reference(published, step_env):
    with psycopg.connect(conninfo(step_env["WAREHOUSE_DB"])) as conn:
        conn.execute(sql.SQL("truncate {}.fct_sales").format(sql.Identifier(published)))

    assert not WarehouseReference(WarehouseSettings()).has_published_tables()


def test_the_step_prefers_published_tables_to_the_reference_file(published, generate, reference_uri):
    from_warehouse = generate("--rows", "300", "--seed", "1", "--as-of", AS_OF, "--reference", reference_uri)
    with_no_file = generate("--rows", "300", "--seed", "1", "--as-of", AS_OF)

    assert from_warehouse.returncode == 0, from_warehouse.stderr
    assert "learning from the warehouse's published tables" in from_warehouse.stderr
    # the reference is part of the batch's identity, not the --reference option
    assert from_warehouse.result == with_no_file.result
