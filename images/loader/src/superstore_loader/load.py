"""The `load` step: S3 object versions -> the raw layer, one load each.

Every object version (bucket, key, ETag, as its event announced it) is its
own load (superstore_common.loads): verdicts are per object, so a bad file
is rejected alone and the good ones received with it go on. A load's rows
are appended to the raw layer once, in the transaction that moves it to
`staged`: a retry, a redelivered event or a second run at once finds them
there and copies nothing again; a published load is skipped, a rejected
one refused (unless re-admitted on purpose). The result names the loads
staged for the build to audit and publish.

Each object is read by the fast path (Arrow, fast_path.py) when it can vouch
for it, else by the exact path (csv module, validation.py), which also names
every bad row. Chunks are read, parsed and checked in a worker thread while
the warehouse takes the previous ones.
"""

import decimal
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

import pyarrow.compute as pc
from superstore_common import record
from superstore_common.loads import Counts, Load, LoadState
from superstore_common.objects import S3Object
from superstore_common.settings import LakeSettings
from superstore_common.step import StepError

from superstore_loader import fast_path
from superstore_loader.columns import PROFIT, RAW_COLUMNS, SALES, SOURCE_COLUMNS
from superstore_loader.read_ahead import read_ahead
from superstore_loader.rejects import Rejects
from superstore_loader.s3objects import ObjectChanged, Sniffed, head, open_bytes, open_text
from superstore_loader.validation import Chunk, Validation
from superstore_loader.warehouse import ROWS_TABLE, Warehouse

log = logging.getLogger(__name__)

ACTOR = "superstore-loader"
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


@dataclass(frozen=True)
class Readmission:
    load_id: str
    by: str
    why: str


@dataclass(frozen=True)
class Outcome:
    """What became of one object in this run."""

    obj: S3Object
    status: str  # staged (to audit and publish) | published (skipped) | rejected | changed (since its event)
    load: Load | None = None
    error: str | None = None
    before: bool = False  # rejected by an earlier run: its rows are not counted again

    def as_dict(self) -> dict:
        load = self.load
        return {
            **self.obj.identity(),
            "load_id": self.obj.load_id,
            "status": self.status,
            "rows": load.raw_rows if load and load.raw_rows is not None else 0,
            "rejected_rows": load.rejected_rows if load and load.rejected_rows and not self.before else 0,
            **({"error": self.error} if self.error else {}),
        }


def _record(outcomes: list[Outcome], staged: list[Load], warehouse: Warehouse) -> None:
    """The step's record, also when every object was refused: each object's
    outcome (rejected rows and where they are kept), what was read and written."""
    step = record.current()
    step.attach("objects.json", [o.as_dict() for o in outcomes])
    step.rows = sum(load.raw_rows or 0 for load in staged)
    step.rejected_rows = sum(o.as_dict()["rejected_rows"] for o in outcomes if o.status == "rejected")
    step.inputs = [
        record.s3_dataset(o.obj.bucket, o.obj.key, rows=o.load.source_rows if o.load else None) for o in outcomes
    ]
    settings = warehouse.settings
    step.outputs = [
        record.warehouse_dataset(settings, settings.raw_schema, ROWS_TABLE, fields=RAW_COLUMNS, rows=step.rows)
    ]


def load(
    objects: list[S3Object],
    encoding: str,
    *,
    s3,
    warehouse: Warehouse,
    lake: LakeSettings,
    readmit: Readmission | None = None,
) -> dict:
    if readmit is not None:
        objects = [*objects, _readmitted_object(warehouse, readmit)]
    outcomes = [
        load_object(obj, ENCODINGS[encoding], s3=s3, warehouse=warehouse, lake=lake, readmit=readmit)
        for obj in dict.fromkeys(objects)
    ]
    staged = [o.load for o in outcomes if o.status == "staged"]
    errors = [o.error for o in outcomes if o.error]
    _record(outcomes, staged, warehouse)
    if errors and not staged:
        raise StepError("; ".join(errors))
    return {
        "load_ids": [load.load_id for load in staged],
        "objects": [o.as_dict() for o in outcomes],
        "source_rows": sum(load.source_rows or 0 for load in staged),
        "loaded_rows": sum(load.raw_rows or 0 for load in staged),
        "rejected_rows": sum(o.as_dict()["rejected_rows"] for o in outcomes if o.status == "rejected"),
        "sales_sum": _show(_total(load.sales_sum or 0 for load in staged)),
        "profit_sum": _show(_total(load.profit_sum or 0 for load in staged)),
        "errors": errors,
    }


def _readmitted_object(warehouse: Warehouse, readmit: Readmission) -> S3Object:
    load = warehouse.ledger.get(readmit.load_id)
    if load is None:
        raise StepError(f"--readmit {readmit.load_id}: no such load")
    return load.obj


