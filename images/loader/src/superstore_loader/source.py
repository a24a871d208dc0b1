"""The `put-source` step: a source file (local or in S3) into the raw bucket
under its content hash, so the same content is stored once."""

import hashlib
import logging
from pathlib import Path

from botocore.exceptions import ClientError

from superstore_common.s3 import parse_s3_uri
from superstore_common.settings import LakeSettings
from superstore_common.step import StepError

from superstore_loader.s3objects import not_found

log = logging.getLogger(__name__)

BLOCK = 1 << 20


def put_source(source: str, *, s3, lake: LakeSettings) -> dict:
    if source.startswith("s3://"):
        bucket, key = parse_s3_uri(source)
        try:
            response = s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if not_found(error):
                raise StepError(f"{source}: no such object") from None
            raise
        sha256, size = _digest(response["Body"])

        def store(target: str) -> None:  # copied inside S3: the data does not pass through here again
            s3.copy({"Bucket": bucket, "Key": key}, lake.raw_bucket, target,
                    ExtraArgs={"CopySourceIfMatch": response["ETag"]})  # fmt: skip
    else:
        path = Path(source)
        if not path.is_file():
            raise StepError(f"{source}: no such file")
        with path.open("rb") as file:
            sha256, size = _digest(file)

        def store(target: str) -> None:
            s3.upload_file(str(path), lake.raw_bucket, target)

    key = f"{lake.source_prefix}{sha256}.csv"
    if _exists(s3, lake.raw_bucket, key):
        log.info("s3://%s/%s already stored, skipping the upload", lake.raw_bucket, key)
    else:
        store(key)
        log.info("%s stored as s3://%s/%s (%d bytes)", source, lake.raw_bucket, key, size)
    return {"bucket": lake.raw_bucket, "key": key, "sha256": sha256, "bytes": size, "source": source}


def _digest(stream) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while block := stream.read(BLOCK):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if not_found(error):
            return False
        raise
    return True
