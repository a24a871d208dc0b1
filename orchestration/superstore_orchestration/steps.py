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
    "WAREHOUSE_STAGING_SCHEMA",
    "WAREHOUSE_PUBLISHED_SCHEMA",
    "WAREHOUSE_OPS_SCHEMA",
    "WAREHOUSE_REDSHIFT_IAM_ROLE",
)
# Local stand-ins only (moto): unset on AWS, where the pod's IRSA role is used.
LOCAL_AWS_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
SECRET_ENV = ("WAREHOUSE_PASSWORD",)


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


def _xcom(task_id: str, key: str) -> str:
    return f"ti.xcom_pull(task_ids='{task_id}')['{key}']"


# --- initial load: source file -> S3 -> staging -> star schema -> checks ---
PUT_SOURCE = Step(
    "put_source",
    "loader",
    ("put-source", "--source", "{{ params.source }}"),
    doc="Copy the source CSV to S3 under a content-addressed key.",
)
CREATE_SCHEMAS = Step("create_schemas", "loader", ("create-schemas",), doc="Create staging, published and ops schemas.")
LOAD_INITIAL = Step(
    "load",
    "loader",
    (
        "load",
        "--keys",
        "{{ [" + _xcom("put_source", "key") + "] | tojson }}",
        "--batch-id",
        "initial-{{ " + _xcom("put_source", "sha256") + "[:20] }}",
        "--mode",
        "initial",
    ),
    resources=LARGE,
    doc="Validate the file and COPY it into staging; bad rows reject the whole file.",
)
BUILD_INITIAL = Step(
    "build",
    "dbt",
    ("build", "--mode", "initial"),
    resources=LARGE,
    doc="dbt build --full-refresh: audit the staged rows, then publish the star schema.",
)
DROP_STAGING = Step("drop_staging", "loader", ("drop-staging",), doc="Drop the staging schema.")
SCAN = Step("scan", "soda", ("scan",), doc="Soda checks on the published star schema.")

INITIAL_LOAD = (PUT_SOURCE, CREATE_SCHEMAS, LOAD_INITIAL, BUILD_INITIAL, DROP_STAGING, SCAN)

# --- incremental load: generated batch -> S3 event -> merge -> checks ---
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
    (
        "load",
        "--keys",
        "{{ " + _xcom("take_batch", "keys") + " | tojson }}",
        "--batch-id",
        "{{ " + _xcom("take_batch", "batch_id") + " }}",
        "--mode",
        "incremental",
    ),
    resources=LARGE,
    doc="Validate the batch and COPY it into staging; objects already published are skipped.",
)
BUILD_INCREMENTAL = Step(
    "build",
    "dbt",
    ("build", "--mode", "incremental"),
    resources=LARGE,
    doc="dbt build: audit the batch (write-audit-publish), then merge it into the star schema.",
)

SCAN_INCREMENTAL = Step(
    "scan",
    "soda",
    ("scan", "--batch-id", "{{ " + _xcom("take_batch", "batch_id") + " }}"),
    doc="Soda checks on the published star schema: per-row checks on the rows this batch wrote.",
)

ALL_STEPS = (*INITIAL_LOAD, GENERATE, LOAD_INCREMENTAL, BUILD_INCREMENTAL, SCAN_INCREMENTAL)
