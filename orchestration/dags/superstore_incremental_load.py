"""Incremental load: the generator writes a batch of new orders to S3; S3's
ObjectCreated event arrives on SQS; the object versions (bucket, key, ETag)
are taken from the message(s) and appended to the raw layer, one load each;
dbt audits the candidate loads (a bad one is rejected alone) and the rest
are published in one transaction; the audit schema is dropped and Soda
checks the published tables. A message is deleted only once its objects are
published; a rejected object's message goes to the dead-letter queue
(maxReceiveCount). The run fails, after publishing the good loads, when any
object was rejected."""

from datetime import datetime

from airflow.providers.amazon.aws.hooks.sqs import SqsHook
from airflow.providers.amazon.aws.sensors.sqs import SqsSensor
from airflow.sdk import DAG, Param, task
from airflow.sdk.exceptions import AirflowSkipException
from superstore_orchestration import config, steps
from superstore_orchestration.events import delete_messages, done_messages, parse_messages
from superstore_orchestration.factory import step_task
from superstore_orchestration.verdict import READMIT_PARAMS, verdict_task

cfg = config.pipeline()

with DAG(
    dag_id="superstore_incremental_load",
    description="Generated batch -> S3 event on SQS -> raw -> audit -> publish -> Soda",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["superstore", "incremental"],
    params={
        "rows": Param(1000, type="integer", minimum=1, description="Order lines to generate."),
        "seed": Param(None, type=["null", "integer"], description="Generator seed (default: from the run time)."),
        "as_of": Param(None, type=["null", "string"], description="Order date of the batch, YYYY-MM-DD."),
        "generate": Param(True, type="boolean", description="Generate a batch; false only takes pending events."),
        **READMIT_PARAMS,
    },
):

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def should_generate(params=None) -> bool:
        return params["generate"]

    @task.short_circuit(ignore_downstream_trigger_rules=False, trigger_rule="none_failed")
    def should_wait(params=None) -> bool:
        """A re-admission alone (nothing generated) waits for no event."""
        return params["generate"] or not params["readmit"]

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

    @task(trigger_rule="none_failed")
    def take_batch(ti=None, params=None) -> dict:
        """The object versions of the received messages; unusable messages are left for the DLQ."""
        messages = ti.xcom_pull(task_ids="wait_for_batch", key="messages") or []
        lake = config.lake()
        batch = parse_messages(messages, lake.raw_bucket, lake.incoming_prefix)
        for rejected in batch.rejected:
            print(f"message {rejected['message_id']} rejected: {rejected['reason']}")
        if not batch.objects and not params["readmit"]:
            empty = [{"Id": m["Id"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch.messages]
            delete_messages(SqsHook().get_conn(), cfg.events_queue_url, empty)  # s3:TestEvent only
            raise AirflowSkipException("no usable S3 object in the received messages")
        return batch.as_xcom()

    @task
    def ack(ti=None) -> int:
        """Delete the messages whose objects are all published."""
        entries = done_messages(
            ti.xcom_pull(task_ids="take_batch"), ti.xcom_pull(task_ids="load"), ti.xcom_pull(task_ids="build")
        )
        return delete_messages(SqsHook().get_conn(), cfg.events_queue_url, entries)

    batch = take_batch()
    create_schemas = step_task(steps.CREATE_SCHEMAS)
    load = step_task(steps.LOAD_INCREMENTAL)
    build = step_task(steps.BUILD_INCREMENTAL)
    drop_staging = step_task(steps.DROP_STAGING)
    scan = step_task(steps.SCAN_INCREMENTAL)
    acked = ack()

    should_generate() >> generate >> should_wait() >> wait_for_batch >> batch >> create_schemas >> load >> build
    build >> [acked, drop_staging]
    drop_staging >> scan
    [acked, scan] >> verdict_task()
