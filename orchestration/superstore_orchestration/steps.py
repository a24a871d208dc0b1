"""The pipeline's steps, declared once. Every runner (local, docker,
kubernetes) and the image-level tests derive what they run from these
definitions, so the image, its arguments and its environment cannot drift.

Arguments may be Jinja templates; Airflow renders them at run time (they are
template fields of every runner's operator)."""

from dataclasses import dataclass
from typing import Literal

Image = Literal["generator", "loader", "dbt", "soda"]

# Settings every step reads. On Kubernetes they come from the chart's ConfigMap
# (CONFIG_ENV) and the warehouse Secret (SECRET_ENV); locally from scripts/env.sh.
CONFIG_ENV = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "RAW_BUCKET",
    "INCOMING_PREFIX",
    "WAREHOUSE_KIND",
    "WAREHOUSE_HOST",
    "WAREHOUSE_PORT",
    "WAREHOUSE_DB",
    "WAREHOUSE_USER",
    "WAREHOUSE_RAW_SCHEMA",
    "WAREHOUSE_STAGING_SCHEMA",
    "WAREHOUSE_PUBLISHED_SCHEMA",
    "WAREHOUSE_OPS_SCHEMA",
    "WAREHOUSE_REDSHIFT_IAM_ROLE",
)
# Local stand-ins only (moto): unset on AWS, where the pod's IRSA role is used.
LOCAL_AWS_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
SECRET_ENV = ("WAREHOUSE_PASSWORD", "OPENLINEAGE_API_KEY")
# The OpenLineage client's own settings (superstore_common.lineage), passed on
# as they are, and every variable of these families: the lineage transport's
# and the quality thresholds (images/soda/README.md).
LINEAGE_ENV = ("OPENLINEAGE_URL", "OPENLINEAGE_ENDPOINT", "OPENLINEAGE_NAMESPACE", "OPENLINEAGE_DISABLED")
CONFIG_ENV_PREFIXES = ("OPENLINEAGE__TRANSPORT__", "QUALITY_")
# Per task instance, rendered by Airflow for every runner: which task a step
# records itself under (superstore_common.record) and its lineage parent.
TASK_ENV = {
    "AIRFLOW_CTX_DAG_ID": "{{ dag.dag_id }}",
    "AIRFLOW_CTX_DAG_RUN_ID": "{{ run_id }}",
    "AIRFLOW_CTX_TASK_ID": "{{ task.task_id }}",
    "AIRFLOW_CTX_TRY_NUMBER": "{{ ti.try_number }}",
    "OPENLINEAGE_PARENT_ID": "{{ lineage_parent_id(ti) }}",
    "OPENLINEAGE_ROOT_PARENT_ID": "{{ lineage_root_parent_id(ti) }}",
}


@dataclass(frozen=True)
class Resources:
    cpu: str
    memory: str


SMALL = Resources(cpu="250m", memory="256Mi")
LARGE = Resources(cpu="1", memory="1Gi")


@dataclass(frozen=True)
class Step:
    task_id: str
    image: Image
    arguments: tuple[str, ...]
    resources: Resources = SMALL
    doc: str = ""

    @property
    def entrypoint(self) -> str:
        return f"superstore-{self.image}"


# Tasks of the incremental DAG that are not steps (superstore_orchestration.sqs).
WAIT_FOR_BATCH = "wait_for_batch"
TAKE_BATCH = "take_batch"
VERDICT = "verdict"  # both DAGs: fails the run when an object was rejected (dag_parts)


def _xcom(upstream: "Step | str", key: str) -> str:
    """An upstream task's result field, as a template expression."""
    task_id = upstream if isinstance(upstream, str) else upstream.task_id
    return f"ti.xcom_pull(task_ids='{task_id}')['{key}']"


def _json(upstream: "Step | str", key: str) -> str:
    return "{{ " + _xcom(upstream, key) + " | tojson }}"


# A rejected load admitted again on purpose (DAG params readmit, readmit_reason;
# the ledger keeps who, when and why). Empty when the param is not set.
READMIT = (
    "--readmit={{ params.readmit or '' }}",
    "--why={{ params.readmit_reason }}",
    "--by={{ dag_run.triggering_user_name or 'airflow' }}",
)
RUN_ID = ("--run-id", "{{ run_id }}")

