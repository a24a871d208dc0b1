"""What both DAGs share: their common arguments (lineage macros, failure
alerts), the re-admission params, the verdict task that fails the run,
loudly, when an object was rejected (after the good ones were published),
and the record teardown that keeps every run in the ops tables."""

from airflow.sdk import Param, task
from airflow.sdk.exceptions import AirflowFailException

from superstore_orchestration import alerts, steps
from superstore_orchestration.events import run_errors
from superstore_orchestration.factory import step_task

READMIT_PARAMS = {
    "readmit": Param(
        None, type=["null", "string"], description="Load id of a rejected load to admit again (audited anew)."
    ),
    "readmit_reason": Param("", type="string", description="Why the load is admitted again (kept in the ledger)."),
}


def _lineage_parent_id(ti) -> str:
    """The OpenLineage run of the Airflow task (the provider's own macro,
    callable whether or not the provider emits in this process)."""
    from airflow.providers.openlineage.plugins.macros import lineage_parent_id

    return lineage_parent_id(ti)


def _lineage_root_parent_id(ti) -> str:
    from airflow.providers.openlineage.plugins.macros import lineage_root_parent_id

    return lineage_root_parent_id(ti)


def dag_arguments() -> dict:
    """Arguments every DAG of the pipeline is declared with."""
    return {
        "user_defined_macros": {
            "lineage_parent_id": _lineage_parent_id,
            "lineage_root_parent_id": _lineage_root_parent_id,
        },
        "on_failure_callback": alerts.on_failure(),
        "catchup": False,
        "max_active_runs": 1,
    }


@task(task_id=steps.VERDICT)
def verdict(load_result: dict | None, build_result: dict | None, ti=None) -> None:
    """Fail the run when any object was rejected or refused."""
    if errors := run_errors(load_result, build_result):
        ti.xcom_push(key="error", value="; ".join(errors))
        raise AirflowFailException("; ".join(errors))


def end_of_run(load, build, *last) -> None:
    """verdict after `last`, then the record teardown: it runs whatever
    happened, and does not change the run's state."""
    judged = verdict(load.output, build.output)
    for upstream in last:
        upstream >> judged
    judged >> step_task(steps.RECORD, trigger_rule="all_done").as_teardown()
