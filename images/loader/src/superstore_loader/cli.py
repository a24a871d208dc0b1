"""The image's entrypoint: `superstore-loader <command>` (see the README's step contract)."""

import gc
import json
from datetime import datetime
from enum import Enum

import typer
from superstore_common.objects import S3Object
from superstore_common.s3 import s3_client
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_loader import load as loading
from superstore_loader import run_records
from superstore_loader.source import put_source
from superstore_loader.warehouse import open_warehouse

app = new_app("Superstore loader: source file -> S3, S3 objects -> the validated raw layer.")


# The choices are the loader's encodings (load.ENCODINGS), named once.
Encoding = Enum("Encoding", {name: name for name in loading.ENCODINGS}, type=str)


@app.command("put-source")
def put_source_command(
    source: str = typer.Option(..., help="Local path or s3://bucket/key of the source CSV."),
) -> None:
    """Store the source file as s3://RAW_BUCKET/raw/initial/<sha256>.csv (once per content)."""
    write_result(put_source(source, s3=s3_client(), lake=LakeSettings()))


@app.command("create-schemas")
def create_schemas() -> None:
    """Create the raw, published and ops schemas, the load ledger and the raw rows table."""
    with open_warehouse(WarehouseSettings()) as warehouse:
        write_result({"schemas": warehouse.create_schemas()})


@app.command()
def load(
    objects: str = typer.Option(
        ..., help='JSON list of object versions, e.g. \'[{"bucket": "b", "key": "incoming/x.csv", "etag": "..."}]\'.'
    ),
    encoding: Encoding = typer.Option("auto", help="auto: UTF-8, else Windows-1252."),
    readmit: str | None = typer.Option(None, help="Load id of a rejected load to admit again on purpose."),
    why: str = typer.Option("", help="With --readmit: why (kept in the ledger)."),
    by: str = typer.Option("", help="With --readmit: who (kept in the ledger)."),
) -> None:
    """Validate each object and append its rows to the raw layer, one load per object."""
    lake, s3 = LakeSettings(), s3_client()
    readmission = None
    if readmit:
        if not why.strip() or not by.strip():
            raise StepError("--readmit needs --why and --by: who admits the load again, and why")
        readmission = loading.Readmission(readmit, by.strip(), why.strip())
    # A re-admission alone (the DAG's, no event waited for) comes with no objects.
    announced = _parse_objects(objects, allow_none=readmission is not None)
    with open_warehouse(WarehouseSettings(), s3, lake) as warehouse:
        # Modules and clients live until the step exits: spare the garbage
        # collector walking them again during the load and once more at exit.
        gc.freeze()
        result = loading.load(announced, encoding.value, s3=s3, warehouse=warehouse, lake=lake, readmit=readmission)
    write_result(result)


@app.command("drop-staging")
def drop_staging(run_id: str = typer.Option(..., help="The run whose audit schema to drop.")) -> None:
    """Drop the run's audit schema (candidate rows and their checks) and everything in it."""
    with open_warehouse(WarehouseSettings()) as warehouse:
        write_result({"dropped": warehouse.drop_audit_schema(run_id)})


@app.command("record-run")
def record_run(
    dag_id: str = typer.Option(..., help="The DAG of the run."),
    run_id: str = typer.Option(..., help="The run to record."),
    tasks: str = typer.Option(
        ..., help='JSON list of its tasks\' Airflow states: [{"task_id": "load", "state": "success", "duration": 1.2}].'
    ),
    run_type: str | None = typer.Option(None, help="manual, scheduled, ..."),
    started_at: str | None = typer.Option(None, help="When the run started (ISO 8601)."),
    errors: str = typer.Option("{}", help="JSON {task_id: error} of tasks that leave no step record (Airflow's own)."),
) -> None:
    """Record a DAG run in the ops tables from its steps' records in the lake (replaces an earlier record)."""
    try:
        task_states = [dict(task) for task in json.loads(tasks)]
        task_errors = {task_id: error for task_id, error in json.loads(errors).items() if error}
        started = datetime.fromisoformat(started_at) if started_at else None
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError) as error:
        raise StepError(f"--tasks / --errors / --started-at: {error}") from None
    lake, s3 = LakeSettings(), s3_client()
    records, checks = run_records.step_records(s3, lake.raw_bucket, dag_id, run_id)
    run = run_records.run_result(
        dag_id, run_id, task_states, records, checks,
        bucket=lake.raw_bucket, errors=task_errors, run_type=run_type, started_at=started,
    )  # fmt: skip
    with open_warehouse(WarehouseSettings()) as warehouse:
        write_result(run_records.record_run(warehouse.connection, warehouse.settings.ops_schema, run))


def _parse_objects(text: str, allow_none: bool = False) -> list[S3Object]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        items = None
    fields = ("bucket", "key", "etag")
    if (
        not isinstance(items, list)
        or not (items or allow_none)
        or not all(isinstance(i, dict) and all(isinstance(i.get(f), str) and i[f] for f in fields) for i in items)
    ):
        what = "a JSON list" if allow_none else "a non-empty JSON list"
        raise StepError(f"--objects must be {what} of {{bucket, key, etag}}, got {text[:200]!r}")
    return [S3Object(i["bucket"], i["key"], i["etag"].strip('"')) for i in items]


def main() -> None:
    run(app)
