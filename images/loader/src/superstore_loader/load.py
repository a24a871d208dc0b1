"""The `load` step: S3 objects -> validated rows in the staging table.

All objects of a run are staged in ONE transaction together with their
ledger rows: a bad row anywhere loads nothing. Each object version
(bucket, key, ETag) is loaded once: an incremental run skips versions the
ledger says are published and refuses versions it already rejected. The
staging table holds one run's batch: it is emptied first, and a rejected
batch stays there for inspection until the next run.

Each object is read by the fast path (Arrow, fast_path.py) when it can vouch
for it, else by the exact path (csv module, validation.py), which also names
every bad row. Chunks are read, parsed and checked in a worker thread while
the warehouse takes the previous ones.
"""

import decimal
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TextIO

import pyarrow.compute as pc
from superstore_common.settings import LakeSettings
from superstore_common.step import StepError

from superstore_loader import fast_path
from superstore_loader.columns import PROFIT, SALES, SOURCE_COLUMNS
from superstore_loader.read_ahead import read_ahead
from superstore_loader.rejects import Rejects
from superstore_loader.s3objects import S3Object, head, open_bytes, open_text
from superstore_loader.validation import Chunk, Validation
from superstore_loader.warehouse import LedgerEntry, Warehouse

log = logging.getLogger(__name__)

Mode = Literal["initial", "incremental"]
# utf-8-sig: UTF-8 that may start with a byte order mark.
ENCODINGS = {"auto": ("utf-8-sig", "cp1252"), "utf-8": ("utf-8-sig",), "cp1252": ("cp1252",)}
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}

# Sums must be exact: fail rather than round if they ever outgrow the precision.
_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])
_SCALE = Decimal(1).scaleb(-SOURCE_COLUMNS[SALES].kind.arrow_type.scale)  # sums shown like the warehouse's sum()


class ObjectRejected(Exception):
    def __init__(self, obj: S3Object, rejects: Rejects, source_rows: int):
        self.obj, self.rejects, self.source_rows = obj, rejects, source_rows


@dataclass(frozen=True)
class StagedObject:
    obj: S3Object
    source_rows: int
    loaded_rows: int
    sales_sum: Decimal
    profit_sum: Decimal


def load(
    keys: list[str], batch_id: str, mode: Mode, encoding: str, *, s3, warehouse: Warehouse, lake: LakeSettings
) -> dict:
    objects = [head(s3, lake.raw_bucket, key) for key in dict.fromkeys(keys)]
    to_stage = objects if mode == "initial" else [obj for obj in objects if not _already_published(warehouse, obj)]
    staged = []
    try:
        with warehouse.transaction():
            warehouse.clear_staging()  # staging holds this run's batch only
            if mode == "initial":
                # A full refresh rebuilds the published tables from this file
                # alone: earlier incremental objects are no longer in them.
                warehouse.forget_loads()
            for obj in to_stage:
                done = stage_object(obj, batch_id, ENCODINGS[encoding], s3=s3, warehouse=warehouse)
                warehouse.record(
                    LedgerEntry(
                        obj, batch_id, "staged", done.source_rows, done.loaded_rows, 0, done.sales_sum, done.profit_sum
                    )
                )
                staged.append(done)
    except ObjectRejected as rejected:
        raise StepError(_record_rejection(rejected, batch_id, s3=s3, warehouse=warehouse, lake=lake)) from None
    rows = {s.obj: s.loaded_rows for s in staged}
    return {
        "batch_id": batch_id,
        "mode": mode,
        "objects": [
            {
                "bucket": o.bucket,
                "key": o.key,
                "etag": o.etag,
                "rows": rows.get(o, 0),
                "status": "staged" if o in rows else "skipped",
            }
            for o in objects
        ],  # fmt: skip
        "source_rows": sum(s.source_rows for s in staged),
        "loaded_rows": sum(s.loaded_rows for s in staged),
        "rejected_rows": 0,
        "sales_sum": _show(_total(s.sales_sum for s in staged)),
        "profit_sum": _show(_total(s.profit_sum for s in staged)),
    }


def _already_published(warehouse: Warehouse, obj: S3Object) -> bool:
    status, reason = warehouse.ledger_status(obj) or (None, None)
    if status == "rejected":
        raise StepError(f"{obj.uri} (etag {obj.etag}) was already rejected, not loading it again: {reason}")
    if status == "published":
        log.info("%s (etag %s): already published, skipping", obj.uri, obj.etag)
    return status == "published"


