"""Incremental load: the generator writes a batch of new orders to S3; S3's
ObjectCreated event arrives on SQS; the object versions (bucket, key, ETag)
are taken from the message(s) and appended to the raw layer, one load each;
dbt audits the candidate loads (a bad one is rejected alone) and the rest
are published in one transaction; the audit schema is dropped and Soda
checks the published tables; the run is recorded. A message is deleted only
once its objects are published; a rejected object's message goes to the
dead-letter queue (maxReceiveCount). The run fails, after publishing the
good loads, when any object was rejected. Scheduled by
PIPELINE_INCREMENTAL_SCHEDULE (hourly by default), late runs alerted."""

from datetime import datetime

from airflow.sdk import DAG, Param, task
from superstore_orchestration import alerts, config, sqs, steps
from superstore_orchestration.dag_parts import READMIT_PARAMS, dag_arguments, end_of_run
from superstore_orchestration.factory import step_task

with DAG(
    dag_id="superstore_incremental_load",
    description="Generated batch -> S3 event on SQS -> raw -> audit -> publish -> Soda",
    doc_md=__doc__,
    schedule=config.pipeline().incremental_schedule,
    start_date=datetime(2024, 1, 1),
    deadline=alerts.incremental_deadline(),
    tags=["superstore", "incremental"],
    params={
        "rows": Param(1000, type="integer", minimum=1, description="Order lines to generate."),
        "seed": Param(None, type=["null", "integer"], description="Generator seed (default: from the run time)."),
        "as_of": Param(None, type=["null", "string"], description="Order date of the batch, YYYY-MM-DD."),
        "generate": Param(True, type="boolean", description="Generate a batch; false only takes pending events."),
        **READMIT_PARAMS,
    },
    **dag_arguments(),
):

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def should_generate(params=None) -> bool:
        return params["generate"]

    @task.short_circuit(ignore_downstream_trigger_rules=False, trigger_rule="none_failed")
    def should_wait(params=None) -> bool:
        """A re-admission alone (nothing generated) waits for no event."""
        return params["generate"] or not params["readmit"]

    wait_for_batch = sqs.wait_for_batch_task()
    batch = sqs.take_batch()
    load, build, drop_staging, scan = (
        step_task(s)
        for s in (steps.LOAD_INCREMENTAL, steps.BUILD_INCREMENTAL, steps.DROP_STAGING, steps.SCAN_INCREMENTAL)
    )
    acked = sqs.ack(batch, load.output, build.output)

    should_generate() >> step_task(steps.GENERATE) >> should_wait() >> wait_for_batch >> batch
    batch >> step_task(steps.CREATE_SCHEMAS) >> load >> build >> [acked, drop_staging]
    drop_staging >> scan
    end_of_run(load, build, acked, scan)
