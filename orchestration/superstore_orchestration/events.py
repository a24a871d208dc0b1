"""S3 ObjectCreated notifications, as they arrive on SQS, turned into the
objects of one incremental batch.

A message is taken only when every record in it is usable; otherwise it is
left on the queue (never deleted), so SQS redelivers it and, after
maxReceiveCount, moves it to the dead-letter queue."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str


@dataclass
class Batch:
    objects: list[S3Object] = field(default_factory=list)
    ack: list[dict] = field(default_factory=list)  # {"Id", "ReceiptHandle"} to delete once published
    rejected: list[dict] = field(default_factory=list)  # {"message_id", "reason"}, left for the DLQ

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(o.key for o in self.objects))

    @property
    def batch_id(self) -> str:
        """Derived from the objects, so a redelivered or replayed batch keeps its id."""
        identity = "\n".join(sorted(f"{o.bucket}/{o.key}@{o.etag}" for o in self.objects))
        return "batch-" + hashlib.sha256(identity.encode()).hexdigest()[:20]

    def as_xcom(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "keys": self.keys,
            "objects": [asdict(o) for o in self.objects],
            "ack": self.ack,
            "rejected": self.rejected,
        }


class UnusableMessage(ValueError):
    pass


def _records(body: str) -> list[dict] | None:
    """The S3 records of a message body; None for an s3:TestEvent."""
    try:
        event = json.loads(body)
    except (TypeError, json.JSONDecodeError) as exc:
        raise UnusableMessage(f"body is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise UnusableMessage("body is not a JSON object")
    if event.get("Type") == "Notification" and "Message" in event:  # delivered through SNS
        return _records(event["Message"])
    if event.get("Event") == "s3:TestEvent":
        return None
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise UnusableMessage("no S3 Records in message")
    return records


def _object(record: dict, bucket: str, prefix: str) -> S3Object:
    try:
        name = record["eventName"]
        record_bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # S3 encodes a space as '+'
        etag = record["s3"]["object"].get("eTag", "")
    except (KeyError, TypeError) as exc:
        raise UnusableMessage(f"malformed S3 record (missing {exc})") from None
    if not name.startswith("ObjectCreated:"):
        raise UnusableMessage(f"unexpected event {name}")
    if record_bucket != bucket:
        raise UnusableMessage(f"object s3://{record_bucket}/{key} is not in bucket {bucket}")
    if not key.startswith(prefix):
        raise UnusableMessage(f"object s3://{record_bucket}/{key} is outside prefix {prefix}")
    return S3Object(record_bucket, key, etag.strip('"'))


def parse_messages(messages: list[dict], bucket: str, prefix: str) -> Batch:
    batch = Batch()
    seen: set[S3Object] = set()
    for message in messages:
        ack = {"Id": message["MessageId"], "ReceiptHandle": message["ReceiptHandle"]}
        try:
            records = _records(message.get("Body"))
            objects = [_object(r, bucket, prefix) for r in records or []]
        except UnusableMessage as exc:
            batch.rejected.append({"message_id": message["MessageId"], "reason": str(exc)})
            continue
        batch.ack.append(ack)
        for obj in objects:  # a multipart upload may notify twice for one object
            if obj not in seen:
                seen.add(obj)
                batch.objects.append(obj)
    return batch
