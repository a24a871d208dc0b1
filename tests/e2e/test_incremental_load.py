"""Issue: incremental loads through S3 events on SQS, exactly once, with
write-audit-publish, on the real stack. The module's own database and bucket
(its initial load and five batches: module fixtures); every test its own
event queue and dead-letter queue on that bucket, so a message one test
leaves behind (a rejected batch waiting for the DLQ) never reaches another's
run, in any order and however long the visibility timeout lasts."""

import csv
import io
import os
import time
from dataclasses import dataclass
from decimal import Decimal

import boto3
import pytest
from e2e_kit import SCHEMA, fact_state, query, run, s3, send_raw_message
from stack import drain, own_queues, queue_depth, queue_url

DAG = "superstore_incremental_load"


def as_of(batch: int) -> str:
    """Batches arrive in time order: one a month."""
    return f"2024-{batch + 1:02d}-01"


def fact_totals() -> tuple[int, Decimal, Decimal]:
    return query(f"select count(*), sum(sales), sum(profit) from {SCHEMA}.fct_sales")[0]


def ledger(key: str) -> list[tuple]:
    return query("select state, reason from raw.loads where key = %s", key)


def generated_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def read_batch(key: str) -> list[dict]:
    body = s3().get_object(Bucket=os.environ["RAW_BUCKET"], Key=key)["Body"].read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


@dataclass(frozen=True)
class FiveBatches:
    """Five generated batches, one a month, and the warehouse and queue right
    after them (other tests add rows and batches out of time order later)."""

    start: tuple[int, Decimal, Decimal]
    records: list
    end: tuple[int, Decimal, Decimal]
    queue_depth: int
    version_mismatches: int
    current_versions_per_customer: int


@pytest.fixture(scope="module")
def five_batches(initial_load) -> FiveBatches:
    start = fact_totals()
    records = [run(DAG, rows=200 + 50 * i, seed=100 + i, as_of=as_of(i)) for i in range(5)]
    # every published order line points at the customer version valid on its order date
    (mismatches,) = query(
        f"""select count(*) from {SCHEMA}.fct_sales f
            join {SCHEMA}.dim_orders o using (order_key)
            join {SCHEMA}.dim_customers c using (customer_key)
            where o.order_date < c.valid_from or (c.valid_to is not null and o.order_date > c.valid_to)"""
    )[0]
    (current_per_customer,) = query(
        f"select max(n) from (select count(*) n from {SCHEMA}.dim_customers where is_current group by customer_id) t"
    )[0]
    return FiveBatches(
        start, records, fact_totals(), queue_depth(os.environ["EVENTS_QUEUE"]), mismatches, current_per_customer
    )


@pytest.fixture(autouse=True)
def own_event_queues(five_batches, request):
    """This test's own queue + DLQ on the module's bucket (after the module's batches)."""
    with own_queues(request.node.name.removeprefix("test_")[:40].replace("_", "-")):
        yield


def test_five_batches_reconcile_exactly(five_batches):
    (rows0, sales0, profit0), records = five_batches.start, five_batches.records
    assert [r.state for r in records] == ["success"] * 5, [r.errors for r in records]
    generated = [r.result("generate") for r in records]
    assert [g["rows"] for g in generated] == [200, 250, 300, 350, 400]
    rows, sales, profit = five_batches.end
    assert rows == rows0 + sum(g["rows"] for g in generated)
    # one load id from the generator to the fact: the one the generator reported
    for g in generated:
        assert query(f"select count(*) from {SCHEMA}.fct_sales where load_id = %s", g["load_id"])[0][0] == g["rows"]
    assert sales == sales0 + sum(Decimal(g["sales_sum"]) for g in generated)
    assert profit == profit0 + sum(Decimal(g["profit_sum"]) for g in generated)
    for g in generated:
        assert ledger(g["key"]) == [("published", None)]
    assert five_batches.queue_depth == 0  # every message deleted once published


def test_moved_customers_get_a_new_version_and_facts_point_at_it(five_batches):
    # every published order line points at the customer version valid on its order date
    assert five_batches.version_mismatches == 0
    assert five_batches.current_versions_per_customer == 1


def test_same_batch_again_changes_nothing(five_batches):
    before = fact_state()
    first = five_batches.records[0].result("generate")
    replay = run(DAG, rows=first["rows"], seed=first["seed"], as_of=as_of(0))  # same object, same ETag, new event
    assert replay.state == "success", replay.errors
    assert replay.result("generate")["key"] == first["key"]
    assert [o["status"] for o in replay.result("load")["objects"]] == ["published"]  # skipped: published before
    assert fact_state() == before


def test_several_pending_messages_and_awkward_keys_in_one_run(five_batches):
    rows = read_batch(five_batches.records[1].result("generate")["key"])
    bucket = os.environ["RAW_BUCKET"]
    # two new batches (order ids moved to a year no batch uses); one key with spaces and non-ASCII
    keys = ["incoming/manual/batch with spaces é.csv", "incoming/manual/second+batch.csv"]
    for n, key in enumerate(keys):
        batch = [{**r, "Order ID": f"CA-2099-{n}{r['Order ID'][-5:]}"} for r in rows[:40]]
        s3().put_object(Bucket=bucket, Key=key, Body=generated_csv(batch))
    before = fact_totals()
    record = run(DAG, generate=False)
    assert record.state == "success", record.errors
    assert sorted(record.result("take_batch")["keys"]) == sorted(keys)
    assert fact_totals()[0] == before[0] + 80
    assert all(ledger(k) == [("published", None)] for k in keys)


