"""Alerts a deployed pipeline raises without a person watching: a failed run
(either DAG) and an incremental run past its deadline, both published to the
SNS topic PIPELINE_ALERTS_TOPIC_ARN through the amazon provider's notifier.
Without a topic there are no alerts."""

from datetime import timedelta

from superstore_orchestration import config

# Rendered on the triggerer against the context the scheduler gives a missed
# deadline (Deadline.handle_miss): `dag_run` is the REST API's DAGRunResponse
# as a dict, whose run id is `dag_run_id` (a DagRun's `run_id` is not there
# and would render empty), and `deadline` holds its id and deadline_time.
LATE_SUBJECT = "[superstore] {{ dag_run.dag_id }} run is late"
LATE_MESSAGE = "Run {{ dag_run.dag_run_id }} of {{ dag_run.dag_id }} is not done by {{ deadline.deadline_time }}."


def notify_failure(context) -> None:
    """A failed run, told to the alerts topic. A function rather than the
    templated SnsNotifier: Airflow 3.3's dag.test() hands DAG callbacks a
    serialized DAG that cannot render templates."""
    from airflow.providers.amazon.aws.hooks.sns import SnsHook

    cfg = config.pipeline()
    dag_id, run_id = context["dag"].dag_id, context["run_id"]
    task = context.get("ti")
    SnsHook(aws_conn_id=cfg.aws_conn_id).publish_to_target(
        target_arn=cfg.alerts_topic_arn,
        subject=f"[superstore] {dag_id} run failed",
        message=f"Run {run_id} of {dag_id} failed"
        + (f" at task {task.task_id}" if task else "")
        + f": {context.get('reason') or 'see the run in Airflow'}",
    )


def on_failure() -> list:
    """The DAG's on_failure_callback: notify the alerts topic, if there is one."""
    return [notify_failure] if config.pipeline().alerts_topic_arn else []


def incremental_deadline():
    """An Airflow Deadline Alert: the incremental run must be done within
    PIPELINE_INCREMENTAL_DEADLINE_MINUTES of being queued."""
    cfg = config.pipeline()
    if not cfg.alerts_topic_arn:
        return None
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=cfg.incremental_deadline_minutes),
        callback=AsyncCallback(
            SnsNotifier,
            kwargs={
                "aws_conn_id": cfg.aws_conn_id,
                "target_arn": cfg.alerts_topic_arn,
                "subject": LATE_SUBJECT,
                "message": LATE_MESSAGE,
            },
        ),
        name="incremental run late",
    )
