"""Initial load: the source CSV -> S3 -> the raw layer (one load) -> dbt
rebuilds every mart from the whole raw history and audits it -> published in
one transaction -> audit schema dropped -> Soda checks -> the run recorded.
Re-running it with the same file changes nothing; after a model fix it
rebuilds the marts."""

from datetime import datetime

from airflow.sdk import DAG, Param, chain
from superstore_orchestration import config, steps
from superstore_orchestration.dag_parts import READMIT_PARAMS, dag_arguments, end_of_run
from superstore_orchestration.factory import step_task

with DAG(
    dag_id="superstore_initial_load",
    description="Superstore CSV -> S3 -> raw -> audit -> publish the star schema -> Soda",
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2024, 1, 1),
    tags=["superstore", "initial"],
    params={
        "source": Param(
            config.pipeline().default_source,
            type="string",
            description="The source CSV: a local path (local runner) or an s3:// URI.",
        ),
        **READMIT_PARAMS,
    },
    **dag_arguments(),
):
    put_source, create_schemas, load, build, drop_staging, scan = (step_task(s) for s in steps.INITIAL_LOAD)
    chain(put_source, create_schemas, load, build, drop_staging, scan)
    end_of_run(load, build, scan)
