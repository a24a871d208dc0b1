"""superstore-generator: writes a batch of new, realistic Superstore order
lines to s3://$RAW_BUCKET/<prefix>YYYY/MM/DD/<digest of the spec>.csv and
reports the object's identity (bucket, key, ETag) and load id."""

import logging
from datetime import datetime

import typer
from pydantic import ValidationError
from superstore_common import record
from superstore_common.objects import load_id
from superstore_common.settings import LakeSettings, WarehouseSettings
from superstore_common.step import StepError, new_app, run, write_result

from superstore_generator.batch import Batch, BatchSpec
from superstore_generator.csv_reference import CsvReference
from superstore_generator.reference import Reference
from superstore_generator.s3_output import reannounce, stored_metadata, upload_csv
from superstore_generator.warehouse_reference import WarehouseReference

log = logging.getLogger("superstore.generator")
app = new_app("Generate batches of new Superstore orders into S3.")


@app.callback()
def _commands() -> None:
    """Keeps `generate` a subcommand (typer flattens single-command apps)."""


@app.command()
def generate(
    rows: int = typer.Option(..., min=1, help="order lines in the batch"),
    seed: int = typer.Option(..., help="same seed, rows, as-of and reference: same file"),
    as_of: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="orders are dated on or just before this day"),
    new_customer_share: float = typer.Option(0.05, min=0.0, max=1.0, help="share of orders by new customers"),
    new_product_share: float = typer.Option(0.02, min=0.0, max=1.0, help="share of lines with a new product"),
    new_place_share: float = typer.Option(
        0.1, min=0.0, max=1.0, help="share of existing customers' orders shipped to a place the customer never used"
    ),
    changed_customer_share: float = typer.Option(
        0.02, min=0.0, max=1.0, help="share of existing customers with a new name or segment in the batch"
    ),
    reference: str | None = typer.Option(
        None, help="s3:// CSV in the source format, used while the warehouse has no published sales"
    ),
    prefix: str | None = typer.Option(None, help="key prefix (default $INCOMING_PREFIX)"),
) -> None:
    """Write a batch of realistic new orders to s3://RAW_BUCKET/INCOMING_PREFIX (once per spec)."""
    lake = LakeSettings()
    source = choose_reference(reference)
    spec = BatchSpec(
        rows=rows,
        seed=seed,
        as_of=as_of.date(),
        reference=source.name,
        new_customer_share=new_customer_share,
        new_product_share=new_product_share,
        new_place_share=new_place_share,
        changed_customer_share=changed_customer_share,
    )
    bucket = lake.raw_bucket
    key = spec.object_key(lake.incoming_prefix if prefix is None else prefix)

    # Idempotent: the key is derived from the spec, so an object already there
    # is this batch (uploads are atomic). It is not regenerated (the reference
    # has moved on since) but re-announced: a copy onto itself keeps its bytes
    # and ETag, so its load id, and emits a new ObjectCreated event, so a
    # replayed DAG run flows through and the load ledger turns it into a no-op.
    totals = stored_metadata(bucket, key)
    if totals:
        etag = reannounce(bucket, key, totals)
        log.info("s3://%s/%s exists: batch already generated, re-announced", bucket, key)
    else:
        batch = Batch(spec, source)
        totals = batch.totals()
        etag = upload_csv(bucket, key, batch.chunks(), metadata=totals)
        log.info("wrote %d rows to s3://%s/%s", rows, bucket, key)
    step = record.current()
    step.rows = int(totals["rows"])
    step.outputs = [record.s3_dataset(bucket, key, rows=step.rows)]
    write_result(
        {
            "bucket": bucket,
            "key": key,
            "etag": etag.strip('"'),
            "load_id": load_id(bucket, key, etag),
            "rows": int(totals["rows"]),
            "sales_sum": totals["sales-sum"],
            "profit_sum": totals["profit-sum"],
            "seed": seed,
        }
    )


def choose_reference(reference_uri: str | None) -> Reference:
    """The warehouse's published star schema once it holds sales, else the
    reference CSV."""
    try:
        warehouse = WarehouseReference(WarehouseSettings())
    except ValidationError:
        warehouse = None
        log.info("warehouse not configured")
    if warehouse is not None and warehouse.has_published_tables():
        log.info("learning from the warehouse's published tables")
        return warehouse
    if reference_uri:
        log.info("learning from %s", reference_uri)
        return CsvReference(reference_uri)
    raise StepError("no reference data: the warehouse has no published sales and --reference is not given")


def main() -> None:
    run(app)
