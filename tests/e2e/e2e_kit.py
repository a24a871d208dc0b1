"""What the end-to-end tests share: the published schema, queries on the
module's warehouse, runs of a DAG in-process, the lake."""

import csv
import json
import os
from decimal import Decimal
from pathlib import Path

import boto3
from stack import connect, queue_url, source_csv
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


def s3():
    return boto3.client("s3")


def send_raw_message(body: dict | str) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=queue_url(os.environ["EVENTS_QUEUE"]), MessageBody=body if isinstance(body, str) else json.dumps(body)
    )
