"""superstore-generator: writes a batch of new, realistic Superstore order
lines to s3://$RAW_BUCKET/<prefix>YYYY/MM/DD/<batch-id>.csv."""

import logging
from datetime import datetime

import typer
from pydantic import ValidationError
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
    moved_customer_share: float = typer.Option(0.05, min=0.0, max=1.0, help="share of existing customers who moved"),
    reference: str | None = typer.Option(
        None, help="s3:// CSV in the source format, used while the warehouse has no published sales"
    ),
    prefix: str | None = typer.Option(None, help="key prefix (default $INCOMING_PREFIX)"),
) -> None:
    lake = LakeSettings()
    source = choose_reference(reference)
    spec = BatchSpec(
        rows=rows,
        seed=seed,
        as_of=as_of.date(),
        reference=source.name,
        new_customer_share=new_customer_share,
        new_product_share=new_product_share,
        moved_customer_share=moved_customer_share,
    )
    key = f"{_folder(lake.incoming_prefix if prefix is None else prefix)}{spec.as_of:%Y/%m/%d}/{spec.batch_id}.csv"
    result = {"bucket": lake.raw_bucket, "key": key, "batch_id": spec.batch_id, "seed": seed}

    # Idempotent: the key is derived from the spec, so an object already there
    # is this batch (uploads are atomic). It is not regenerated (the reference
    # has moved on since) but re-announced: a copy onto itself keeps its bytes
    # and ETag and emits a new ObjectCreated event, so a replayed DAG run flows
    # through and the load ledger turns it into a no-op.
    totals = stored_metadata(lake.raw_bucket, key)
    if totals:
        reannounce(lake.raw_bucket, key, totals)
        log.info("s3://%s/%s exists: batch already generated, re-announced", lake.raw_bucket, key)
    else:
        batch = Batch(spec, source)
        totals = batch.totals()
        upload_csv(lake.raw_bucket, key, batch.chunks(), metadata=totals)
        log.info("wrote %d rows to s3://%s/%s", rows, lake.raw_bucket, key)
    write_result(
        {**result, "rows": int(totals["rows"]), "sales_sum": totals["sales-sum"], "profit_sum": totals["profit-sum"]}
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


def _folder(prefix: str) -> str:
    return prefix.strip("/") + "/" if prefix.strip("/") else ""


def main() -> None:
    run(app)
