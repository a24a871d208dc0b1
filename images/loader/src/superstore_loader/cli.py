"""The image's entrypoint: `superstore-loader <command>` (see the README's step contract)."""

import gc
import json
from enum import Enum

import typer
from superstore_common.s3 import s3_client
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_loader import load as loading
from superstore_loader.source import put_source
from superstore_loader.warehouse import open_warehouse

app = new_app("Superstore loader: source file -> S3, S3 -> validated warehouse staging.")


class Mode(str, Enum):
    initial = "initial"
    incremental = "incremental"


class Encoding(str, Enum):
    auto = "auto"
    utf_8 = "utf-8"
    cp1252 = "cp1252"


@app.command("put-source")
def put_source_command(
    source: str = typer.Option(..., help="Local path or s3://bucket/key of the source CSV."),
) -> None:
    """Store the source file as s3://RAW_BUCKET/raw/initial/<sha256>.csv (once per content)."""
    write_result(put_source(source, s3=s3_client(), lake=LakeSettings()))


@app.command("create-schemas")
def create_schemas() -> None:
    """Create the staging, published and ops schemas, the load ledger and the staging table."""
    with open_warehouse(WarehouseSettings()) as warehouse:
        write_result({"schemas": warehouse.create_schemas()})


@app.command()
def load(
    keys: str = typer.Option(..., help="JSON list of keys in RAW_BUCKET, e.g. '[\"incoming/batch.csv\"]'."),
    batch_id: str = typer.Option(..., help="Id recorded on every staged row and in the ledger."),
    mode: Mode = typer.Option(..., help="initial: full refresh of staging; incremental: skip published objects."),
    encoding: Encoding = typer.Option(Encoding.auto, help="auto: UTF-8, else Windows-1252."),
) -> None:
    """Validate objects and stage them in one transaction; any bad row loads nothing."""
    lake, s3 = LakeSettings(), s3_client()
    with open_warehouse(WarehouseSettings(), s3, lake) as warehouse:
        # Modules and clients live until the step exits: spare the garbage
        # collector walking them again during the load and once more at exit.
        gc.freeze()
        result = loading.load(
            _parse_keys(keys), batch_id, mode.value, encoding.value, s3=s3, warehouse=warehouse, lake=lake
        )
    write_result(result)


@app.command("drop-staging")
def drop_staging() -> None:
    """Drop the staging schema and everything in it."""
    with open_warehouse(WarehouseSettings()) as warehouse:
        write_result({"dropped": warehouse.drop_staging()})


def _parse_keys(text: str) -> list[str]:
    try:
        keys = json.loads(text)
    except json.JSONDecodeError:
        keys = None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise StepError(f"--keys must be a non-empty JSON list of S3 keys, got {text!r}")
    return keys


def main() -> None:
    run(app)
