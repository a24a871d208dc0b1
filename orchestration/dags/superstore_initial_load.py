"""Initial load: the source CSV -> S3 -> the raw layer (one load) -> dbt
rebuilds every mart from the whole raw history and audits it -> published in
one transaction -> audit schema dropped -> Soda checks. Re-running it with
the same file changes nothing; after a model fix it rebuilds the marts."""

from datetime import datetime

from airflow.sdk import DAG, Param, chain, task
from airflow.sdk.exceptions import AirflowFailException
from superstore_orchestration import config, steps
from superstore_orchestration.events import run_errors
from superstore_orchestration.factory import step_task

with DAG(
    dag_id="superstore_initial_load",
    description="Superstore CSV -> S3 -> raw -> audit -> publish the star schema -> Soda",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["superstore", "initial"],
    params={
        "source": Param(
            str(config.pipeline().default_source),
            type="string",
            description="The source CSV: a local path (local runner) or an s3:// URI.",
        ),
        "readmit": Param(
            None, type=["null", "string"], description="Load id of a rejected load to admit again (audited anew)."
        ),
        "readmit_reason": Param("", type="string", description="Why the load is admitted again (kept in the ledger)."),
    },
):

    @task
    def verdict(ti=None) -> None:
        """Fail the run, loudly, when the file was rejected by a check."""
        if errors := run_errors(ti.xcom_pull(task_ids="load"), ti.xcom_pull(task_ids="build")):
            ti.xcom_push(key="error", value="; ".join(errors))
            raise AirflowFailException("; ".join(errors))

    chain(*(step_task(step) for step in steps.INITIAL_LOAD), verdict())