def load_object(
    announced: S3Object, encodings: tuple[str, ...], *, s3, warehouse: Warehouse, lake: LakeSettings, readmit=None
) -> Outcome:
    ledger = warehouse.ledger
    try:
        obj = head(s3, announced)
    except ObjectChanged as changed:
        return Outcome(announced, "changed", error=str(changed))
    with warehouse.transaction():
        ledger.lock()
        load = ledger.receive(obj, by=ACTOR)
        if readmit is not None and readmit.load_id == load.load_id and load.state is LoadState.REJECTED:
            load = ledger.readmit(load.load_id, by=readmit.by, why=readmit.why)
            log.info("%s: re-admitted by %s: %s", obj.uri, readmit.by, readmit.why)
    if (settled := _settled(obj, load)) is not None:
        return settled
    try:
        with warehouse.transaction():
            ledger.lock()
            # A run at the same time may have staged it meanwhile, or even
            # published or rejected it: then there is nothing left to do.
            load = ledger.get(load.load_id)
            if (settled := _settled(obj, load)) is not None:
                return settled
            if load.in_raw:
                log.info("%s: its rows are in the raw layer already (%s), not copying them again", obj.uri, load.state)
                (load,) = ledger.move([load.load_id], LoadState.STAGED, by=ACTOR)
            else:
                done = stage_object(obj, encodings, s3=s3, warehouse=warehouse)
                counts = Counts(done.source_rows, done.loaded_rows, 0, done.sales_sum, done.profit_sum)
                (load,) = ledger.move([load.load_id], LoadState.STAGED, by=ACTOR, counts=counts)
        return Outcome(obj, "staged", load)
    except ObjectRejected as rejected:
        message, load = _record_rejection(rejected, load, s3=s3, warehouse=warehouse, lake=lake)
        return Outcome(obj, "rejected", load, message)
    except ObjectChanged as changed:
        _record_failure(warehouse, load, str(changed))
        return Outcome(obj, "changed", load, str(changed))
    except BaseException as error:  # the warehouse, S3, a signal: the load stays retryable
        _record_failure(warehouse, load, f"{type(error).__name__}: {_first_line(error)}")
        raise


def _settled(obj: S3Object, load: Load) -> Outcome | None:
    """The outcome of a load that is finished: published (skipped) or rejected (refused)."""
    if load.state is LoadState.PUBLISHED:
        log.info("%s (etag %s): already published, skipping", obj.uri, obj.etag)
        return Outcome(obj, "published", load)
    if load.state is LoadState.REJECTED:
        message = (
            f"{obj.name} was rejected before, not loading it again"
            f" (admit it again with --readmit={load.load_id}): {load.reason}"
        )
        return Outcome(obj, "rejected", load, message, before=True)
    return None


def _record_failure(warehouse: Warehouse, load: Load, reason: str) -> None:
    """Best effort: with the warehouse gone this cannot be written, and the
    load stays in the state it had, which a retry takes over just the same."""
    try:
        with warehouse.transaction():
            warehouse.ledger.lock()
            warehouse.ledger.move([load.load_id], LoadState.FAILED, by=ACTOR, reason=reason)
    except Exception:
        log.warning("%s: could not record the failure in the ledger", load.obj.uri)


def _record_rejection(
    rejected: ObjectRejected, load: Load, *, s3, warehouse: Warehouse, lake: LakeSettings
) -> tuple[str, Load]:
    """After the rollback: the rejected rows to S3, the rejection to the ledger."""
    obj, rejects = rejected.obj, rejected.rejects
    rejects_key = f"{lake.rejected_prefix}{obj.key}.rejected.csv"
    rejects.upload(s3, lake.raw_bucket, rejects_key)
    rejects.close()
    message = rejects.message(obj.name, f"s3://{lake.raw_bucket}/{rejects_key}")
    counts = Counts(rejected.source_rows, None, rejects.rows)
    with warehouse.transaction():
        warehouse.ledger.lock()
        (load,) = warehouse.ledger.move([load.load_id], LoadState.REJECTED, by=ACTOR, reason=message, counts=counts)
    return message, load


