"""Incremental load: the generator writes a batch of new orders to S3; S3's
ObjectCreated event arrives on SQS; the batch's keys are taken from the
message(s), loaded into staging, audited and merged by dbt
(write-audit-publish), staging is dropped and Soda checks the published
tables. Messages are deleted only after their batch is published; a message
that keeps failing goes to the dead-letter queue (maxReceiveCount)."""

import logging
from datetime import datetime

from airflow.providers.amazon.aws.hooks.sqs import SqsHook
from airflow.providers.amazon.aws.sensors.sqs import SqsSensor
from airflow.sdk import DAG, Param, task
from airflow.sdk.exceptions import AirflowSkipException
from superstore_orchestration import config, steps
from superstore_orchestration.events import parse_messages
from superstore_orchestration.factory import step_task

cfg = config.pipeline()
log = logging.getLogger(__name__)

with DAG(
    dag_id="superstore_incremental_load",
    description="Generated batch -> S3 event on SQS -> staging -> dbt merge -> Soda",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # one staging schema per warehouse
    tags=["superstore", "incremental"],
    params={
        "rows": Param(1000, type="integer", minimum=1, description="Order lines to generate."),
        "seed": Param(None, type=["null", "integer"], description="Generator seed (default: from the run time)."),
        "as_of": Param(None, type=["null", "string"], description="Order date of the batch, YYYY-MM-DD."),
        "generate": Param(True, type="boolean", description="Generate a batch; false only takes pending events."),
    },
):

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def should_generate(params=None) -> bool:
        return params["generate"]

    generate = step_task(steps.GENERATE)

    # The messages stay on the queue (invisible) until `ack` deletes them.
    wait_for_batch = SqsSensor(
        task_id="wait_for_batch",
        sqs_queue=cfg.events_queue_url,
        max_messages=10,
        wait_time_seconds=5,
        visibility_timeout=cfg.events_visibility_timeout,
        delete_message_on_reception=False,
        deferrable=cfg.deferrable,
        poke_interval=5,
        timeout=cfg.sensor_timeout,
        trigger_rule="none_failed",  # runs when generation was skipped, too
    )

    def delete_messages(entries: list[dict]) -> None:
        sqs = SqsHook().get_conn()
        for start in range(0, len(entries), 10):  # SQS batch limit
            response = sqs.delete_message_batch(QueueUrl=cfg.events_queue_url, Entries=entries[start : start + 10])
            # Not fatal: a message left behind is redelivered, and the ledger
            # makes its batch a no-op then.
            for failed in response.get("Failed", []):
                log.warning("message %s not deleted: %s", failed["Id"], failed.get("Message", failed["Code"]))

    @task
    def take_batch(ti=None) -> dict:
        """The S3 keys of the received messages; unusable messages are left for the DLQ."""
        messages = ti.xcom_pull(task_ids="wait_for_batch", key="messages") or []
        lake = config.lake()
        batch = parse_messages(messages, lake.raw_bucket, lake.incoming_prefix)
        for rejected in batch.rejected:
            print(f"message {rejected['message_id']} rejected: {rejected['reason']}")
        if not batch.keys:
            delete_messages(batch.ack)  # s3:TestEvent only: nothing to load
            raise AirflowSkipException("no usable S3 object in the received messages")
        return batch.as_xcom()

    @task
    def ack(ti=None) -> int:
        """Delete the batch's messages: it is published."""
        entries = ti.xcom_pull(task_ids="take_batch")["ack"]
        delete_messages(entries)
        return len(entries)

    batch = take_batch()
    create_schemas = step_task(steps.CREATE_SCHEMAS)
    load = step_task(steps.LOAD_INCREMENTAL)
    build = step_task(steps.BUILD_INCREMENTAL)
    drop_staging = step_task(steps.DROP_STAGING)
    scan = step_task(steps.SCAN_INCREMENTAL)

    should_generate() >> generate >> wait_for_batch >> batch >> create_schemas >> load >> build
    build >> [ack(), drop_staging]
    drop_staging >> scan
