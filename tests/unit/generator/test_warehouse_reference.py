"""Learning from the warehouse's published tables (small aggregates over
psycopg) gives the same profile as learning from the same data as a CSV."""

import psycopg
import pytest
import star_schema
from conftest import PROFILE_FIELDS, PUBLISHED_SCHEMA
from psycopg import sql
from stack import conninfo
from superstore_common.settings import WarehouseSettings
from superstore_generator.csv_reference import CsvReference
from superstore_generator.warehouse_reference import WarehouseReference

AS_OF = "2024-03-05"


@pytest.fixture
def published(step_env, source_rows):
    """The real data set as a published star schema in our database."""
    with psycopg.connect(conninfo(step_env["WAREHOUSE_DB"])) as conn:
        star_schema.build(conn, PUBLISHED_SCHEMA, source_rows)
    yield PUBLISHED_SCHEMA
    with psycopg.connect(conninfo(step_env["WAREHOUSE_DB"]), autocommit=True) as conn:
        conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(PUBLISHED_SCHEMA)))


def weights(distribution) -> list[tuple]:
    return list(zip(distribution.values, distribution.cum_weights, strict=True))


def test_the_warehouse_teaches_what_the_csv_teaches(published, reference_uri):
    from_warehouse = WarehouseReference(WarehouseSettings())
    from_csv = CsvReference(reference_uri)

    assert from_warehouse.has_published_tables()
    warehouse_profile, csv_profile = from_warehouse.profile(), from_csv.profile()
    for field in PROFILE_FIELDS:
        assert weights(getattr(warehouse_profile, field)) == pytest.approx(weights(getattr(csv_profile, field))), field
    for year in (2014, 2017, 2024):
        assert sorted(from_warehouse.order_numbers_taken(year)) == sorted(from_csv.order_numbers_taken(year))


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