# Files that are not CSV text, known by their first bytes: named as such
# rather than read as text whose "header" is missing every column.
FOREIGN_FORMATS = (
    (b"\x1f\x8b", "a gzip-compressed file, not CSV text (decompress it first)"),
    (b"PK\x03\x04", "a zip archive (or an Excel workbook), not CSV text"),
    (b"BZh", "a bzip2-compressed file, not CSV text (decompress it first)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file, not CSV text (decompress it first)"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file, not CSV text (decompress it first)"),
    (b"PAR1", "a Parquet file, not CSV text"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (or another OLE2 file), not CSV text"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian byte order mark): save it as UTF-8"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian byte order mark): save it as UTF-8"),
    (b"\xff\xfe", "UTF-16 (little-endian byte order mark): save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 (big-endian byte order mark): save it as UTF-8"),
)
SNIFF_BYTES = 512
# A multi-byte UTF-8 sequence: text with one is UTF-8 (bad bytes in it are
# errors), text with none but non-UTF-8 bytes is taken for Windows-1252.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def stage_object(obj: S3Object, encodings: tuple[str, ...], *, s3, warehouse: Warehouse) -> StagedObject:
    """Stream one object into the raw layer; restart in the next encoding
    when its bytes turn out not to be in this one."""
    # One GET for the sniff and the first reading: a ranged GET of its own is
    # a request more (against moto, 0.15 s or more for a large object).
    body = Sniffed(open_bytes(s3, obj), SNIFF_BYTES)
    try:
        _refuse_foreign_format(obj, body.head)
    except BaseException:
        body.close()
        raise
    for encoding in encodings:
        first, body = body, None  # a restart reads the object again
        try:
            return _stage_in(obj, encoding, s3=s3, warehouse=warehouse, body=first)
        except UnicodeDecodeError as error:
            log.info("%s is not %s (%s)", obj.uri, ENCODING_NAMES[encoding], error.reason)
            if encoding == "utf-8-sig" and len(encodings) > 1 and _has_utf8_sequences(obj, s3):
                # UTF-8 with a few bad bytes, not Windows-1252: reading it so
                # would alter every other non-ASCII character. Reject their rows.
                raise _check_every_row(obj, encoding, "surrogateescape", s3) from None
        except warehouse.data_errors as error:
            log.warning("%s: the warehouse refused a value (%s); checking every row", obj.uri, _first_line(error))
            rejected = _check_every_row(obj, encoding, "strict", s3)
            if rejected is None:
                raise
            raise rejected from error
    # No encoding decodes every byte: read once more keeping bad bytes (as
    # surrogates) to reject exactly the rows that hold them.
    raise _check_every_row(obj, encodings[-1], "surrogateescape", s3, tried=encodings)


def _refuse_foreign_format(obj: S3Object, head: bytes) -> None:
    what = next((name for magic, name in FOREIGN_FORMATS if head.startswith(magic)), None)
    if what is None and head.count(b"\x00") > len(head) // 4:  # text has none (one is a bad value)
        what = "binary data (NUL bytes), not CSV text; UTF-16 or UTF-32 text must be saved as UTF-8"
    if what is not None:
        rejects = Rejects()
        rejects.add_file(1, f"{what}")
        raise ObjectRejected(obj, rejects, 0)


def _has_utf8_sequences(obj: S3Object, s3) -> bool:
    with closing(open_bytes(s3, obj)) as body:  # closing(): see _stage_in
        tail = b""
        while block := body.read(1 << 20):
            if _UTF8_SEQUENCE.search(tail + block):
                return True
            tail = block[-3:]
    return False


def _stage_in(obj: S3Object, encoding: str, *, s3, warehouse: Warehouse, body: Sniffed | None = None) -> StagedObject:
    """The fast path first (on `body` if given, the object opened already);
    the exact path when the fast one cannot vouch for the object (and to say
    which rows are bad)."""
    try:
        # closing(), not the body's own `with`: that yields the raw HTTP stream,
        # whose read() takes a connection lost mid-object for the end of it;
        # botocore's body checks the length and raises instead.
        with closing(body or open_bytes(s3, obj)) as body:
            return _stream(obj, fast_path.chunks(body, encoding), warehouse, encoding)
    except fast_path.Declined as declined:
        log.info("%s: %s; checking it row by row", obj.uri, declined)
    with open_text(s3, obj, encoding) as text:
        return _stream(obj, _exact_chunks(obj, text), warehouse, encoding)


def _exact_chunks(obj: S3Object, text: TextIO) -> Iterator[Chunk]:
    validation = Validation(Rejects())
    yield from validation.chunks(text)
    if validation.rejects:  # raised while the COPY is still open: its savepoint is rolled back
        raise ObjectRejected(obj, validation.rejects, validation.source_rows)


def _stream(obj: S3Object, chunks: Iterator[Chunk], warehouse: Warehouse, encoding: str) -> StagedObject:
    rows, sales, profit = 0, Decimal(0), Decimal(0)
    with warehouse.raw_writer(obj) as writer, read_ahead(chunks) as ahead:
        for chunk in ahead:
            writer.write(chunk)
            rows += len(chunk)
            sales, profit = _add(sales, chunk, SALES), _add(profit, chunk, PROFIT)
    if writer.loaded_rows != rows:
        raise RuntimeError(f"{obj.uri}: sent {rows} rows, the warehouse loaded {writer.loaded_rows}")
    log.info("%s: %d rows in the raw layer (%s)", obj.uri, rows, ENCODING_NAMES[encoding])
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


def _add(total: Decimal, chunk: Chunk, column: int) -> Decimal:
    """Exact: the checked values cast to the column's decimal type, summed in 38 digits."""
    values = chunk.columns[column].cast(SOURCE_COLUMNS[column].kind.arrow_type)
    return _total([total, pc.sum(values, min_count=0).as_py()])


def _total(values: Iterable[Decimal]) -> Decimal:
    with decimal.localcontext(_EXACT):
        return sum(values, Decimal(0))


def _show(total: Decimal) -> str:
    return str(total.quantize(_SCALE, context=_EXACT))
