"""DAG integrity: the DAG files import, have the expected shape, and every
step task runs the entrypoint of the image its step declares."""

from itertools import pairwise

import pytest
from airflow.dag_processing.dagbag import DagBag
from superstore_orchestration import alerts, steps
from superstore_orchestration.local_run import DAGS_FOLDER


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(str(DAGS_FOLDER))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"superstore_initial_load", "superstore_incremental_load"}


def test_initial_load_is_the_chain_of_its_steps(dagbag):
    dag = dagbag.get_dag("superstore_initial_load")
    order = [*(s.task_id for s in steps.INITIAL_LOAD), "verdict", steps.RECORD.task_id]
    assert [t.task_id for t in dag.topological_sort()] == order
    for upstream, downstream in pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    assert dag.max_active_runs == 1


def test_incremental_load_waits_for_the_event_and_acks_after_publishing(dagbag):
    dag = dagbag.get_dag("superstore_incremental_load")
    assert dag.get_task("should_generate").downstream_task_ids == {"generate"}
    assert dag.get_task("generate").downstream_task_ids == {"should_wait"}
    assert dag.get_task("should_wait").downstream_task_ids == {"wait_for_batch"}
    assert dag.get_task("wait_for_batch").trigger_rule == "none_failed"
    assert dag.get_task("wait_for_batch").delete_message_on_reception is False
    assert dag.get_task("take_batch").downstream_task_ids == {"create_schemas", "ack"}
    assert dag.get_task("build").downstream_task_ids == {"ack", "drop_staging", "verdict"}
    assert dag.get_task("drop_staging").downstream_task_ids == {"scan"}
    # the run fails at the end, after the good loads are published and acked
    assert dag.get_task("verdict").upstream_task_ids == {"load", "build", "ack", "scan"}
    assert dag.get_task("verdict").downstream_task_ids == {steps.RECORD.task_id}


@pytest.mark.parametrize("dag_id", ["superstore_initial_load", "superstore_incremental_load"])
def test_every_run_is_recorded_by_a_teardown_that_leaves_its_state_alone(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    record = dag.get_task(steps.RECORD.task_id)
    assert record.is_teardown and not record.on_failure_fail_dagrun
    assert record.downstream_task_ids == set()
    assert [t.task_id for t in dag.leaves] == [steps.RECORD.task_id]


def _dags(tmp_path, monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return DagBag(str(DAGS_FOLDER))


def test_the_incremental_dag_runs_hourly_unless_told_otherwise(tmp_path, monkeypatch):
    assert _dags(tmp_path, monkeypatch).get_dag("superstore_incremental_load").timetable.expression == "0 * * * *"
    manual = _dags(tmp_path, monkeypatch, PIPELINE_INCREMENTAL_SCHEDULE="None").get_dag("superstore_incremental_load")
    assert type(manual.timetable).__name__ == "NullTimetable"


def test_alerts_go_to_the_configured_topic(tmp_path, monkeypatch):
    quiet = _dags(tmp_path, monkeypatch, PIPELINE_ALERTS_TOPIC_ARN="")
    assert all(not dag.on_failure_callback for dag in quiet.dags.values())
    topic = "arn:aws:sns:us-east-1:123456789012:superstore-alerts"
    bag = _dags(tmp_path, monkeypatch, PIPELINE_ALERTS_TOPIC_ARN=topic, PIPELINE_INCREMENTAL_DEADLINE_MINUTES="30")
    for dag in bag.dags.values():
        assert dag.on_failure_callback == [alerts.notify_failure]
    (deadline,) = bag.get_dag("superstore_incremental_load").deadline
    assert deadline.interval.total_seconds() == 30 * 60
    assert deadline.callback.kwargs["target_arn"] == topic
    # fractional minutes: the scheduler test's deadline of a few seconds
    bag = _dags(tmp_path, monkeypatch, PIPELINE_ALERTS_TOPIC_ARN=topic, PIPELINE_INCREMENTAL_DEADLINE_MINUTES="0.05")
    (deadline,) = bag.get_dag("superstore_incremental_load").deadline
    assert deadline.interval.total_seconds() == 3


def test_a_late_alert_names_the_run_from_the_context_the_triggerer_gets(tmp_path, monkeypatch):
    """The context of a missed deadline (Deadline.handle_miss): the run as
    the REST API's DAGRunResponse, the deadline's id and time."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import DAGRunResponse
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    topic = "arn:aws:sns:us-east-1:123456789012:superstore-alerts"
    bag = _dags(tmp_path, monkeypatch, PIPELINE_ALERTS_TOPIC_ARN=topic)
    (deadline,) = bag.get_dag("superstore_incremental_load").deadline
    assert deadline.callback.path == f"{SnsNotifier.__module__}.{SnsNotifier.__name__}"
    context = {
        "dag_run": {name: f"<{name}>" for name in DAGRunResponse.model_fields},
        "deadline": {"id": "<id>", "deadline_time": "<deadline_time>"},
    }
    notifier = SnsNotifier(**deadline.callback.kwargs, context=context)
    notifier.render_template_fields(context)
    assert notifier.subject == "[superstore] <dag_id> run is late"
    assert notifier.message == "Run <dag_run_id> of <dag_id> is not done by <deadline_time>."


def test_step_tasks_run_their_image_entrypoint(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            step = next(
                (
                    s
                    for s in steps.ALL_STEPS
                    if s.task_id == task.task_id and list(s.arguments) == getattr(task, "arguments", None)
                ),
                None,
            )
            if hasattr(task, "entrypoint"):
                assert step is not None, task.task_id
                assert task.entrypoint == f"superstore-{task.image}" == step.entrypoint
