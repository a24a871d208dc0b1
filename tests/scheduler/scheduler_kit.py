"""The real scheduler for the tests: scripts/airflow.sh started with a port,
home (airflow.cfg, pids, logs) and metadata database of the tests' own, so a
`make ui` a user has open is left alone; the REST client of
scripts/airflow_server.py."""

import importlib.util
import os
import socket
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import boto3
from stack import REPO, connect

AIRFLOW_SH = REPO / "scripts" / "airflow.sh"
# the scheduler tests' own warehouse and Airflow metadata databases
WAREHOUSE_DB = "superstore_scheduler"
METADATA_DB = "superstore_scheduler_airflow"
# the published fact table
FACT = "analytics.fct_sales"
# PIPELINE_INCREMENTAL_DEADLINE_MINUTES of the server: 3 s, far less than an incremental run takes
LATE_AFTER_MINUTES = 0.05


def query(sql: str, *params):
    with connect(WAREHOUSE_DB) as conn:
        return conn.execute(sql, params).fetchall()


def fact_totals() -> tuple:
    """Lines, sales and profit of the published fact table."""
    return query(f"select count(*), sum(sales), sum(profit) from {FACT}")[0]


@contextmanager
def alerts_topic(name: str):
    """An SNS topic with an SQS queue subscribed (raw delivery off: each
    message's body is SNS's JSON envelope, Subject and Message in it)."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    suffix = f"{name}-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=f"alerts-{suffix}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"alerts-{suffix}")["QueueUrl"]
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        yield topic, queue
    finally:
        sqs.delete_queue(QueueUrl=queue)
        sns.delete_topic(TopicArn=topic)


def _client():
    spec = importlib.util.spec_from_file_location("airflow_server", REPO / "scripts" / "airflow_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


airflow_server = _client()
Server = airflow_server.Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, port: int, metadata_db: str, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_PORT": str(port),
        "AIRFLOW_SERVER_HOME": str(home),
        "AIRFLOW_SERVER_DB": metadata_db,
        **settings,
    }


def airflow_sh(command: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(AIRFLOW_SH), command], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def log_tails(home: Path, lines: int = 15) -> str:
    out = []
    for log in sorted((home / "logs").glob("*.log")):
        out.append(f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:]))
    return "\n".join(out)


def session_processes(home: Path) -> list[int]:
    """Processes of the sessions whose leaders' pid files are under home/run."""
    sessions = {int(p.read_text()) for p in (home / "run").glob("*.pid")}
    found = []
    for line in subprocess.run(["ps", "-e", "-o", "pid=,sid="], capture_output=True, text=True).stdout.splitlines():
        pid, sid = map(int, line.split())
        if sid in sessions:
            found.append(pid)
    return found