def test_bad_batch_is_not_published_and_stays_inspectable(five_batches):
    rows = read_batch(five_batches.records[1].result("generate")["key"])
    batch = [{**r, "Order ID": f"CA-2098-9{r['Order ID'][-5:]}"} for r in rows[:30]]
    batch[3]["Quantity"] = "-2"  # parses, but breaks the audit
    key = "incoming/manual/negative-quantity.csv"
    s3().put_object(Bucket=os.environ["RAW_BUCKET"], Key=key, Body=generated_csv(batch))
    before = fact_state()

    record = run(DAG, generate=False)

    assert record.state == "failed"
    assert any("quantity" in e.lower() for e in record.errors), record.errors
    assert fact_state() == before
    status, reason = ledger(key)[0]
    assert status == "rejected" and "quantity" in reason.lower()
    # the batch stays inspectable: its rows in the raw layer and the S3 object are kept
    assert (
        query(
            "select count(*) from raw.order_lines where _load_id = (select load_id from raw.loads where key = %s)", key
        )[0][0]
        == 30
    )
    assert s3().head_object(Bucket=os.environ["RAW_BUCKET"], Key=key)["ContentLength"] > 0


def test_poison_message_goes_to_the_dead_letter_queue_and_the_pipeline_goes_on(five_batches, monkeypatch):
    monkeypatch.setenv("PIPELINE_EVENTS_VISIBILITY_TIMEOUT", "1")
    drain(os.environ["EVENTS_DLQ"])
    send_raw_message(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": "someone-else"}, "object": {"key": "incoming/x.csv", "eTag": "1"}},
                }
            ]
        }
    )
    before = fact_totals()[0]
    published = 0
    for i in range(int(os.environ["EVENTS_MAX_RECEIVE_COUNT"])):
        time.sleep(1.5)  # the poison message becomes visible again
        record = run(DAG, rows=50, seed=900 + i, as_of=as_of(6 + i))
        assert record.state == "success", record.errors
        published += 50
        assert record.result("take_batch")["rejected"], "the poison message was received and rejected"
    time.sleep(1.5)
    boto3.client("sqs").receive_message(QueueUrl=queue_url(os.environ["EVENTS_QUEUE"]), WaitTimeSeconds=1)
    assert queue_depth(os.environ["EVENTS_DLQ"]) == 1
    assert fact_totals()[0] == before + published


def test_deferrable_sensor_takes_the_event(five_batches, monkeypatch):
    """As on EKS: the wait is handed to the triggerer (aiobotocore) instead of holding a worker."""
    monkeypatch.setenv("PIPELINE_DEFERRABLE", "true")
    before = fact_totals()[0]
    record = run(DAG, rows=120, seed=700, as_of=as_of(10))
    assert record.state == "success", record.errors
    assert fact_totals()[0] == before + 120


def test_a_bad_object_is_rejected_alone_and_the_good_one_published(five_batches):
    rows = read_batch(five_batches.records[1].result("generate")["key"])
    good = [{**r, "Order ID": f"CA-2097-1{r['Order ID'][-5:]}"} for r in rows[:20]]
    bad = [{**r, "Order ID": f"CA-2097-2{r['Order ID'][-5:]}"} for r in rows[:20]]
    bad[0]["Discount"] = "1.5"  # parses, but breaks the audit
    bucket = os.environ["RAW_BUCKET"]
    keys = {"good": "incoming/manual/good-of-two.csv", "bad": "incoming/manual/bad-of-two.csv"}
    s3().put_object(Bucket=bucket, Key=keys["good"], Body=generated_csv(good))
    s3().put_object(Bucket=bucket, Key=keys["bad"], Body=generated_csv(bad))
    before = fact_totals()[0]

    record = run(DAG, generate=False)

    assert record.state == "failed"  # loudly, in the last task, after publishing the good one
    assert record.tasks["verdict"].state == "failed" and record.tasks["ack"].state == "success"
    assert any(keys["bad"] in e and "discount" in e for e in record.errors), record.errors
    assert fact_totals()[0] == before + 20
    assert ledger(keys["good"]) == [("published", None)] and ledger(keys["bad"])[0][0] == "rejected"
    # the good object's message (and S3's test event, sent when the queue was set up); the bad one's waits for the DLQ
    test_events = sum(not m["objects"] for m in record.result("take_batch")["messages"])
    assert record.result("ack") == 1 + test_events


def test_a_rejected_load_can_be_readmitted_on_purpose(five_batches):
    rows = read_batch(five_batches.records[1].result("generate")["key"])
    bad = [{**r, "Order ID": f"CA-2096-3{r['Order ID'][-5:]}"} for r in rows[:10]]
    bad[0]["Quantity"] = "0"
    key = "incoming/manual/to-readmit.csv"
    s3().put_object(Bucket=os.environ["RAW_BUCKET"], Key=key, Body=generated_csv(bad))
    assert run(DAG, generate=False).state == "failed"
    (load_id,) = query("select load_id from raw.loads where key = %s", key)[0]
    before = fact_state()

    # nothing generated, no event waited for: the load is taken from the ledger
    record = run(DAG, generate=False, readmit=load_id, readmit_reason="quantity rule under review")

    # audited again (the data has not changed: rejected again), and on record who and why
    assert record.tasks["wait_for_batch"].state == "skipped"
    assert [r["load_id"] for r in record.result("build")["rejected"]] == [load_id]
    assert fact_state() == before
    transitions = query(
        "select from_state, to_state, changed_by, reason from raw.load_transitions where load_id = %s"
        " order by changed_at",
        load_id,
    )
    readmitted = [t for t in transitions if (t[0], t[1]) == ("rejected", "received")]
    assert len(readmitted) == 1 and readmitted[0][2] == "dag_test" and "quantity rule under review" in readmitted[0][3]
    assert transitions[-1][1] == "rejected"
