"""Writes a batch to S3 as a CSV in the source format, while it is being
generated and in constant memory: the text goes into part buffers, used in
turn, that background threads upload as the next parts are made. The object
appears atomically (a single put, or a multipart upload completed once every
part is up) with its metadata, which the caller knows in advance. Both
return the object's ETag: with bucket and key, its identity, from which its
load id follows (superstore_common.objects)."""

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain, count, islice

from botocore.exceptions import ClientError
from superstore_common.s3 import s3_client
from superstore_common.source_format import HEADER

from superstore_generator.csv_output import as_bytes_text, csv_fields

PART_BYTES = 8 * 1024 * 1024  # S3 allows 10,000 parts: batches up to 80 GB
# Parts in memory at once: one being made, the others uploading or queued.
# Their buffers are made once and reused: memory stays flat, and the heap
# does not fragment under buffers of ever-changing sizes.
PARTS_IN_MEMORY = 3
# Parts going up at once: S3 (or moto) takes in one while the other is sent.
UPLOAD_THREADS = 2


def upload_csv(bucket: str, key: str, chunks: Iterable[bytes], metadata: Mapping[str, str]) -> str:
    """Upload the header and `chunks` (whole CSV lines, UTF-8), with
    `metadata` stored with the object; returns its ETag."""
    header = (as_bytes_text(csv_fields(HEADER)) + "\n").encode("latin-1")
    attributes = {"ContentType": "text/csv; charset=utf-8", "Metadata": dict(metadata)}
    parts = _parts(chain([header], chunks))
    read_ahead = list(islice(parts, 2))  # one part: a plain put, more: a multipart upload
    if len(read_ahead) == 1:
        return s3_client().put_object(Bucket=bucket, Key=key, Body=read_ahead[0], **attributes)["ETag"]
    return _upload_in_parts(chain(read_ahead, parts), bucket, key, attributes)


def _parts(chunks: Iterable[bytes]) -> Iterator[bytearray]:
    """The chunks cut into parts of PART_BYTES, the last one shorter. Parts
    are written into PARTS_IN_MEMORY buffers in turn: a part must be
    uploaded before the part PARTS_IN_MEMORY after it is asked for."""
    buffers: list[bytearray] = []
    number, filled = 0, 0
    for chunk in chunks:
        rest = memoryview(chunk)
        while rest:
            if number == len(buffers) < PARTS_IN_MEMORY:
                buffers.append(bytearray())  # grows as the first parts are written
            buffer = buffers[number % PARTS_IN_MEMORY]
            taken = rest[: PART_BYTES - filled]
            buffer[filled : filled + len(taken)] = taken
            filled += len(taken)
            rest = rest[len(taken) :]
            if filled == PART_BYTES:
                yield buffer
                number, filled = number + 1, 0
    if filled:
        yield buffers[number % PARTS_IN_MEMORY][:filled]


def _upload_in_parts(parts: Iterator[bytearray], bucket: str, key: str, attributes: dict) -> str:
    s3 = s3_client()
    # Each part carries a CRC32; S3 keeps them as the object's composite checksum.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32", **attributes)["UploadId"]

    def upload(number: int, body: bytearray) -> dict:
        sent = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, ChecksumAlgorithm="CRC32"
        )
        return {"PartNumber": number, "ETag": sent["ETag"], "ChecksumCRC32": sent["ChecksumCRC32"]}

    uploader = ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="upload")
    try:
        waiting: deque[Future[dict]] = deque()
        uploaded = []
        for number in count(start=1):
            if len(waiting) == PARTS_IN_MEMORY:
                # frees a buffer for the next part; an upload error stops generating here
                uploaded.append(waiting.popleft().result())
            if (body := next(parts, None)) is None:
                break
            waiting.append(uploader.submit(upload, number, body))
        uploaded.extend(future.result() for future in waiting)
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": uploaded}
        )
        return done["ETag"]
    except BaseException:
        uploader.shutdown(cancel_futures=True)  # drops the queued parts, lets those on their way end
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    finally:
        uploader.shutdown()


def stored_metadata(bucket: str, key: str) -> dict[str, str] | None:
    """The metadata of an object already at `key`, None if there is none."""
    try:
        return s3_client().head_object(Bucket=bucket, Key=key)["Metadata"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def reannounce(bucket: str, key: str, metadata: Mapping[str, str]) -> str:
    """Copy the object onto itself (same bytes, same metadata): S3 sends a new
    ObjectCreated event for it. Returns its ETag, the same as before: a
    single-part object is copied whole (its ETag is its MD5), a multipart
    one part by part along its own part boundaries, since a whole copy would
    give it another ETag (the MD5 of the bytes instead of that of its parts'),
    and so another identity."""
    s3 = s3_client()
    attributes = {"ContentType": "text/csv; charset=utf-8", "Metadata": dict(metadata)}
    first_part = s3.head_object(Bucket=bucket, Key=key, PartNumber=1)
    parts = first_part.get("PartsCount", 1)
    if parts == 1:
        copied = s3.copy_object(
            Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, MetadataDirective="REPLACE", **attributes
        )
        return copied["CopyObjectResult"]["ETag"]
    size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    part_bytes = first_part["ContentLength"]  # every part's but the last
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32", **attributes)["UploadId"]
    try:
        uploaded = []
        for number in range(1, parts + 1):
            first, last = (number - 1) * part_bytes, min(number * part_bytes, size) - 1
            copied = s3.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": bucket, "Key": key},
                CopySourceRange=f"bytes={first}-{last}",
            )["CopyPartResult"]
            part = {"PartNumber": number, "ETag": copied["ETag"]}
            if "ChecksumCRC32" in copied:
                part["ChecksumCRC32"] = copied["ChecksumCRC32"]
            uploaded.append(part)
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": uploaded}
        )
        return done["ETag"]
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
