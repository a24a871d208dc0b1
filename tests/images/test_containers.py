"""Image-level integration: the four images, built with podman, each run with
exactly the arguments and environment the kubernetes runner gives its pod
(both derived from steps.py), on the host network against the local stack.
Then both DAGs end to end with the docker runner against podman's
Docker-compatible API."""

import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import boto3
import jinja2
import pytest
from stack import connect, own_database, own_lake, source_csv
from superstore_common.record import RECORD_NAME, run_prefix
from superstore_orchestration import steps
from superstore_orchestration.events import parse_messages
from superstore_orchestration.local_run import run_dag

REPO = Path(__file__).resolve().parents[2]
SOURCE_CSV = source_csv()
SOURCE_ROWS = sum(1 for _ in SOURCE_CSV.open(encoding="utf-8")) - 1  # no line breaks inside its fields
LANDING_KEY = "landing/superstore.csv"
ENGINE_ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "scripts" / "containers.conf")}
pytestmark = pytest.mark.timeout(1800)


def podman(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args], env=kwargs.pop("env", ENGINE_ENV), text=True, capture_output=True, **kwargs
    )


@pytest.fixture(scope="module")
def images():
    step_images = sorted({step.image for step in steps.ALL_STEPS})  # not the Airflow image: dag.test runs here
    subprocess.run(["bash", "scripts/images.sh", "build", *step_images], cwd=REPO, check=True, env=ENGINE_ENV)
    return {image: f"superstore/{image}:dev" for image in ("generator", "loader", "dbt", "soda")}


@pytest.fixture
def warehouse(request):
    """A database, bucket and event queues of this test's own: the other
    test's messages (received, never deleted) and rows never reach it."""
    name = request.node.name.removeprefix("test_")[:30]
    with own_database(f"images_{name}") as database, own_lake(f"images-{name.replace('_', '-')}"):
        boto3.client("s3").upload_file(str(SOURCE_CSV), os.environ["RAW_BUCKET"], LANDING_KEY)
        yield database


RUN_ID = "manual__images"


