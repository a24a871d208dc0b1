"""The identity of a source object version, from the S3 event to the ledger:
(bucket, key, ETag). Its load id is derived from that identity alone, so
every component (generator, loader, ledger, fct_sales) names a load alike,
and a redelivered or replayed event keeps its id."""

import hashlib
import json
import re
from dataclasses import dataclass, field

LOAD_ID = re.compile(r"load-[0-9a-f]{20}")


def load_id(bucket: str, key: str, etag: str) -> str:
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag.strip(chr(34))}".encode()).hexdigest()
    return f"load-{digest[:20]}"


def parse_load_ids(text: str, option: str = "--load-ids") -> list[str]:
    """A JSON list of load ids from a command line. Only well-formed ids:
    the steps write them into SQL as literals."""
    from superstore_common.step import StepError  # typer: imported only by the steps

    try:
        ids = json.loads(text)
    except json.JSONDecodeError:
        ids = None
    if not isinstance(ids, list) or not all(isinstance(i, str) and LOAD_ID.fullmatch(i) for i in ids):
        raise StepError(f"{option} must be a JSON list of load ids (load-<20 hex>), got {text[:200]!r}")
    return ids


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    origin: str = field(default="", compare=False)  # the file put-source stored here, for error messages

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        """How errors name the object: its URI, and the file it came from."""
        return f"{self.uri} (from {self.origin})" if self.origin else self.uri

    @property
    def load_id(self) -> str:
        return load_id(self.bucket, self.key, self.etag)

    def identity(self) -> dict[str, str]:
        """As it travels in XCom and on command lines."""
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag}
