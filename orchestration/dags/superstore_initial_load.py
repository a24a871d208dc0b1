"""Initial load: the source CSV -> S3 -> staging -> dbt star schema (full
refresh) -> staging dropped -> Soda checks. Re-running it rebuilds the
published tables from the source file alone."""

from datetime import datetime

from airflow.sdk import DAG, Param, chain
from superstore_orchestration import config, steps
from superstore_orchestration.factory import step_task

with DAG(
    dag_id="superstore_initial_load",
    description="Superstore CSV -> S3 -> staging -> star schema -> Soda",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # one staging schema per warehouse
    tags=["superstore", "initial"],
    params={
        "source": Param(
            str(config.pipeline().default_source),
            type="string",
            description="The source CSV: a local path (local runner) or an s3:// URI.",
        )
    },
):
    chain(*(step_task(step) for step in steps.INITIAL_LOAD))
