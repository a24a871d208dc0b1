import json

from superstore_orchestration.events import parse_messages

BUCKET, PREFIX = "superstore-raw", "incoming/"


def s3_event(key: str, bucket: str = BUCKET, etag: str = "abc", name: str = "ObjectCreated:Put") -> dict:
    return {"eventName": name, "s3": {"bucket": {"name": bucket}, "object": {"key": key, "eTag": etag}}}


def message(i: int, body) -> dict:
    return {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body if isinstance(body, str) else json.dumps(body)}


def test_every_record_of_every_message_is_taken_and_keys_are_url_decoded():
    batch = parse_messages(
        [
            message(1, {"Records": [s3_event("incoming/a+b%C3%A9.csv"), s3_event("incoming/c.csv", etag="e2")]}),
            message(2, {"Records": [s3_event("incoming/2024%2F01/d.csv")]}),
        ],
        BUCKET,
        PREFIX,
    )
    assert batch.keys == ["incoming/a bé.csv", "incoming/c.csv", "incoming/2024/01/d.csv"]
    assert [a["Id"] for a in batch.ack] == ["m1", "m2"]
    assert batch.rejected == []


def test_duplicate_notifications_for_one_object_give_one_key():
    record = s3_event("incoming/x.csv", etag="same")
    batch = parse_messages([message(1, {"Records": [record]}), message(2, {"Records": [record]})], BUCKET, PREFIX)
    assert batch.keys == ["incoming/x.csv"]
    assert len(batch.ack) == 2  # both deliveries are deleted once published


def test_test_event_is_acknowledged_without_keys():
    batch = parse_messages([message(1, {"Service": "Amazon S3", "Event": "s3:TestEvent"})], BUCKET, PREFIX)
    assert batch.keys == [] and [a["Id"] for a in batch.ack] == ["m1"] and batch.rejected == []


def test_foreign_bucket_outside_prefix_and_garbage_are_rejected_not_acknowledged():
    batch = parse_messages(
        [
            message(1, {"Records": [s3_event("incoming/a.csv", bucket="other")]}),
            message(2, {"Records": [s3_event("elsewhere/a.csv")]}),
            message(3, "not json"),
            message(4, {"Records": [s3_event("incoming/a.csv", name="ObjectRemoved:Delete")]}),
            message(5, {"Records": [s3_event("incoming/ok.csv")]}),
        ],
        BUCKET,
        PREFIX,
    )
    assert batch.keys == ["incoming/ok.csv"]
    assert [a["Id"] for a in batch.ack] == ["m5"]
    reasons = {r["message_id"]: r["reason"] for r in batch.rejected}
    assert set(reasons) == {"m1", "m2", "m3", "m4"}
    assert "not in bucket" in reasons["m1"] and "outside prefix" in reasons["m2"]


def test_sns_wrapped_notification():
    inner = json.dumps({"Records": [s3_event("incoming/sns.csv")]})
    batch = parse_messages([message(1, {"Type": "Notification", "Message": inner})], BUCKET, PREFIX)
    assert batch.keys == ["incoming/sns.csv"]


def test_batch_id_depends_on_the_objects_only():
    one = parse_messages(
        [message(1, {"Records": [s3_event("incoming/a.csv"), s3_event("incoming/b.csv")]})], BUCKET, PREFIX
    )
    again = parse_messages(
        [message(9, {"Records": [s3_event("incoming/b.csv"), s3_event("incoming/a.csv")]})], BUCKET, PREFIX
    )
    other = parse_messages([message(1, {"Records": [s3_event("incoming/a.csv", etag="new")]})], BUCKET, PREFIX)
    assert one.batch_id == again.batch_id != other.batch_id
