"""SQS messages that announce no usable object: parse_messages rejects each
with a clear reason and never acknowledges it, so SQS redelivers it and,
after maxReceiveCount, moves it to the dead-letter queue."""

import json
import time
import uuid

import boto3
import pytest
from superstore_orchestration.events import delete_messages, done_messages, parse_messages

BUCKET, PREFIX = "superstore-raw", "incoming/"
GOOD = {"bucket": BUCKET, "key": "incoming/good.csv", "etag": "e0"}


def record(key: str = "incoming/x.csv", bucket: str = BUCKET, name: str = "ObjectCreated:Put", **fields) -> dict:
    return {"eventName": name, "s3": {"bucket": {"name": bucket}, "object": {"key": key, "eTag": "e1", **fields}}}


def message(message_id: str, body) -> dict:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"receipt-{message_id}",
        "Body": body if isinstance(body, str) or body is None else json.dumps(body),
    }


def sns(inner) -> dict:
    return {"Type": "Notification", "Message": inner if isinstance(inner, str) else json.dumps(inner)}


GOOD_MESSAGE = message("good", {"Records": [record(GOOD["key"], eTag='"e0"')]})

BAD_BODIES = {
    "foreign bucket": ({"Records": [record(bucket="someone-elses")]}, "object s3://someone-elses/incoming/x.csv is not in bucket superstore-raw"),
    "key outside the prefix": ({"Records": [record("landing/x.csv")]}, "object s3://superstore-raw/landing/x.csv is outside prefix incoming/"),
    "not ObjectCreated": ({"Records": [record(name="ObjectRemoved:Delete")]}, "unexpected event ObjectRemoved:Delete"),
    "body not JSON": ("<xml>not json</xml>", "body is not JSON: Expecting value: line 1 column 1 (char 0)"),
    "no body": (None, "body is not JSON: the JSON object must be str, bytes or bytearray, not NoneType"),
    "JSON, not an object": ("[1, 2]", "body is not a JSON object"),
    "JSON without Records": ({"Service": "Amazon S3"}, "no S3 Records in message"),
    "empty Records": ({"Records": []}, "no S3 Records in message"),
    "record without s3": ({"Records": [{"eventName": "ObjectCreated:Put"}]}, "malformed S3 record: no 's3'"),
    "SNS-wrapped, not JSON": (sns("garbage"), "body is not JSON: Expecting value: line 1 column 1 (char 0)"),
    "SNS-wrapped, no Records": (sns({"hello": 1}), "no S3 Records in message"),
    "SNS-wrapped, foreign bucket": (sns({"Records": [record(bucket="other")]}), "object s3://other/incoming/x.csv is not in bucket superstore-raw"),
    "one good record, one foreign": ({"Records": [record("incoming/ok.csv"), record(bucket="other")]}, "object s3://other/incoming/x.csv is not in bucket superstore-raw"),
}  # fmt: skip


@pytest.mark.parametrize("kind", BAD_BODIES)
def test_an_unusable_message_is_rejected_with_its_reason_and_never_acknowledged(kind):
    body, reason = BAD_BODIES[kind]
    batch = parse_messages([message("bad", body), GOOD_MESSAGE], BUCKET, PREFIX)

    assert batch.rejected == [{"message_id": "bad", "reason": reason}]
    # The good message beside it is taken; nothing of the bad one is.
    assert batch.as_xcom()["objects"] == [GOOD]
    assert [m["Id"] for m in batch.messages] == ["good"]
    # Even with everything published, only the good message is deleted: the bad one goes on to the DLQ.
    load = {"objects": [{**GOOD, "load_id": "load-1", "status": "published"}]}
    assert done_messages(batch.as_xcom(), load, {"published": ["load-1"]}) == [
        {"Id": "good", "ReceiptHandle": "receipt-good"}
    ]


def without(path: tuple[str, ...]) -> dict:
    """A record without the field at `path`."""
    rec = record()
    *parents, name = path
    inner = rec
    for parent in parents:
        inner = inner[parent]
    del inner[name]
    return rec


def setting(path: tuple[str, ...], value) -> dict:
    """A record with the field at `path` set to `value`."""
    rec = record()
    *parents, name = path
    inner = rec
    for parent in parents:
        inner = inner[parent]
    inner[name] = value
    return rec


