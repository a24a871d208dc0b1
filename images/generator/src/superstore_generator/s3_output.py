"""Writes a batch to S3 as a CSV in the source format, in constant memory:
rows stream into a spooled temporary file (RAM up to SPOOL_BYTES, then
disk), which boto3 uploads (multipart when large) with bounded buffers."""

import io
from collections.abc import Callable, Iterable, Mapping
from tempfile import SpooledTemporaryFile

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from superstore_common.s3 import s3_client

from superstore_generator.source_format import HEADER, csv_fields

SPOOL_BYTES = 16 * 1024 * 1024
# Few concurrent parts: each part is read into memory while it uploads.
TRANSFER = TransferConfig(multipart_chunksize=16 * 1024 * 1024, max_concurrency=2)


def upload_csv(
    bucket: str, key: str, text_chunks: Iterable[str], metadata: Callable[[], Mapping[str, str]]
) -> None:
    """Upload the header and `text_chunks` (whole CSV lines, line ends included);
    `metadata` is asked once every line is written (totals are known only
    then) and stored with the object."""
    with SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        text.write(csv_fields(HEADER) + "\n")
        text.writelines(text_chunks)
        text.flush()
        text.detach()
        spool.seek(0)
        extra = {"ContentType": "text/csv; charset=utf-8", "Metadata": dict(metadata())}
        s3_client().upload_fileobj(spool, bucket, key, ExtraArgs=extra, Config=TRANSFER)


def stored_metadata(bucket: str, key: str) -> dict[str, str] | None:
    """The metadata of an object already at `key`, None if there is none."""
    try:
        return s3_client().head_object(Bucket=bucket, Key=key)["Metadata"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
