import json

from superstore_orchestration.events import done_messages, parse_messages, run_errors

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
    assert [m["Id"] for m in batch.messages] == ["m1", "m2"]
    assert [o["etag"] for o in batch.messages[0]["objects"]] == ["abc", "e2"]
    assert batch.rejected == []


def test_duplicate_notifications_for_one_object_give_one_key():
    record = s3_event("incoming/x.csv", etag="same")
    batch = parse_messages([message(1, {"Records": [record]}), message(2, {"Records": [record]})], BUCKET, PREFIX)
    assert batch.keys == ["incoming/x.csv"]
    assert len(batch.messages) == 2  # both deliveries are deleted once published


def test_test_event_is_acknowledged_without_keys():
    batch = parse_messages([message(1, {"Service": "Amazon S3", "Event": "s3:TestEvent"})], BUCKET, PREFIX)
    assert batch.keys == [] and [m["Id"] for m in batch.messages] == ["m1"] and batch.rejected == []


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
    assert [m["Id"] for m in batch.messages] == ["m5"]
    reasons = {r["message_id"]: r["reason"] for r in batch.rejected}
    assert set(reasons) == {"m1", "m2", "m3", "m4"}
    assert "not in bucket" in reasons["m1"] and "outside prefix" in reasons["m2"]


def test_sns_wrapped_notification():
    inner = json.dumps({"Records": [s3_event("incoming/sns.csv")]})
    batch = parse_messages([message(1, {"Type": "Notification", "Message": inner})], BUCKET, PREFIX)
    assert batch.keys == ["incoming/sns.csv"]


def test_an_event_names_an_object_version():
    batch = parse_messages([message(1, {"Records": [s3_event("incoming/a.csv", etag='"e1"')]})], BUCKET, PREFIX)
    assert batch.as_xcom()["objects"] == [{"bucket": BUCKET, "key": "incoming/a.csv", "etag": "e1"}]


def loaded(key: str, status: str, load_id: str, error: str | None = None) -> dict:
    return {"bucket": BUCKET, "key": key, "etag": "abc", "load_id": load_id, "status": status, "error": error}


def test_a_message_is_deleted_once_all_its_objects_are_published():
    batch = parse_messages(
        [
            message(1, {"Records": [s3_event("incoming/a.csv"), s3_event("incoming/b.csv")]}),
            message(2, {"Records": [s3_event("incoming/c.csv")]}),
            message(3, {"Records": [s3_event("incoming/d.csv")]}),
            message(4, {"Records": [s3_event("incoming/e.csv")]}),
        ],
        BUCKET,
        PREFIX,
    ).as_xcom()
    load = {
        "objects": [
            loaded("incoming/a.csv", "staged", "load-a"),
            loaded("incoming/b.csv", "staged", "load-b"),  # rejected by a check: m1 stays
            loaded("incoming/c.csv", "published", "load-c"),  # published before: redelivered
            loaded("incoming/d.csv", "changed", "load-d", "changed since its event"),  # superseded
            loaded("incoming/e.csv", "staged", "load-e"),
        ]
    }
    build = {"published": ["load-a", "load-e"], "rejected": [{"load_id": "load-b", "reason": "1 check failed: x"}]}
    assert [m["Id"] for m in done_messages(batch, load, build)] == ["m2", "m3", "m4"]
    assert run_errors(load, build) == ["incoming/b.csv (load-b) rejected: 1 check failed: x"]
    assert [m["Id"] for m in done_messages(batch, load, None)] == ["m2", "m3"]  # nothing built
