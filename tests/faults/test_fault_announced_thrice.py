"""Case 6: one object version announced three times: the object put again
with the same bytes, re-announced by a copy onto itself (what the generator
does for a batch it made before), and one of those notifications delivered
twice by SQS. Each announcement runs the loader (and the build) as its own
run would; the object is loaded and published once, and every message can
be deleted."""

import json

from faults_stack import BUCKET
from superstore_orchestration.events import done_messages, parse_messages

QUEUE = "faults-events"


def s3_events_to_a_queue(stack) -> str:
    """The bucket's ObjectCreated notifications -> an SQS queue of moto's, as on AWS."""
    sqs = stack.moto.client("sqs")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.moto.s3().put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
                }
            ]
        },
    )
    return url


def event_name(message: dict) -> str | None:
    """The S3 event of a notification; None for the s3:TestEvent sent when it is configured."""
    return next((r["eventName"] for r in json.loads(message["Body"]).get("Records", [])), None)


def receive(sqs, url: str, count: int) -> list[dict]:
    """`count` deliveries of S3 events; a message left visible (VisibilityTimeout 0) comes again."""
    deliveries: list[dict] = []
    for _ in range(20):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=1
        ).get("Messages", [])
        deliveries += [m for m in messages if event_name(m)]
        if len(deliveries) >= count:
            return deliveries[:count]
    raise AssertionError(f"{count} S3 events expected on the queue, got {len(deliveries)}")


def test_an_object_announced_three_times_is_loaded_and_published_once(stack, databases, batch):
    warehouse = databases("fault")
    url = s3_events_to_a_queue(stack)
    sqs, s3 = stack.moto.client("sqs"), stack.moto.s3()
    try:
        stack.moto.put(batch.obj["key"], batch.source.body)  # the same bytes again: the same ETag
        s3.copy_object(
            Bucket=BUCKET, Key=batch.obj["key"], CopySource={"Bucket": BUCKET, "Key": batch.obj["key"]},
            Metadata={"reannounced": "1"}, MetadataDirective="REPLACE",
        )  # fmt: skip
        put, copy = sorted(receive(sqs, url, 2), key=lambda m: event_name(m) != "ObjectCreated:Put")
        (again,) = [m for m in receive(sqs, url, 2) if m["MessageId"] == put["MessageId"]]
    finally:
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
        sqs.delete_queue(QueueUrl=url)
    deliveries = [put, copy, again]
    assert [event_name(m) for m in deliveries] == ["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectCreated:Put"]

    batches = [parse_messages([m], BUCKET, "incoming/") for m in deliveries]
    announced = [[o.identity() for o in b.objects] for b in batches]
    assert announced == [[batch.obj]] * 3  # the same version each time: the same load id
    assert [o.identity() for o in parse_messages(deliveries, BUCKET, "incoming/").objects] == [batch.obj]

    # Runs 1 and 2 load before either builds: the second finds the rows there already.
    load_1 = stack.load(announced[0], warehouse.db).ok()
    load_2 = stack.load(announced[1] * 3, warehouse.db).ok()  # listed three times in one run, too
    assert load_1["load_ids"] == load_2["load_ids"] == [batch.load_id]
    assert warehouse.raw(batch.load_id)[0] == batch.source.rows
    build_1 = stack.build(load_1["load_ids"], "run-1", warehouse.db).ok()
    build_2 = stack.build(load_2["load_ids"], "run-2", warehouse.db).ok()
    assert build_1["published"] == [batch.load_id]
    assert (build_2["published"], build_2["skipped"]) == ([], [batch.load_id])
    # Run 3 (the redelivery) comes after the publish: nothing to load, nothing to build.
    load_3 = stack.load(announced[2], warehouse.db).ok()
    assert load_3["load_ids"] == []
    assert [o["status"] for o in load_3["objects"]] == ["published"]
    build_3 = stack.build(load_3["load_ids"], "run-3", warehouse.db).ok()
    assert build_3["published"] == []
    for run_id in ("run-1", "run-2", "run-3"):
        stack.drop_staging(run_id, warehouse.db).ok()

    # Every delivery's message is done: each can be deleted.
    for b, loaded, built in zip(batches, (load_1, load_2, load_3), (build_1, build_2, build_3), strict=True):
        assert len(done_messages(b.as_xcom(), loaded, built)) == 1
    assert [to for _, to in warehouse.transitions(batch.load_id)] == [
        "received", "staged", "staged", "audited", "published",
    ]  # fmt: skip
    batch.assert_as_clean(warehouse)
