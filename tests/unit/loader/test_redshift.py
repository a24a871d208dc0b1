"""The Redshift variant, tested by what it would send: no Redshift is
reachable here (and redshift-connector cannot talk to PostgreSQL). S3 is the
real moto server: the validated file and manifest are really written."""

import csv
import io
import json

import pytest
from conftest import kaggle_rows, put, to_csv, unique_key
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError
from superstore_loader import load
from superstore_loader.columns import OBJECT_COLUMNS, ROW_COLUMNS, STAGING_COLUMNS
from superstore_loader.warehouse import Redshift

ROLE = "arn:aws:iam::123456789012:role/superstore-redshift-copy"


class RecordingConnection:
    """Stands in for a redshift_connector connection: records each statement."""

    def __init__(self, copy_count: int = 0):
        self.sent: list[tuple[str, tuple | None]] = []
        self.events: list[str] = []
        # What queries answer: pg_last_copy_count(), the next object id.
        self.answers = {"pg_last_copy_count()": (copy_count,), "max(_object_id)": (1,)}

    def cursor(self):
        return RecordingCursor(self)

    def commit(self):
        self.events.append("commit")

    def rollback(self):
        self.events.append("rollback")

    def close(self):
        pass


class RecordingCursor:
    def __init__(self, connection: RecordingConnection):
        self.connection = connection
        self.result = None

    def execute(self, sql: str, params=None):
        self.connection.sent.append((sql, params))
        self.connection.events.append(sql.split()[0])
        self.result = next((answer for query, answer in self.connection.answers.items() if query in sql), None)

    def fetchone(self):
        return self.result

    def close(self):
        pass


@pytest.fixture
def settings():
    return WarehouseSettings(
        kind="redshift", password="not-used", redshift_iam_role=ROLE,
        staging_schema="staging", published_schema="analytics", ops_schema="ops",
    )  # fmt: skip


@pytest.fixture
def lake():
    return LakeSettings()  # RAW_BUCKET: this session's test bucket


def test_schema_statements_are_redshift_sql(settings, s3, lake):
    statements = Redshift(RecordingConnection(), settings, s3, lake).schema_statements()

    assert statements[:3] == [f'create schema if not exists "{s}"' for s in ("staging", "analytics", "ops")]
    ledger, rows, objects, view = statements[3:]
    assert ledger.startswith('create table if not exists "ops"."load_ledger" (')
    assert "check" not in ledger  # Redshift has no CHECK constraints
    assert "updated_at timestamptz not null default getdate()" in ledger
    assert "primary key (bucket, key, etag)" in ledger
    definitions = {table: ",\n  ".join(f"{name} {sql_type}" for name, sql_type in columns)
                   for table, columns in (("rows", ROW_COLUMNS), ("objects", OBJECT_COLUMNS))}  # fmt: skip
    assert rows == f'create table if not exists "staging"."order_lines" (\n  {definitions["rows"]}\n)'
    assert objects == (
        f'create table if not exists "staging"."source_objects" (\n  {definitions["objects"]},\n'
        "  primary key (_object_id)\n)"
    )
    assert view == (
        'create or replace view "staging"."orders" as\n'
        f"select {', '.join(name for name, _ in STAGING_COLUMNS)}\n"
        'from "staging"."order_lines" left join "staging"."source_objects" using (_object_id)'
    )


def test_a_load_writes_validated_csv_to_s3_and_copies_it_with_the_iam_role(settings, s3, lake):
    header, rows = kaggle_rows()
    rows = rows[:20]
    rows[0][16] = 'Chair, "deluxe"\nsecond line \ufffd'
    rows[1][11] = ""  # a postal code left empty
    key = put(s3, unique_key("batch.csv"), to_csv(header, rows).encode())
    connection = RecordingConnection(copy_count=20)

    result = load.load(
        [key], "b-1", "initial", "auto", s3=s3, warehouse=Redshift(connection, settings, s3, lake), lake=lake
    )

    assert result["loaded_rows"] == 20
    bucket, etag = lake.raw_bucket, result["objects"][0]["etag"]
    data_key, manifest_key = f"validated/{key}", f"validated/{key}.manifest"
    assert connection.events == [
        "delete", "delete",  # staging emptied; DELETE, as TRUNCATE would commit the transaction
        "delete",  # initial: a full refresh forgets earlier loads (ledger)
        "select",  # the object's id
        "copy",
        "select",  # pg_last_copy_count()
        "insert",  # the object's lineage
        "delete", "insert",  # ledger upsert
        "commit",
    ]  # fmt: skip
    column_list = ", ".join(name for name, _ in ROW_COLUMNS)
    assert ('delete from "staging"."order_lines"', None) in connection.sent
    assert ('delete from "staging"."source_objects"', None) in connection.sent
    assert (
        'insert into "staging"."source_objects" (_object_id, _batch_id, _source_bucket, _source_key, _source_etag)'
        " values (%s, %s, %s, %s, %s)",
        (1, "b-1", bucket, key, etag),
    ) in connection.sent
    assert (
        f'copy "staging"."order_lines" ({column_list})\n'
        f"from 's3://{bucket}/{manifest_key}'\n"
        f"iam_role '{ROLE}'\n"
        "manifest format as csv emptyasnull encoding utf8 dateformat 'YYYY-MM-DD'\n"
        "compupdate off statupdate off",
        None,
    ) in connection.sent

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert manifest == {"entries": [{"url": f"s3://{bucket}/{data_key}", "mandatory": True}]}
    validated_text = s3.get_object(Bucket=bucket, Key=data_key)["Body"].read().decode()
    validated = list(csv.reader(io.StringIO(validated_text)))
    assert len(validated) == 20
    assert validated[0][:4] == [rows[0][0], rows[0][1], "2016-11-08", "2016-11-11"]
    assert validated[0][16] == 'Chair, "deluxe"\nsecond line \ufffd'
    assert validated[0][21:] == ["2", "1"]  # line, object id
    assert f'"{rows[1][10]}",,"{rows[1][12]}"' in validated_text  # empty, not "": EMPTYASNULL loads NULL


def test_a_rejected_load_rolls_back_and_records_the_rejection(settings, s3, lake):
    header, rows = kaggle_rows()
    rows = rows[:5]
    rows[2][19] = "lots"
    key = put(s3, unique_key("bad.csv"), to_csv(header, rows).encode())
    connection = RecordingConnection()

    with pytest.raises(StepError, match=rf'{key} line 4, column "Discount": not a number'):
        load.load(
            [key], "b-2", "incremental", "auto", s3=s3, warehouse=Redshift(connection, settings, s3, lake), lake=lake
        )

    assert "copy" not in connection.events
    assert connection.events[-4:] == ["rollback", "delete", "insert", "commit"]
    insert_params = connection.sent[-1][1]
    assert insert_params[4] == "rejected"
    assert not any(
        k["Key"].startswith(f"validated/{key}") for k in s3.list_objects_v2(Bucket=lake.raw_bucket).get("Contents", [])
    )


def test_the_iam_role_is_required(settings, s3, lake):
    with pytest.raises(StepError, match="WAREHOUSE_REDSHIFT_IAM_ROLE"):
        Redshift(RecordingConnection(), settings.model_copy(update={"redshift_iam_role": None}), s3, lake)
