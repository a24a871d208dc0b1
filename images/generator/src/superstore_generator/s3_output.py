"""Writes a batch to S3 as a CSV in the source format, in constant memory:
text streams into a spooled temporary file (memory up to one part, then
disk), which is uploaded one part at a time once complete. The object
appears atomically, and its metadata can hold the batch's totals, known only
after the last line."""

import io
from collections.abc import Callable, Iterable, Mapping
from tempfile import SpooledTemporaryFile
from typing import IO

from botocore.exceptions import ClientError
from superstore_common.s3 import s3_client

from superstore_generator.source_format import HEADER, csv_fields

PART_BYTES = 8 * 1024 * 1024  # S3 allows 10,000 parts: batches up to 80 GB


def upload_csv(bucket: str, key: str, text_chunks: Iterable[str], metadata: Callable[[], Mapping[str, str]]) -> None:
    """Upload the header and `text_chunks` (whole CSV lines, line ends
    included); `metadata` is asked once every line is written and stored
    with the object."""
    with SpooledTemporaryFile(max_size=PART_BYTES) as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        text.write(csv_fields(HEADER) + "\n")
        text.writelines(text_chunks)
        text.flush()
        text.detach()
        size = spool.tell()
        spool.seek(0)
        attributes = {"ContentType": "text/csv; charset=utf-8", "Metadata": dict(metadata())}
        if size <= PART_BYTES:
            s3_client().put_object(Bucket=bucket, Key=key, Body=spool.read(), **attributes)
        else:
            _upload_in_parts(spool, bucket, key, attributes)


def _upload_in_parts(file: IO[bytes], bucket: str, key: str, attributes: dict) -> None:
    s3 = s3_client()
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **attributes)["UploadId"]
    try:
        parts = []
        for number, body in enumerate(iter(lambda: file.read(PART_BYTES), b""), start=1):
            etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def stored_metadata(bucket: str, key: str) -> dict[str, str] | None:
    """The metadata of an object already at `key`, None if there is none."""
    try:
        return s3_client().head_object(Bucket=bucket, Key=key)["Metadata"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def reannounce(bucket: str, key: str, metadata: Mapping[str, str]) -> None:
    """Copy the object onto itself (same bytes, same metadata): S3 sends a new
    ObjectCreated event for it."""
    s3_client().copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key},
        Metadata=dict(metadata),
        MetadataDirective="REPLACE",
        ContentType="text/csv; charset=utf-8",
    )