def stage_object(obj: S3Object, batch_id: str, encodings: tuple[str, ...], *, s3, warehouse: Warehouse) -> StagedObject:
    """Stream one object into staging; restart in the next encoding when its
    bytes turn out not to be in this one."""
    for encoding in encodings:
        try:
            return _stage_in(obj, batch_id, encoding, s3=s3, warehouse=warehouse)
        except UnicodeDecodeError as error:
            log.info("%s is not %s (%s)", obj.uri, ENCODING_NAMES[encoding], error.reason)
        except warehouse.data_errors as error:
            log.warning("%s: the warehouse refused a value (%s); checking every row", obj.uri, _first_line(error))
            rejected = _check_every_row(obj, encoding, "strict", s3)
            if rejected is None:
                raise
            raise rejected from error
    # No encoding decodes every byte: read once more keeping bad bytes (as
    # surrogates) to reject exactly the rows that hold them.
    raise _check_every_row(obj, encodings[-1], "surrogateescape", s3, tried=encodings)


def _stage_in(obj: S3Object, batch_id: str, encoding: str, *, s3, warehouse: Warehouse) -> StagedObject:
    """The fast path first; the exact path when the fast one cannot vouch for
    the object (and to say which rows are bad)."""
    try:
        with open_bytes(s3, obj) as body:
            return _stream(obj, batch_id, fast_path.chunks(body, encoding), warehouse, encoding)
    except fast_path.Declined as declined:
        log.info("%s: %s; checking it row by row", obj.uri, declined)
    with open_text(s3, obj, encoding) as text:
        return _stream(obj, batch_id, _exact_chunks(obj, text), warehouse, encoding)


def _exact_chunks(obj: S3Object, text: TextIO) -> Iterator[Chunk]:
    validation = Validation(Rejects())
    yield from validation.chunks(text)
    if validation.rejects:  # raised while staging is still open: its savepoint is rolled back
        raise ObjectRejected(obj, validation.rejects, validation.source_rows)


def _stream(obj: S3Object, batch_id: str, chunks: Iterator[Chunk], warehouse: Warehouse, encoding: str) -> StagedObject:
    rows, sales, profit = 0, Decimal(0), Decimal(0)
    with warehouse.staging_writer(obj, batch_id) as writer, read_ahead(chunks) as ahead:
        for chunk in ahead:
            writer.write(chunk)
            rows += len(chunk)
            sales, profit = _add(sales, chunk, SALES), _add(profit, chunk, PROFIT)
    if writer.loaded_rows != rows:
        raise RuntimeError(f"{obj.uri}: sent {rows} rows, the warehouse loaded {writer.loaded_rows}")
    log.info("%s: %d rows staged (%s)", obj.uri, rows, ENCODING_NAMES[encoding])
    return StagedObject(obj, rows, rows, sales, profit)


def _check_every_row(obj: S3Object, encoding: str, errors: str, s3, tried=()) -> ObjectRejected | None:
    """The rows the exact checks reject (None if they accept every row)."""
    decoded_as = " or ".join(ENCODING_NAMES[e] for e in tried or (encoding,))
    validation = Validation(Rejects(), exact=True, decoded_as=decoded_as)
    with open_text(s3, obj, encoding, errors=errors) as text:
        for _ in validation.chunks(text):
            pass
    return ObjectRejected(obj, validation.rejects, validation.source_rows) if validation.rejects else None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _record_rejection(rejected: ObjectRejected, batch_id: str, *, s3, warehouse: Warehouse, lake: LakeSettings) -> str:
    """After the rollback: the rejected rows to S3, the rejection to the ledger."""
    obj, rejects = rejected.obj, rejected.rejects
    rejects_key = f"{lake.rejected_prefix}{obj.key}.rejected.csv"
    rejects.upload(s3, lake.raw_bucket, rejects_key)
    rejects.close()
    message = rejects.message(obj.name, f"s3://{lake.raw_bucket}/{rejects_key}")
    entry = LedgerEntry(obj, batch_id, "rejected", rejected.source_rows, 0, rejects.rows, reason=message)
    with warehouse.transaction():
        warehouse.record(entry)
    return message


def _add(total: Decimal, chunk: Chunk, column: int) -> Decimal:
    """Exact: the checked values cast to the column's decimal type, summed in 38 digits."""
    values = chunk.columns[column].cast(SOURCE_COLUMNS[column].kind.arrow_type)
    return _total([total, pc.sum(values, min_count=0).as_py()])


def _total(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(_EXACT):
        return sum(values, Decimal(0))


def _show(total: Decimal) -> str:
    return str(total.quantize(_SCALE, context=_EXACT))
