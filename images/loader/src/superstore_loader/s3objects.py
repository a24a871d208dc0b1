"""Source objects in S3: identified by bucket, key and ETag (the ledger's key),
read as a stream, never whole in memory."""

import io
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO
from urllib.parse import quote, unquote

from botocore.exceptions import ClientError
from superstore_common.step import StepError


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    origin: str = field(default="", compare=False)  # the file put-source stored here

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        """How errors name the object: its URI, and the file it came from."""
        return f"{self.uri} (from {self.origin})" if self.origin else self.uri


def origin_metadata(source: str) -> dict[str, str]:
    return {"origin": quote(source)}  # S3 metadata is ASCII


def not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def head(s3, bucket: str, key: str) -> S3Object:
    try:
        response = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if not_found(error):
            raise StepError(f"s3://{bucket}/{key}: no such object") from None
        raise
    origin = unquote(response.get("Metadata", {}).get("origin", ""))
    return S3Object(bucket, key, response["ETag"].strip('"'), origin)


def open_bytes(s3, obj: S3Object) -> BinaryIO:
    """The object's body as it streams in; IfMatch makes sure it is the
    version whose ETag the ledger records."""
    return s3.get_object(Bucket=obj.bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')["Body"]


def open_text(s3, obj: S3Object, encoding: str, errors: str = "strict") -> TextIO:
    """The object's body decoded as it streams in."""
    # newline="": the csv module handles CRLF and line breaks inside quoted fields itself.
    return io.TextIOWrapper(open_bytes(s3, obj), encoding=encoding, errors=errors, newline="")
