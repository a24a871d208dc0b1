"""S3 ObjectCreated notifications, as they arrive on SQS, turned into the
object versions (bucket, key, ETag) of one incremental run, and the SQS
side of the run: which messages to delete once their objects are done.

A message is taken only when every record in it is usable; otherwise it is
left on the queue (never deleted), so SQS redelivers it and, after
maxReceiveCount, moves it to the dead-letter queue. A message is deleted
only when every object it announced is published (or superseded by a newer
version); a rejected object's message is left to reach the DLQ."""

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from superstore_common.objects import S3Object

log = logging.getLogger(__name__)
SQS_BATCH_LIMIT = 10


@dataclass
class Batch:
    objects: list[S3Object] = field(default_factory=list)
    # {"Id", "ReceiptHandle", "objects": [...]}: deleted once all their objects are done
    messages: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # {"message_id", "reason"}, left for the DLQ

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(o.key for o in self.objects))

    def as_xcom(self) -> dict:
        return {
            "keys": self.keys,
            "objects": [o.identity() for o in self.objects],
            "messages": self.messages,
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


def _object(record, bucket: str, prefix: str) -> S3Object:
    if not isinstance(record, dict):
        raise UnusableMessage(f"an S3 record is not a JSON object: {json.dumps(record)[:80]}")
    try:
        name = record["eventName"]
        record_bucket = record["s3"]["bucket"]["name"]
        raw_key = record["s3"]["object"]["key"]
        etag = record["s3"]["object"]["eTag"]
    except KeyError as missing:
        raise UnusableMessage(f"malformed S3 record: no {missing.args[0]!r}") from None
    except TypeError:
        raise UnusableMessage("malformed S3 record: s3, bucket or object is not a JSON object") from None
    for what, value in (("eventName", name), ("bucket name", record_bucket), ("key", raw_key), ("eTag", etag)):
        if not isinstance(value, str) or not value.strip('"'):
            raise UnusableMessage(f"malformed S3 record: {what} is {json.dumps(value)}, not a non-empty string")
    key = unquote_plus(raw_key)  # S3 encodes a space as '+'
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
        try:
            records = _records(message.get("Body"))
            objects = [_object(r, bucket, prefix) for r in records or []]
        except UnusableMessage as exc:
            batch.rejected.append({"message_id": message["MessageId"], "reason": str(exc)})
            continue
        batch.messages.append(
            {
                "Id": message["MessageId"],
                "ReceiptHandle": message["ReceiptHandle"],
                "objects": [o.identity() for o in objects],
            }
        )
        for obj in objects:  # a multipart upload may notify twice for one object
            if obj not in seen:
                seen.add(obj)
                batch.objects.append(obj)
    return batch


def done_messages(batch: dict, load_result: dict | None, build_result: dict | None) -> list[dict]:
    """The messages whose every object is done: published (now or before) or
    superseded by a newer version, whose own event brings it."""
    published = set((build_result or {}).get("published", [])) | set((build_result or {}).get("skipped", []))
    done = {
        (o["bucket"], o["key"], o["etag"])
        for o in (load_result or {}).get("objects", [])
        if o["status"] in {"published", "changed"} or o["load_id"] in published
    }
    return [
        {"Id": m["Id"], "ReceiptHandle": m["ReceiptHandle"]}
        for m in batch["messages"]
        if all((o["bucket"], o["key"], o["etag"]) in done for o in m["objects"])
    ]


def delete_messages(sqs, queue_url: str, entries: list[dict]) -> int:
    """Delete messages in SQS batches; returns how many were deleted. A
    failed delete is not fatal: the message comes back, and the ledger makes
    its objects a no-op then."""
    deleted = 0
    for start in range(0, len(entries), SQS_BATCH_LIMIT):
        response = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries[start : start + SQS_BATCH_LIMIT])
        deleted += len(response.get("Successful", []))
        for failed in response.get("Failed", []):
            log.warning("message %s not deleted: %s", failed["Id"], failed.get("Message", failed["Code"]))
    return deleted


def run_errors(load_result: dict | None, build_result: dict | None) -> list[str]:
    """What the run must fail on, one line each: objects the loader refused
    or rejected, loads whose data failed a check."""
    errors = list((load_result or {}).get("errors", []))
    keys = {o["load_id"]: o["key"] for o in (load_result or {}).get("objects", [])}
    for rejected in (build_result or {}).get("rejected", []):
        errors.append(
            f"{keys.get(rejected['load_id'], rejected['load_id'])} ({rejected['load_id']}) rejected: {rejected['reason']}"
        )
    return errors
