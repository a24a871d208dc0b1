"""S3 helpers. boto3 honours AWS_ENDPOINT_URL, so moto and AWS share one path."""

from functools import cache
from urllib.parse import urlparse

import boto3

from superstore_common.step import StepError


@cache
def s3_client():
    return boto3.client("s3")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise StepError(f"{uri}: not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")
