"""The incremental DAG's queue side, on the amazon provider's SQS sensor and
hook: wait for S3 events, take a batch from the received messages, delete
the messages whose objects are done (see events.py for which)."""

from airflow.sdk import task
from airflow.sdk.exceptions import AirflowSkipException

from superstore_orchestration import config
from superstore_orchestration.events import delete_messages, done_messages, parse_messages
from superstore_orchestration.steps import TAKE_BATCH, WAIT_FOR_BATCH


def _sqs():
    from airflow.providers.amazon.aws.hooks.sqs import SqsHook

    return SqsHook(aws_conn_id=config.pipeline().aws_conn_id).get_conn()


def wait_for_batch_task():
    """Wait for S3 events; the messages stay on the queue (invisible) until `ack` deletes them."""
    from airflow.providers.amazon.aws.sensors.sqs import SqsSensor

    cfg = config.pipeline()
    return SqsSensor(
        task_id=WAIT_FOR_BATCH,
        aws_conn_id=cfg.aws_conn_id,
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


@task(task_id=TAKE_BATCH, trigger_rule="none_failed")
def take_batch(ti=None, params=None) -> dict:
    """The object versions of the received messages; unusable messages are left for the DLQ."""
    from superstore_common.settings import LakeSettings

    messages = ti.xcom_pull(task_ids=WAIT_FOR_BATCH, key="messages") or []
    lake = LakeSettings()
    batch = parse_messages(messages, lake.raw_bucket, lake.incoming_prefix)
    for rejected in batch.rejected:
        print(f"message {rejected['message_id']} rejected: {rejected['reason']}")
    if not batch.objects and not params["readmit"]:
        empty = [{"Id": m["Id"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch.messages]
        delete_messages(_sqs(), config.pipeline().events_queue_url, empty)  # s3:TestEvent only
        raise AirflowSkipException("no usable S3 object in the received messages")
    return batch.as_xcom()


@task
def ack(batch: dict, load_result: dict, build_result: dict) -> int:
    """Delete the messages whose objects are all published."""
    entries = done_messages(batch, load_result, build_result)
    return delete_messages(_sqs(), config.pipeline().events_queue_url, entries)
