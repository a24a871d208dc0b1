"""The `put-source` step: a source file (local or in S3) into the raw bucket
under its content hash, so the same content is stored once."""

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError
from superstore_common import record
from superstore_common.objects import S3Object
from superstore_common.s3 import parse_s3_uri
from superstore_common.settings import LakeSettings
from superstore_common.step import StepError

from superstore_loader.s3objects import not_found, origin_metadata

log = logging.getLogger(__name__)

BLOCK = 1 << 20

# Stores the hashed source as (bucket, key).
Store = Callable[[str, str], None]


def _source_dataset(source: str) -> tuple[str, str]:
    """The source file in OpenLineage's naming: s3://bucket + key, or file + path."""
    if source.startswith("s3://"):
        bucket, key = parse_s3_uri(source)
        return f"s3://{bucket}", key
    return "file", str(Path(source).resolve())


def put_source(source: str, *, s3, lake: LakeSettings) -> dict:
    sha256, size, store = _from_s3(source, s3) if source.startswith("s3://") else _from_file(source, s3)
    key = f"{lake.source_prefix}{sha256}.csv"
    if (etag := _etag(s3, lake.raw_bucket, key)) is not None:
        log.info("s3://%s/%s already stored, skipping the upload", lake.raw_bucket, key)
    else:
        store(lake.raw_bucket, key)
        etag = _etag(s3, lake.raw_bucket, key)
        log.info("%s stored as s3://%s/%s (%d bytes)", source, lake.raw_bucket, key, size)
    obj = S3Object(lake.raw_bucket, key, etag)
    step = record.current()
    step.inputs = [record.Dataset(*_source_dataset(source))]
    step.outputs = [record.s3_dataset(obj.bucket, obj.key)]
    return {**obj.identity(), "load_id": obj.load_id, "sha256": sha256, "bytes": size, "source": source}


def _from_file(path: str, s3) -> tuple[str, int, Store]:
    if not Path(path).is_file():
        raise StepError(f"{path}: no such file")
    with open(path, "rb") as file:
        sha256, size = _digest(file)

    def upload(bucket: str, key: str) -> None:
        s3.upload_file(path, bucket, key, ExtraArgs={"Metadata": origin_metadata(path)})

    return sha256, size, upload


def _from_s3(uri: str, s3) -> tuple[str, int, Store]:
    source_bucket, source_key = parse_s3_uri(uri)
    try:
        response = s3.get_object(Bucket=source_bucket, Key=source_key)
    except ClientError as error:
        if not_found(error):
            raise StepError(f"{uri}: no such object") from None
        raise
    sha256, size = _digest(response["Body"])

    def copy(bucket: str, key: str) -> None:
        # Inside S3, so the data does not pass through here again; IfMatch:
        # exactly the version that was hashed.
        s3.copy({"Bucket": source_bucket, "Key": source_key}, bucket, key,
                ExtraArgs={"CopySourceIfMatch": response["ETag"], "Metadata": origin_metadata(uri),
                           "MetadataDirective": "REPLACE"})  # fmt: skip

    return sha256, size, copy


def _digest(stream) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while block := stream.read(BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def _etag(s3, bucket: str, key: str) -> str | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    except ClientError as error:
        if not_found(error):
            return None
        raise
