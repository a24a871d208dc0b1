"""What a team operating the pipeline relies on, on the real local stack
(PostgreSQL, moto server, dag.test with the local runner): every run
recorded in the ops tables and the lake, OpenLineage events, alerts. One
database, lake, alerts topic and lineage file of this module's own."""

import csv
import io

import boto3
import pytest
from operations_kit import OPS_DB, read_s3_csv, run, sample_csv
from stack import environ, fresh_database, lineage_file, own_lake


@pytest.fixture(scope="module")
def operated(tmp_path_factory):
    """A warehouse, lake, alerts topic (with a queue subscribed to read the
    alerts back) and OpenLineage file transport of this module's own."""
    tmp = tmp_path_factory.mktemp("operations")
    fresh_database(OPS_DB)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    with own_lake("ops") as lake:
        topic = sns.create_topic(Name=f"alerts-{lake['RAW_BUCKET']}")["TopicArn"]
        alerts = sqs.create_queue(QueueName=f"alerts-{lake['RAW_BUCKET']}")["QueueUrl"]
        alerts_arn = sqs.get_queue_attributes(QueueUrl=alerts, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=alerts_arn)
        lineage = tmp / "lineage" / "events.jsonl"
        settings = {
            "WAREHOUSE_DB": OPS_DB,
            "PIPELINE_ALERTS_TOPIC_ARN": topic,
            "PIPELINE_INCREMENTAL_SCHEDULE": "None",
            **lineage_file(lineage),
        }
        lineage.parent.mkdir(parents=True)
        with environ(settings):
            yield {**lake, "tmp": tmp, "alerts_queue": alerts, "lineage": lineage}


@pytest.fixture(scope="module")
def runs(operated):
    """An initial load, a good batch and a batch with a negative quantity."""
    source = sample_csv(operated["tmp"] / "sample.csv")
    initial = run("superstore_initial_load", source=str(source))
    assert initial.state == "success", initial.errors
    good = run("superstore_incremental_load", rows=50, seed=7, as_of="2024-03-01")
    assert good.state == "success", good.errors
    rows = read_s3_csv(operated["RAW_BUCKET"], good.result("generate")["key"])
    rows = [{**r, "Order ID": f"CA-2098-9{r['Order ID'][-5:]}"} for r in rows[:20]]
    rows[3]["Quantity"] = "-2"  # parses, but fails the audit
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    boto3.client("s3").put_object(
        Bucket=operated["RAW_BUCKET"], Key="incoming/manual/negative-quantity.csv", Body=out.getvalue().encode()
    )
    bad = run("superstore_incremental_load", generate=False)
    assert bad.state == "failed"
    return {"initial": initial, "good": good, "bad": bad, "source": source}
