"""Issue: the initial load end to end, on the real Superstore file."""

import csv
import os

from e2e_kit import SCHEMA, SHARED_CSV, csv_sums, fact_state, query, run, s3
from stack import KAGGLE_CSV


def test_initial_load_publishes_every_line_with_exact_sums(initial_load):
    rows, sales, profit = csv_sums(SHARED_CSV)
    load = initial_load.result("load")
    assert (load["source_rows"], load["loaded_rows"], load["rejected_rows"]) == (rows, rows, 0)
    assert query(f"select count(*), sum(sales), sum(profit) from {SCHEMA}.fct_sales")[0] == (rows, sales, profit)
    assert (load["sales_sum"], load["profit_sum"]) == (str(sales), str(profit))


def test_source_is_content_addressed_on_s3(initial_load):
    put = initial_load.result("put_source")
    assert put["key"] == f"raw/initial/{put['sha256']}.csv"
    head = s3().head_object(Bucket=os.environ["RAW_BUCKET"], Key=put["key"])
    assert head["ContentLength"] == SHARED_CSV.stat().st_size


def test_dimension_keys_are_unique_and_products_keep_every_name(initial_load):
    for table, key in (("dim_customers", "customer_key"), ("dim_products", "product_key"), ("dim_orders", "order_key")):
        total, distinct = query(f"select count(*), count(distinct {key}) from {SCHEMA}.{table}")[0]
        assert total == distinct > 0, table
    # some Product IDs carry more than one name in the file: each (id, name) is a product
    with SHARED_CSV.open(encoding="utf-8", newline="") as f:
        names = {}
        for r in csv.DictReader(f):
            names.setdefault(r["Product ID"], set()).add(r["Product Name"])
    (multi,) = query(
        f"select count(*) from (select product_id from {SCHEMA}.dim_products group by 1 having count(*) > 1) t"
    )[0]
    assert multi == sum(len(n) > 1 for n in names.values()) > 0


def test_non_ascii_text_is_preserved(initial_load):
    with SHARED_CSV.open(encoding="utf-8", newline="") as f:
        non_ascii = {r["Product Name"] for r in csv.DictReader(f) if not r["Product Name"].isascii()}
    published = {name for (name,) in query(f"select product_name from {SCHEMA}.dim_products")}
    assert non_ascii  # both copies: curly quotes, no-break spaces; the Kaggle one U+FFFD too
    assert any("\ufffd" in name for name in non_ascii) or SHARED_CSV != KAGGLE_CSV
    assert non_ascii <= published


def test_the_audit_schema_is_dropped_and_checks_pass(initial_load):
    assert initial_load.audit_schemas_left == 0  # counted right after the run: another test's may fail on purpose
    scan = initial_load.result("scan")
    assert scan["failed"] == 0 and scan["passed"] > 0


def test_rerun_gives_identical_tables(initial_load):
    before = fact_state()
    record = run("superstore_initial_load", source=str(SHARED_CSV))
    assert record.state == "success", record.errors
    assert fact_state() == before


def test_bad_file_fails_loudly_and_changes_nothing(initial_load, tmp_path):
    before = fact_state()
    with SHARED_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[41][2] = "13/45/2016"  # Order Date, line 42
    bad = tmp_path / "bad dates.csv"
    with bad.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)

    record = run("superstore_initial_load", source=str(bad))

    assert record.state == "failed"
    error = " ".join(record.errors)
    assert "bad dates.csv" in error and 'line 42, column "Order Date"' in error, error
    assert fact_state() == before
    rejected = s3().list_objects_v2(Bucket=os.environ["RAW_BUCKET"], Prefix="rejected/").get("Contents", [])
    assert any(o["Key"].endswith(".rejected.csv") for o in rejected)
