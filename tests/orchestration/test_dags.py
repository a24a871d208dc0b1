"""DAG integrity: the DAG files import, have the expected shape, and every
step task runs the entrypoint of the image its step declares."""

from itertools import pairwise

import pytest
from airflow.dag_processing.dagbag import DagBag
from superstore_orchestration import steps
from superstore_orchestration.local_run import DAGS_FOLDER


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(str(DAGS_FOLDER))


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"superstore_initial_load", "superstore_incremental_load"}


def test_initial_load_is_the_chain_of_its_steps(dagbag):
    dag = dagbag.get_dag("superstore_initial_load")
    order = [*(s.task_id for s in steps.INITIAL_LOAD), "verdict"]
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
    assert dag.get_task("take_batch").downstream_task_ids == {"create_schemas"}
    assert dag.get_task("build").downstream_task_ids == {"ack", "drop_staging"}
    assert dag.get_task("drop_staging").downstream_task_ids == {"scan"}
    # the run fails at the end, after the good loads are published and acked
    assert dag.get_task("verdict").upstream_task_ids == {"ack", "scan"}
    assert dag.get_task("verdict").downstream_task_ids == set()


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