EVENT_NAME, BUCKET_NAME = ("eventName",), ("s3", "bucket", "name")
KEY, ETAG = ("s3", "object", "key"), ("s3", "object", "eTag")
BAD_RECORDS = {
    # kind: (the record, the reason)
    "not an object (a string)": ("incoming/x.csv", 'an S3 record is not a JSON object: "incoming/x.csv"'),
    "not an object (a list)": (["incoming/x.csv", 1], 'an S3 record is not a JSON object: ["incoming/x.csv", 1]'),
    "not an object (null)": (None, "an S3 record is not a JSON object: null"),
    "no eventName": (without(EVENT_NAME), "malformed S3 record: no 'eventName'"),
    "no bucket": (without(("s3", "bucket")), "malformed S3 record: no 'bucket'"),
    "no object": (without(("s3", "object")), "malformed S3 record: no 'object'"),
    "no key": (without(KEY), "malformed S3 record: no 'key'"),
    "no eTag": (without(ETAG), "malformed S3 record: no 'eTag'"),
    "s3 a string": (setting(("s3",), "x"), "malformed S3 record: s3, bucket or object is not a JSON object"),
    "object a list": (setting(("s3", "object"), []), "malformed S3 record: s3, bucket or object is not a JSON object"),
    "eventName null": (setting(EVENT_NAME, None), "malformed S3 record: eventName is null, not a non-empty string"),
    "bucket name a number": (setting(BUCKET_NAME, 7), "malformed S3 record: bucket name is 7, not a non-empty string"),
    "key a number": (setting(KEY, 12), "malformed S3 record: key is 12, not a non-empty string"),
    "key empty": (setting(KEY, ""), 'malformed S3 record: key is "", not a non-empty string'),
    "eTag null": (setting(ETAG, None), "malformed S3 record: eTag is null, not a non-empty string"),
    "eTag empty": (setting(ETAG, ""), 'malformed S3 record: eTag is "", not a non-empty string'),
    "eTag a number": (setting(ETAG, 123), "malformed S3 record: eTag is 123, not a non-empty string"),
}


@pytest.mark.parametrize("kind", BAD_RECORDS)
def test_a_record_of_the_wrong_shape_is_rejected_with_a_clear_reason(kind):
    """Not an exception that fails take_batch (holding back the good messages
    too), nor an object with an empty ETag that makes the loader refuse the
    whole --objects list: the message is rejected alone, never acknowledged."""
    bad, reason = BAD_RECORDS[kind]
    batch = parse_messages(
        [message("bad", {"Records": [record("incoming/ok.csv"), bad]}), GOOD_MESSAGE], BUCKET, PREFIX
    )

    assert batch.rejected == [{"message_id": "bad", "reason": reason}]
    assert batch.as_xcom()["objects"] == [GOOD]  # nothing of the bad message, not even its good record
    load = {"objects": [{**GOOD, "load_id": "load-1", "status": "published"}]}
    assert done_messages(batch.as_xcom(), load, {"published": ["load-1"]}) == [
        {"Id": "good", "ReceiptHandle": "receipt-good"}
    ]


def test_an_etag_of_only_quotes_is_rejected():
    batch = parse_messages([message("bad", {"Records": [setting(ETAG, '""')]}), GOOD_MESSAGE], BUCKET, PREFIX)

    (rejected,) = batch.rejected  # whatever the exact words, the eTag is named
    assert rejected["message_id"] == "bad" and rejected["reason"].startswith("malformed S3 record: eTag ")
    assert batch.as_xcom()["objects"] == [GOOD]


def test_a_test_event_is_acknowledged_and_announces_nothing():
    batch = parse_messages([message("test", {"Service": "Amazon S3", "Event": "s3:TestEvent"})], BUCKET, PREFIX)
    assert (batch.objects, batch.rejected) == ([], [])
    assert done_messages(batch.as_xcom(), None, None) == [{"Id": "test", "ReceiptHandle": "receipt-test"}]


@pytest.fixture
def queues():
    """A queue of our own with a dead-letter queue (maxReceiveCount 2), on moto."""
    sqs = boto3.client("sqs")
    name = f"bad-input-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})},
    )["QueueUrl"]
    yield sqs, queue, dlq
    for url in (queue, dlq):
        sqs.delete_queue(QueueUrl=url)


def test_a_rejected_message_reaches_the_dead_letter_queue_and_the_good_one_is_deleted(queues):
    sqs, queue, dlq = queues
    sqs.send_message(QueueUrl=queue, MessageBody="not json at all")
    sqs.send_message(QueueUrl=queue, MessageBody=GOOD_MESSAGE["Body"])
    rejected_reasons = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not received and sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0).get("Messages"):
            break
        batch = parse_messages(received, BUCKET, PREFIX)
        rejected_reasons += [r["reason"] for r in batch.rejected]
        # ack as the DAG does once the good object is published
        load = {"objects": [{**o, "load_id": "load-1", "status": "published"} for o in batch.as_xcom()["objects"]]}
        delete_messages(sqs, queue, done_messages(batch.as_xcom(), load, {}))

    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["not json at all"]
    assert set(rejected_reasons) == {"body is not JSON: Expecting value: line 1 column 1 (char 0)"}
    assert sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []) == []
