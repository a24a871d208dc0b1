"""End to end on the real local stack: PostgreSQL, moto server over HTTP and
Airflow running the DAGs in-process (dag.test) with the local runner."""

import csv
import json
import os
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from stack import connect, fresh_database, own_lake, queue_url, source_csv
from superstore_orchestration import config
from superstore_orchestration.local_run import RunRecord, run_dag

SHARED_CSV = source_csv()
E2E_DB = "superstore_e2e"
SCHEMA = "analytics"
MARTS = ("dim_customers", "dim_locations", "dim_products", "dim_orders", "dim_dates", "fct_sales")


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
    """A fresh warehouse database, and a bucket and event queues of our own:
    no other test's objects or messages reach these runs."""
    fresh_database(E2E_DB)
    os.environ["WAREHOUSE_DB"] = E2E_DB
    with own_lake("e2e"):
        config.lake.cache_clear()
        yield E2E_DB
    config.lake.cache_clear()


@pytest.fixture(scope="session")
def initial_load(e2e_warehouse) -> RunRecord:
    record = run("superstore_initial_load", source=str(SHARED_CSV))
    assert record.state == "success", record.errors
    return record


def s3():
    return boto3.client("s3")


def send_raw_message(body: dict | str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=queue_url(os.environ["EVENTS_QUEUE"]), MessageBody=body if isinstance(body, str) else json.dumps(body)
    )
