"""The Redshift variant, tested by what it would send: no Redshift is
reachable here (and redshift-connector cannot talk to PostgreSQL). S3 is the
real moto server: the validated file and manifest are really written."""

import csv
import io
import json

import pytest
from conftest import file_sums, parse_date, put_object, shown, small_file, to_csv
from recording import RecordingConnection
from superstore_common.objects import S3Object
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError
from superstore_common.warehouse import POSTGRES, REDSHIFT, Connection
from superstore_loader import load
from superstore_loader.columns import RAW_COLUMNS
from superstore_loader.warehouse import Postgres, Redshift

ROLE = "arn:aws:iam::123456789012:role/superstore-redshift-copy"
ROWS_TABLE = ",\n  ".join(f"{name} {sql_type}" for name, sql_type in RAW_COLUMNS)


@pytest.fixture
def settings():
    return WarehouseSettings(
        kind="redshift", password="not-used", redshift_iam_role=ROLE,
        raw_schema="raw", staging_schema="staging", published_schema="analytics", ops_schema="ops",
    )  # fmt: skip


@pytest.fixture
def lake():
    return LakeSettings()  # RAW_BUCKET: this session's test bucket


def redshift(connection: RecordingConnection, settings, s3, lake) -> Redshift:
    return Redshift(Connection(connection, REDSHIFT), settings, s3, lake)


def run_load(objects: list[dict], connection: RecordingConnection, settings, s3, lake) -> dict:
    return load.load(
        [S3Object(**obj) for obj in objects], "auto", s3=s3, warehouse=redshift(connection, settings, s3, lake),
        lake=lake,
    )  # fmt: skip


def test_schema_statements_are_redshift_sql(settings, s3, lake):
    statements = redshift(RecordingConnection(), settings, s3, lake).schema_statements()

    assert statements[:3] == [f'create schema if not exists "{s}"' for s in ("raw", "analytics", "ops")]
    loads, transitions, *run_records, rows = statements[3:]  # no index: the sort key finds a load's rows
    assert loads.startswith('create table if not exists "raw".loads (')
    assert transitions.startswith('create table if not exists "raw".load_transitions (')
    assert [r.split(" (")[0] for r in run_records] == [
        f'create table if not exists "ops".{table}' for table in ("runs", "step_results", "check_results")
    ]
    assert "recorded_at timestamp not null default getdate()" in run_records[0]
    assert not any("check (" in statement for statement in statements)  # Redshift has no CHECK constraints
    assert "updated_at timestamp not null default getdate()" in loads
    assert "unique (bucket, key, etag)" in loads
    assert rows == f'create table if not exists "raw"."order_lines" (\n  {ROWS_TABLE}\n)\ncompound sortkey (_load_id)'


def test_the_postgres_statements_differ_only_where_meant(settings):
    postgres = Postgres(Connection(None, POSTGRES), settings)
    statements = postgres.schema_statements()

    assert "check (state in (" in statements[3]
    assert "recorded_at timestamp not null default clock_timestamp()" in statements[5]  # ops.runs
    assert statements[8] == f'create table if not exists "raw"."order_lines" (\n  {ROWS_TABLE}\n)'
    assert statements[9:] == [
        'create index if not exists order_lines_load_id on "raw"."order_lines" using brin (_load_id)'
    ]
    columns = ", ".join(name for name, _ in RAW_COLUMNS[:-1])
    assert postgres.copy_sql() == f'copy "raw"."order_lines" ({columns}) from stdin (format text, null \'\')'
    assert postgres.load_id_default_sql("load-0123") == (
        'alter table "raw"."order_lines" alter column _load_id set default \'load-0123\''
    )
    assert postgres.load_id_default_sql(None) == 'alter table "raw"."order_lines" alter column _load_id drop default'


