"""One Airflow server for the module's tests (started once: about a minute),
on a warehouse database, bucket and event queues of its own, its alerts
published to a topic of its own (a queue subscribed to read them back) and
the incremental run's deadline a few seconds after it is queued: every
incremental run is late, which the triggerer tells the topic."""

import json
import os
import time

import boto3
import pytest
from scheduler_kit import (
    LATE_AFTER_MINUTES,
    METADATA_DB,
    WAREHOUSE_DB,
    Server,
    airflow_sh,
    alerts_topic,
    fact_totals,
    free_port,
    log_tails,
    server_env,
)
from stack import connect, fresh_database, own_lake, source_csv

RUN_TIMEOUT = 900
ALERT_TIMEOUT = 120


@pytest.fixture(scope="session")
def scheduler(tmp_path_factory):
    fresh_database(WAREHOUSE_DB)
    with connect() as conn:
        conn.execute(f"drop database if exists {METADATA_DB} with (force)")
    saved = os.environ.get("WAREHOUSE_DB")
    os.environ["WAREHOUSE_DB"] = WAREHOUSE_DB
    home = tmp_path_factory.mktemp("airflow-server")
    with own_lake("sched"), alerts_topic("sched") as (topic, alerts_queue):
        env = server_env(
            home,
            free_port(),
            METADATA_DB,
            # no scheduled incremental runs: only the runs the tests trigger
            PIPELINE_INCREMENTAL_SCHEDULE="none",
            PIPELINE_ALERTS_TOPIC_ARN=topic,
            PIPELINE_INCREMENTAL_DEADLINE_MINUTES=str(LATE_AFTER_MINUTES),
        )
        started = time.monotonic()
        up = airflow_sh("up", env)
        server = Server(int(env["AIRFLOW_PORT"]), home)
        server.start_seconds = time.monotonic() - started
        server.env = env
        server.alerts_queue = alerts_queue
        try:
            assert up.returncode == 0, f"{up.stdout}\n{up.stderr}\n{log_tails(home)}"
            yield server
        finally:
            down = airflow_sh("down", env)
            assert down.returncode == 0, down.stderr
    if saved is not None:
        os.environ["WAREHOUSE_DB"] = saved


def finished(server, dag_id: str, conf: dict) -> dict:
    run_id = server.trigger(dag_id, conf)
    started = time.monotonic()
    run = server.wait_run(dag_id, run_id, RUN_TIMEOUT)
    run["seconds"] = time.monotonic() - started
    run["tasks"] = {ti["task_id"]: ti for ti in server.task_instances(dag_id, run_id)}
    return run


@pytest.fixture(scope="session")
def initial_run(scheduler) -> dict:
    run = finished(scheduler, "superstore_initial_load", {"source": str(source_csv())})
    # as the initial load left it, whichever test asks first (the tests run in any order)
    run["fact_totals"] = fact_totals() if run["state"] == "success" else None
    return run


@pytest.fixture(scope="session")
def incremental_run(scheduler, initial_run) -> dict:
    return finished(scheduler, "superstore_incremental_load", {"rows": 300, "seed": 31337, "as_of": "2024-02-01"})


@pytest.fixture(scope="session")
def alerts(scheduler, initial_run, incremental_run) -> list[dict]:
    """Every alert the topic got for the two runs, once the incremental run's
    late alert is in (or ALERT_TIMEOUT passed): SNS's envelope (Subject,
    Message) and the SQS SentTimestamp, in seconds."""
    sqs = boto3.client("sqs")
    got, deadline = [], time.monotonic() + ALERT_TIMEOUT
    late = False
    while True:
        response = sqs.receive_message(
            QueueUrl=scheduler.alerts_queue,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=5,
            AttributeNames=["SentTimestamp"],
        )
        messages = response.get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            body["sent"] = int(message["Attributes"]["SentTimestamp"]) / 1000
            got.append(body)
            sqs.delete_message(QueueUrl=scheduler.alerts_queue, ReceiptHandle=message["ReceiptHandle"])
        late = late or any(incremental_run["dag_run_id"] in b["Message"] for b in got)
        if (late and not messages) or time.monotonic() > deadline:
            return got