# --- initial load: source file -> S3 -> raw -> audit -> publish -> checks ---
PUT_SOURCE = Step(
    "put_source",
    "loader",
    ("put-source", "--source", "{{ params.source }}"),
    doc="Copy the source CSV to S3 under a content-addressed key.",
)
CREATE_SCHEMAS = Step("create_schemas", "loader", ("create-schemas",), doc="Create the raw, published and ops schemas.")
LOAD_INITIAL = Step(
    "load",
    "loader",
    (
        "load",
        "--objects",
        "{{ [{'bucket': "
        + _xcom(PUT_SOURCE, "bucket")
        + ", 'key': "
        + _xcom(PUT_SOURCE, "key")
        + ", 'etag': "
        + _xcom(PUT_SOURCE, "etag")
        + "}] | tojson }}",
        *READMIT,
    ),  # fmt: skip
    resources=LARGE,
    doc="Validate the file and append its rows to the raw layer (one load); a bad row rejects the file.",
)
BUILD_INITIAL = Step(
    "build",
    "dbt",
    ("build", "--mode", "initial", "--load-ids", _json(LOAD_INITIAL, "load_ids"), *RUN_ID),
    resources=LARGE,
    doc="Rebuild every mart from the raw history: audit all of it, then publish in one transaction.",
)
DROP_STAGING = Step("drop_staging", "loader", ("drop-staging", *RUN_ID), doc="Drop the run's audit schema.")
SCAN = Step("scan", "soda", ("scan",), doc="Soda checks on the published star schema.")

INITIAL_LOAD = (PUT_SOURCE, CREATE_SCHEMAS, LOAD_INITIAL, BUILD_INITIAL, DROP_STAGING, SCAN)

# --- incremental load: generated batch -> S3 event -> audit -> publish -> checks ---
GENERATE = Step(
    "generate",
    "generator",
    (
        "generate",
        "--rows",
        "{{ params.rows }}",
        "--seed",
        "{{ params.seed if params.seed is not none else dag_run.run_after.strftime('%Y%m%d%H%M%S') }}",
        "--as-of",
        "{{ params.as_of or dag_run.run_after.strftime('%Y-%m-%d') }}",
    ),
    resources=LARGE,
    doc="Write a batch of realistic new orders to S3 (its ObjectCreated event goes to SQS).",
)
LOAD_INCREMENTAL = Step(
    "load",
    "loader",
    ("load", "--objects", _json(TAKE_BATCH, "objects"), *READMIT),
    resources=LARGE,
    doc="Validate each announced object version and append it to the raw layer; published ones are skipped.",
)
BUILD_INCREMENTAL = Step(
    "build",
    "dbt",
    ("build", "--mode", "incremental", "--load-ids", _json(LOAD_INCREMENTAL, "load_ids"), *RUN_ID),
    resources=LARGE,
    doc="Audit the candidate loads (each bad one rejected alone), then publish the rest in one transaction.",
)

SCAN_INCREMENTAL = Step(
    "scan",
    "soda",
    ("scan", "--load-ids", _json(BUILD_INCREMENTAL, "published")),
    doc="Soda checks on the published star schema: per-row checks on the rows this run published.",
)

# --- every DAG's teardown: the run, success or failure, in the ops tables ---
RECORD = Step(
    "record",
    "loader",
    (
        "record-run",
        *("--dag-id", "{{ dag.dag_id }}"),
        *("--run-id", "{{ run_id }}"),
        *("--run-type", "{{ dag_run.run_type }}"),
        *("--started-at", "{{ dag_run.start_date.isoformat() if dag_run.start_date else '' }}"),
        *("--tasks", "{{ ti.get_task_breadcrumbs(dag.dag_id, run_id) | list | tojson }}"),
        *("--errors", "{{ {'" + VERDICT + "': ti.xcom_pull(task_ids='" + VERDICT + "', key='error')} | tojson }}"),
    ),
    doc="Record the run (state, steps, check results) in the ops tables from its steps' records in the lake.",
)

ALL_STEPS = (*INITIAL_LOAD, GENERATE, LOAD_INCREMENTAL, BUILD_INCREMENTAL, SCAN_INCREMENTAL, RECORD)
