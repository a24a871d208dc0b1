"""Helpers of the report suite: its database and how it populates it."""

import csv
import io
import json
import os
from dataclasses import fields

import boto3
from stack import REPO, connect
from superstore_common.ops import RunRecords, RunResult, StepResult
from superstore_common.record import CheckResult
from superstore_common.settings import WarehouseSettings
from superstore_common.warehouse import connect as warehouse
from superstore_orchestration.local_run import RunRecord, run_dag

REPORT_DB = "superstore_report"
INCREMENTAL = "superstore_incremental_load"
SCREENSHOTS = REPO / "reports" / "screenshots"


def query(sql: str, *params) -> list[tuple]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


def run(dag_id: str, **conf) -> RunRecord:
    return run_dag(dag_id, conf)


def put_csv(key: str, rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    boto3.client("s3").put_object(Bucket=os.environ["RAW_BUCKET"], Key=key, Body=out.getvalue().encode())


def read_csv(key: str) -> list[dict]:
    body = boto3.client("s3").get_object(Bucket=os.environ["RAW_BUCKET"], Key=key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def rerecord(run_id: str, extra: list[CheckResult]) -> None:
    """Record a run again, as it is, with check results added (RunRecords
    replaces a run's record whole)."""
    settings = WarehouseSettings()
    with warehouse(settings, "report-tests") as connection:
        records = RunRecords(connection, settings.ops_schema)
        dag_id, state, run_type, started_at, ended_at, error = connection.fetchone(
            f"select dag_id, state, run_type, started_at, ended_at, error from {records.runs} where run_id = %s",
            [run_id],
        )
        names = [f.name for f in fields(StepResult)]
        have = {
            name
            for (name,) in connection.fetchall(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                [settings.ops_schema, "step_results"],
            )
        }
        names = [name for name in names if name in have]
        steps = [
            StepResult(**dict(zip(names, row, strict=True)))
            for row in connection.fetchall(
                f"select {', '.join(names)} from {records.steps} where run_id = %s", [run_id]
            )
        ]
        checks = [
            CheckResult(check, dataset, status, failing, load_id, json.loads(sample) if sample else [])
            for check, dataset, status, failing, load_id, sample in connection.fetchall(
                f"select check_name, dataset, status, failing_rows, load_id, sample from {records.checks}"
                " where run_id = %s",
                [run_id],
            )
        ]
        records.record(RunResult(dag_id, run_id, state, run_type, started_at, ended_at, error, steps, checks + extra))


def attach_audit_failure(rejected_run: str) -> None:
    """Until the audit (dbt) attaches its failed tests to its step record
    (checks.json), the check that rejected the negative-quantity load,
    recorded with the run that ran it the way record-run records checks:
    the ledger's reason names it, its failing row is the load's real row."""
    rejected, reason = query(
        "select load_id, reason from raw.loads where key = 'incoming/manual/negative-quantity.csv'"
    )[0]
    columns = ("order_id", "order_date", "customer_id", "product_id", "sales", "quantity", "_source_line")
    sample = [
        dict(zip(columns, row, strict=True))
        for row in query(
            f"select {', '.join(columns)} from raw.order_lines where _load_id = %s and quantity <= 0", rejected
        )
    ]
    check = reason.rsplit(": ", 1)[-1]
    rerecord(
        rejected_run,
        [CheckResult(check, "stg_orders", "fail", len(sample), rejected, json.loads(json.dumps(sample, default=str)))],
    )
