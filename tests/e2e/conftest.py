"""End to end on the real local stack: PostgreSQL, moto server over HTTP and
Airflow running the DAGs in-process (dag.test) with the local runner.

Each test module builds what it needs: a database, bucket and event queues
of its own (module-scoped fixtures) and its own initial load, so modules run
alone, in any order, or in parallel sessions."""

import csv
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from stack import connect, own_database, own_lake, queue_url, source_csv
from superstore_orchestration.local_run import RunRecord, run_dag

SHARED_CSV = source_csv()
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
    return run_dag(dag_id, conf)


@pytest.fixture(scope="module")
def e2e_warehouse(request):
    """A fresh warehouse database, and a bucket and event queues of this
    module's own: no other test's objects, messages or rows reach its runs."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with own_database(f"e2e_{name}") as database, own_lake(f"e2e-{name.replace('_', '-')}"):
        yield database


@dataclass(frozen=True)
class InitialLoad:
    """The module's initial load, and what it left right after it ran."""

    record: RunRecord
    audit_schemas_left: int

    def result(self, task_id: str):
        return self.record.result(task_id)


@pytest.fixture(scope="module")
def initial_load(e2e_warehouse) -> InitialLoad:
    record = run("superstore_initial_load", source=str(SHARED_CSV))
    assert record.state == "success", record.errors
    (audit_schemas,) = query("select count(*) from information_schema.schemata where schema_name like 'staging%%'")[0]
    return InitialLoad(record, audit_schemas)


def s3():
    return boto3.client("s3")


def send_raw_message(body: dict | str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=queue_url(os.environ["EVENTS_QUEUE"]), MessageBody=body if isinstance(body, str) else json.dumps(body)
    )
