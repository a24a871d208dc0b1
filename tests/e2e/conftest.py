"""End to end on the real local stack: PostgreSQL, moto server over HTTP and
Airflow running the DAGs in-process (dag.test) with the local runner."""

import csv
import json
import os
from decimal import Decimal
from pathlib import Path

import boto3
import psycopg
import pytest

from superstore_orchestration import config
from superstore_orchestration.local_run import RunRecord, run_dag

SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "superstore-kaggle.csv"
E2E_DB = "superstore_e2e"
SCHEMA = "analytics"
MARTS = ("dim_customers", "dim_products", "dim_orders", "dim_dates", "fct_sales")


def connect(db: str | None = None) -> psycopg.Connection:
    env = os.environ
    return psycopg.connect(
        host=env["WAREHOUSE_HOST"],
        port=env["WAREHOUSE_PORT"],
        dbname=db or env["WAREHOUSE_DB"],
        user=env["WAREHOUSE_USER"],
        password=env["WAREHOUSE_PASSWORD"],
        autocommit=True,
    )


def query(sql: str, *params):
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


def fact_state() -> dict:
    """Row counts and order-independent checksums of every published table."""
    state = {}
    for table in MARTS:
        state[table] = query(
            f"select count(*), md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) "
            f"from (select * from {SCHEMA}.{table}) t"
        )[0]
    state["sums"] = query(f"select sum(sales), sum(profit) from {SCHEMA}.fct_sales")[0]
    return state


def csv_sums(path: Path, encoding: str = "utf-8") -> tuple[int, Decimal, Decimal]:
    with path.open(encoding=encoding, newline="") as f:
        rows = list(csv.DictReader(f))
    return len(rows), sum(Decimal(r["Sales"]) for r in rows), sum(Decimal(r["Profit"]) for r in rows)


def run(dag_id: str, **conf) -> RunRecord:
    config.pipeline.cache_clear()  # settings a test changed apply to this run
    return run_dag(dag_id, conf)


@pytest.fixture(scope="session")
def e2e_warehouse():
    """A fresh warehouse database and an empty event queue for this session."""
    with connect() as conn:  # the stack's own database, to create the test one
        conn.execute(f"drop database if exists {E2E_DB} with (force)")
        conn.execute(f"create database {E2E_DB}")
    os.environ["WAREHOUSE_DB"] = E2E_DB
    sqs = boto3.client("sqs")
    for name in (os.environ["EVENTS_QUEUE"], os.environ["EVENTS_DLQ"]):
        sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    yield E2E_DB


@pytest.fixture(scope="session")
def initial_load(e2e_warehouse) -> RunRecord:
    record = run("superstore_initial_load", source=str(SHARED_CSV))
    assert record.state == "success", record.errors
    return record


def s3():
    return boto3.client("s3")


def queue_depth(queue_name: str) -> int:
    """Messages on the queue, visible or in flight."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def send_raw_message(body: dict | str) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["EVENTS_QUEUE"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body if isinstance(body, str) else json.dumps(body))