def render(step: steps.Step, results: dict, params: dict) -> list[str]:
    """The step's arguments as Airflow renders them for a run."""
    ti = SimpleNamespace(xcom_pull=lambda task_ids: results[task_ids])
    context = {
        "ti": ti,
        "params": SimpleNamespace(**{"readmit": None, "readmit_reason": "", **params}),
        "run_id": RUN_ID,
        "dag_run": SimpleNamespace(run_after=datetime(2024, 3, 1, tzinfo=UTC), triggering_user_name="tester"),
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return [env.from_string(arg).render(**context) for arg in step.arguments]


def run_step(image: str, step: steps.Step, arguments: list[str], tmp_path: Path) -> dict:
    """podman run as the pod would: read-only root, /tmp and /airflow/xcom writable,
    settings by name from the environment (no value on the command line)."""
    xcom = tmp_path / f"{len(list(tmp_path.iterdir()))}-{step.task_id}"
    xcom.mkdir()
    env_names = steps.CONFIG_ENV + steps.SECRET_ENV + steps.LOCAL_AWS_ENV
    command = [
        "run",
        "--rm",
        "--network",
        "host",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-v",
        f"{xcom}:/airflow/xcom:U",
        "--user",
        "10001",
    ]
    for name in env_names:
        if name in os.environ:
            command += ["--env", name]
    result = podman(*command, image, *arguments, env={**ENGINE_ENV, **os.environ})
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.environ["WAREHOUSE_PASSWORD"] not in result.stdout + result.stderr
    return json.loads((xcom / "return.json").read_text())


def test_each_image_accepts_what_the_kubernetes_runner_sends(images, warehouse, tmp_path):
    results: dict[str, dict] = {}
    source = f"s3://{os.environ['RAW_BUCKET']}/{LANDING_KEY}"
    for step in steps.INITIAL_LOAD:
        results[step.task_id] = run_step(images[step.image], step, render(step, results, {"source": source}), tmp_path)

    assert results["put_source"]["key"].startswith("raw/initial/")
    assert results["load"]["loaded_rows"] == SOURCE_ROWS and results["load"]["rejected_rows"] == 0
    assert results["build"]["rejected"] == [] and results["build"]["published"] == results["load"]["load_ids"]
    assert results["build"]["tables"]["analytics.fct_sales"] == SOURCE_ROWS
    assert results["scan"]["failed"] == 0
    with connect() as conn:
        assert conn.execute("select count(*) from analytics.fct_sales").fetchone()[0] == SOURCE_ROWS
        audit_schemas = conn.execute(
            "select count(*) from information_schema.schemata where schema_name like 'staging%%'"
        ).fetchone()[0]
        assert audit_schemas == 0  # drop_staging dropped the run's audit schema

    params = {"rows": 300, "seed": 5, "as_of": "2024-03-01"}
    results["generate"] = generated = run_step(
        images["generator"], steps.GENERATE, render(steps.GENERATE, results, params), tmp_path
    )
    head = boto3.client("s3").head_object(Bucket=generated["bucket"], Key=generated["key"])
    assert head["ContentLength"] > 0
    messages = boto3.client("sqs").receive_message(
        QueueUrl=os.environ["PIPELINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=2
    )["Messages"]
    batch = parse_messages(messages, os.environ["RAW_BUCKET"], os.environ["INCOMING_PREFIX"])
    assert batch.keys == [generated["key"]]
    results["take_batch"] = batch.as_xcom()
    for step in (
        steps.CREATE_SCHEMAS,
        steps.LOAD_INCREMENTAL,
        steps.BUILD_INCREMENTAL,
        steps.DROP_STAGING,
        steps.SCAN_INCREMENTAL,
    ):
        results[step.task_id] = run_step(images[step.image], step, render(step, results, params), tmp_path)
    assert results["load"]["loaded_rows"] == 300 and results["scan"]["failed"] == 0
    assert results["build"]["published"] == [generated["load_id"]]  # one load id, generator to ledger
    with connect() as conn:
        assert conn.execute("select count(*) from analytics.fct_sales").fetchone()[0] == SOURCE_ROWS + 300


@pytest.fixture(scope="module")
def podman_api(tmp_path_factory):
    socket = tmp_path_factory.mktemp("podman") / "podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket}"], env=ENGINE_ENV)
    for _ in range(100):
        if socket.exists():
            break
        time.sleep(0.1)
    yield f"unix://{socket}"
    service.terminate()
    service.wait(10)


def test_both_dags_with_the_docker_runner(images, warehouse, podman_api, monkeypatch):
    monkeypatch.setenv("PIPELINE_RUNNER", "docker")
    monkeypatch.setenv("PIPELINE_DOCKER_URL", podman_api)
    source = f"s3://{os.environ['RAW_BUCKET']}/{LANDING_KEY}"
    initial = run_dag("superstore_initial_load", {"source": source})
    assert initial.state == "success", initial.errors
    assert initial.result("load")["loaded_rows"] == SOURCE_ROWS  # the XCom came out of the container
    incremental = run_dag("superstore_incremental_load", {"rows": 200, "seed": 11, "as_of": "2024-03-02"})
    assert incremental.state == "success", incremental.errors
    assert incremental.result("load")["loaded_rows"] == 200
    with connect() as conn:
        assert conn.execute("select count(*) from analytics.fct_sales").fetchone()[0] == SOURCE_ROWS + 200
        # every run recorded from inside the containers: the steps' records in the lake, the run in ops.runs
        recorded = dict(conn.execute("select run_id, state from ops.runs").fetchall())
    assert recorded == {initial.run_id: "success", incremental.run_id: "success"}
    listing = boto3.client("s3").list_objects_v2(
        Bucket=os.environ["RAW_BUCKET"], Prefix=run_prefix(initial.dag_id, initial.run_id)
    )
    assert {f"{step.task_id}/{RECORD_NAME}" for step in steps.INITIAL_LOAD} <= {
        o["Key"].removeprefix(run_prefix(initial.dag_id, initial.run_id)) for o in listing["Contents"]
    }
