"""What both DAGs end with: re-admission params and the verdict task that
fails the run, loudly, when an object was rejected (after the good ones
were published)."""

from airflow.sdk import Param, task
from airflow.sdk.exceptions import AirflowFailException

from superstore_orchestration.events import run_errors

READMIT_PARAMS = {
    "readmit": Param(
        None, type=["null", "string"], description="Load id of a rejected load to admit again (audited anew)."
    ),
    "readmit_reason": Param("", type="string", description="Why the load is admitted again (kept in the ledger)."),
}


def verdict_task():
    @task(task_id="verdict")
    def verdict(ti=None) -> None:
        """Fail the run when any object was rejected or refused."""
        if errors := run_errors(ti.xcom_pull(task_ids="load"), ti.xcom_pull(task_ids="build")):
            ti.xcom_push(key="error", value="; ".join(errors))
            raise AirflowFailException("; ".join(errors))

    return verdict()
