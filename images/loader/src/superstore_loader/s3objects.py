"""Source objects in S3: exactly the version (bucket, key, ETag) an event
announced, read as a stream, never whole in memory."""

import io
from typing import BinaryIO, TextIO
from urllib.parse import quote, unquote

from botocore.exceptions import ClientError
from superstore_common.objects import S3Object
from superstore_common.step import StepError


def origin_metadata(source: str) -> dict[str, str]:
    return {"origin": quote(source)}  # S3 metadata is ASCII


def not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class ObjectChanged(StepError):
    """The object at the key is no longer the version its event announced
    (another version, or none)."""


def head(s3, announced: S3Object) -> S3Object:
    """The announced version, with the origin put-source recorded; refuses
    when the key now holds another version (its own event carries it)."""
    try:
        response = s3.head_object(Bucket=announced.bucket, Key=announced.key)
    except ClientError as error:
        if not_found(error):
            # Per object, like a new version: it must not hold back the others.
            raise ObjectChanged(
                f"{announced.uri}: no such object (ETag {announced.etag} announced, deleted since its event?):"
                " not loading it"
            ) from None
        raise
    etag = response["ETag"].strip('"')
    if etag != announced.etag:
        raise ObjectChanged(_changed(announced, etag))
    origin = unquote(response.get("Metadata", {}).get("origin", ""))
    return S3Object(announced.bucket, announced.key, etag, origin)


def _changed(announced: S3Object, now: str) -> str:
    return (
        f"{announced.uri} changed since its event (ETag {announced.etag} announced, {now} now):"
        " not loading it; the newer version's own event brings it"
    )


def open_bytes(s3, obj: S3Object) -> BinaryIO:
    """The object's body as it streams in; IfMatch makes sure it is the
    version whose ETag the ledger records."""
    try:
        return s3.get_object(Bucket=obj.bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')["Body"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"412", "PreconditionFailed"}:
            raise ObjectChanged(_changed(obj, "another")) from None
        raise


def open_text(s3, obj: S3Object, encoding: str, errors: str = "strict") -> TextIO:
    """The object's body decoded as it streams in."""
    # newline="": the csv module handles CRLF and line breaks inside quoted fields itself.
    return io.TextIOWrapper(open_bytes(s3, obj), encoding=encoding, errors=errors, newline="")


class Sniffed:
    """An object's body whose first `count` bytes (fewer only if the object
    is that short) are read already as `head`, then read whole from the start."""

    def __init__(self, body: BinaryIO, count: int):
        self._body = body
        parts, size = [], 0
        while size < count and (part := body.read(count - size)):
            parts.append(part)
            size += len(part)
        self.head = self._pending = b"".join(parts)

    def read(self, amount: int = -1) -> bytes:
        pending, self._pending = self._pending, b""
        if not pending:
            return self._body.read(amount) if amount >= 0 else self._body.read()
        if 0 <= amount <= len(pending):
            self._pending = pending[amount:]
            return pending[:amount]
        rest = self._body.read(amount - len(pending)) if amount >= 0 else self._body.read()
        return pending + rest

    def close(self) -> None:
        self._body.close()
