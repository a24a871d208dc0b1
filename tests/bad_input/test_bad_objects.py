"""Objects as events announce them: awkward keys, a version overwritten
after its event, a key that holds nothing."""

import time
from urllib.parse import quote_plus

import boto3
import pytest
from bad_input_kit import (
    BUCKET,
    column,
    header,
    load,
    loads_of_key,
    published_checksums,
    put,
    raw_total,
    rejected_rows,
    rows,
    s3_record,
    sqs_message,
    to_csv,
)
from stack import own_lake
from superstore_orchestration.events import parse_messages

AWKWARD = "incoming/bad input/ünïcödé + plüs/{} name+1.csv"  # spaces, non-ASCII, '+'


def test_an_awkward_key_from_its_event_loads(cases):
    key = AWKWARD.format("good")
    case = cases.load("unused", to_csv(header(), rows(10)), key=key, via_event=True)

    case.assert_staged(10)
    assert case.load["key"] == key


def test_the_error_of_an_awkward_key_names_it_exactly(cases):
    key = AWKWARD.format("bad")
    body = rows(10)
    body[0][column("Quantity")] = "2.5"
    case = cases.load("unused", to_csv(header(), body), key=key, via_event=True)

    case.assert_rejected(2, "Quantity", "not an integer: '2.5'", source_rows=10)  # s3://bucket/<key as it is> ...
    assert quote_plus(key) not in case.run.error_lines[0]


@pytest.fixture(scope="module")
def lake():
    """A bucket with the real ObjectCreated -> SQS notification (moto), of this module's own."""
    with own_lake("bad-input") as env:
        yield env


def test_the_real_s3_event_of_an_awkward_key_names_it_exactly_and_it_loads(lake, published):
    key = AWKWARD.format("evented")
    boto3.client("s3").put_object(Bucket=lake["RAW_BUCKET"], Key=key, Body=to_csv(header(), rows(10)))
    sqs, messages, deadline = boto3.client("sqs"), [], time.monotonic() + 20
    while not parse_messages(messages, lake["RAW_BUCKET"], "incoming/").objects and time.monotonic() < deadline:
        # (the notification's own s3:TestEvent may come first)
        messages += sqs.receive_message(
            QueueUrl=lake["PIPELINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])

    batch = parse_messages(messages, lake["RAW_BUCKET"], "incoming/")

    assert batch.rejected == []
    (obj,) = batch.as_xcom()["objects"]
    assert (obj["bucket"], obj["key"]) == (lake["RAW_BUCKET"], key)  # moto encoded it, parse_messages decoded it
    run = load(obj)
    assert run.returncode == 0, run.stderr
    ((result),) = run.result["objects"]
    assert (result["status"], result["key"], result["rows"]) == ("staged", key, 10)
    assert published_checksums() == published


def test_an_object_overwritten_after_its_event_is_not_loaded_and_names_both_etags(published):
    key = "incoming/bad-input/overwritten.csv"
    announced = put(key, to_csv(header(), rows(10)))
    now = put(key, to_csv(header(), rows(5)))["etag"]  # a new version under the same key
    assert now != announced["etag"]
    before = raw_total()

    run = load(announced)

    assert (run.returncode, run.result) == (1, None)
    assert run.error_lines == [
        f"error: s3://{BUCKET}/{key} changed since its event (ETag {announced['etag']} announced, {now} now):"
        " not loading it; the newer version's own event brings it"
    ]
    assert loads_of_key(key) == 0  # neither version is in the ledger: the newer one comes with its own event
    assert raw_total() == before
    assert rejected_rows(key) is None  # not rejected: superseded
    assert published_checksums() == published


def test_a_changed_object_does_not_hold_back_a_good_one(published):
    key = "incoming/bad-input/overwritten-too.csv"
    announced = put(key, to_csv(header(), rows(10)))
    now = put(key, to_csv(header(), rows(5)))["etag"]
    good = put("incoming/bad-input/companion.csv", to_csv(header(), rows(3)))

    run = load(announced, good)

    assert run.returncode == 0, run.stderr
    changed, staged = run.result["objects"]
    message = (
        f"s3://{BUCKET}/{key} changed since its event (ETag {announced['etag']} announced, {now} now):"
        " not loading it; the newer version's own event brings it"
    )
    assert (changed["status"], changed["rows"], changed["error"]) == ("changed", 0, message)
    assert (staged["status"], staged["rows"]) == ("staged", 3)
    assert run.result["errors"] == [message]
    assert loads_of_key(key) == 0
    assert published_checksums() == published


def test_a_key_that_holds_nothing_is_a_one_line_error(published):
    key = "incoming/bad-input/never-there.csv"
    etag = "0123456789abcdef0123456789abcdef"
    before = raw_total()

    run = load({"bucket": BUCKET, "key": key, "etag": etag})

    assert (run.returncode, run.result) == (1, None)
    assert run.error_lines == [
        f"error: s3://{BUCKET}/{key}: no such object (ETag {etag} announced, deleted since its event?): not loading it"
    ]
    assert loads_of_key(key) == 0
    assert raw_total() == before
    assert published_checksums() == published


def no_etag(record: dict) -> None:
    del record["s3"]["object"]["eTag"]


def quotes_only_etag(record: dict) -> None:
    record["s3"]["object"]["eTag"] = '""'


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        pytest.param(no_etag, "malformed S3 record: no 'eTag'", id="no eTag"),
        pytest.param(
            quotes_only_etag, r'malformed S3 record: eTag is "\"\"", not a non-empty string', id="eTag of only quotes"
        ),
    ],
)
def test_an_event_without_a_usable_etag_is_rejected_and_holds_back_no_good_object(published, spoil, reason):
    """Once the loader itself refused the whole --objects list for one
    object without an ETag; now parse_messages rejects that message alone
    (it goes on to the DLQ) and the good object of the batch is loaded."""
    good = put(f"incoming/bad-input/good-neighbour-{spoil.__name__}.csv", to_csv(header(), rows(3)))
    bad = s3_record(good)
    spoil(bad)
    messages = [sqs_message("bad", {"Records": [bad]}), sqs_message("good", {"Records": [s3_record(good)]})]
    batch = parse_messages(messages, BUCKET, "incoming/")
    before = raw_total()
    run = load(*batch.as_xcom()["objects"])

    assert run.returncode == 0, run.stderr  # the good object is loaded
    assert [(o["key"], o["status"], o["rows"]) for o in run.result["objects"]] == [(good["key"], "staged", 3)]
    assert raw_total() == before + 3
    (rejected,) = batch.rejected  # the bad message is left for the DLQ
    assert rejected["message_id"] == "bad"
    if reason is not None:
        assert rejected["reason"] == reason
    assert published_checksums() == published