def test_a_load_writes_validated_csv_to_s3_and_copies_it_with_a_manifest_and_the_iam_role(settings, s3, lake):
    header, rows = small_file(20)
    rows[0][16] = 'Chair, "deluxe"\nsecond line \ufffd'
    rows[1][11] = ""  # a postal code left empty
    obj = put_object(s3, "batch.csv", to_csv(header, rows).encode())
    load_id = S3Object(**obj).load_id
    connection = RecordingConnection(copy_count=20)

    result = run_load([obj], connection, settings, s3, lake)

    sales, profit = file_sums(rows)
    assert (result["load_ids"], result["loaded_rows"], result["sales_sum"]) == ([load_id], 20, shown(sales))
    bucket = lake.raw_bucket
    data_key, manifest_key = f"validated/{obj['key']}", f"validated/{obj['key']}.manifest"
    assert connection.events == [
        "lock", "select", "insert", "insert", "select", "commit",  # received (with its history)
        "lock", "select",  # taken over
        "copy",
        "select",  # pg_last_copy_count()
        "select", "update", "insert", "select",  # staged, with its counts
        "commit",  # the rows and the ledger's move at once
    ]  # fmt: skip
    assert connection.statements("lock") == ['lock "raw".loads'] * 2
    assert connection.statements("copy") == [
        f'copy "raw"."order_lines" ({", ".join(name for name, _ in RAW_COLUMNS)})\n'
        f"from 's3://{bucket}/{manifest_key}'\n"
        f"iam_role '{ROLE}'\n"
        "manifest format as csv emptyasnull encoding utf8 dateformat 'YYYY-MM-DD'\n"
        "compupdate off statupdate off"
    ]
    ledger = connection.loads[load_id]
    assert (ledger["state"], ledger["source_rows"], ledger["raw_rows"]) == ("staged", 20, 20)
    assert (ledger["sales_sum"], ledger["profit_sum"]) == (sales, profit)

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert manifest == {"entries": [{"url": f"s3://{bucket}/{data_key}", "mandatory": True}]}
    validated_text = s3.get_object(Bucket=bucket, Key=data_key)["Body"].read().decode()
    validated = list(csv.reader(io.StringIO(validated_text)))
    assert len(validated) == 20
    dates = [parse_date(value).isoformat() for value in rows[0][2:4]]
    assert validated[0][:4] == [rows[0][0], rows[0][1], *dates]
    assert validated[0][16] == 'Chair, "deluxe"\nsecond line \ufffd'
    assert validated[0][21:] == ["2", load_id]  # line, load id
    assert {row[22] for row in validated} == {load_id}
    assert f'"{rows[1][10]}",,"{rows[1][12]}"' in validated_text  # empty, not "": EMPTYASNULL loads NULL


def test_a_rejected_load_rolls_back_and_records_the_rejection(settings, s3, lake):
    header, rows = small_file(5)
    rows[2][19] = "lots"
    obj = put_object(s3, "bad.csv", to_csv(header, rows).encode())
    connection = RecordingConnection()

    with pytest.raises(StepError, match=rf'{obj["key"]} line 4, column "Discount": not a number'):
        run_load([obj], connection, settings, s3, lake)

    assert "copy" not in connection.events
    assert connection.events[-7:] == ["rollback", "lock", "select", "update", "insert", "select", "commit"]
    ledger = connection.loads[S3Object(**obj).load_id]
    assert (ledger["state"], ledger["raw_rows"], ledger["rejected_rows"]) == ("rejected", None, 1)
    assert not any(
        k["Key"].startswith(f"validated/{obj['key']}")
        for k in s3.list_objects_v2(Bucket=lake.raw_bucket).get("Contents", [])
    )


def _known(obj: dict, state: str, raw_rows: int | None) -> dict:
    return {"load_id": S3Object(**obj).load_id, **obj, "state": state, "source_rows": raw_rows, "raw_rows": raw_rows}


def test_a_published_load_is_skipped_without_a_copy(settings, s3, lake):
    header, rows = small_file(5)
    obj = put_object(s3, "published.csv", to_csv(header, rows).encode())
    connection = RecordingConnection(loads=[_known(obj, "published", 5)])

    result = run_load([obj], connection, settings, s3, lake)

    assert [(o["status"], o["rows"]) for o in result["objects"]] == [("published", 5)]
    assert (result["load_ids"], result["loaded_rows"]) == ([], 0)
    assert connection.events == ["lock", "select", "commit"]


def test_rows_already_in_raw_are_not_copied_again(settings, s3, lake):
    header, rows = small_file(5)
    obj = put_object(s3, "failed.csv", to_csv(header, rows).encode())
    connection = RecordingConnection(loads=[_known(obj, "failed", 5)])

    result = run_load([obj], connection, settings, s3, lake)

    assert [(o["status"], o["rows"]) for o in result["objects"]] == [("staged", 5)]
    assert "copy" not in connection.events
    assert connection.loads[S3Object(**obj).load_id]["state"] == "staged"


def test_the_iam_role_is_required(settings, s3, lake):
    with pytest.raises(StepError, match="WAREHOUSE_REDSHIFT_IAM_ROLE"):
        redshift(RecordingConnection(), settings.model_copy(update={"redshift_iam_role": None}), s3, lake)
