"""`record-run`: one DAG run's record in the ops tables, from the step
records its steps left in the lake (superstore_common.record) and the
Airflow states of its tasks. Run by every DAG's teardown task, success or
failure; recording a run again replaces it."""

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from superstore_common.ops import NOT_RUN, RunRecords, RunResult, StepResult
from superstore_common.record import CHECKS_ARTIFACT, RECORD_NAME, CheckResult, run_prefix
from superstore_common.warehouse import Connection, quote_ident

FAILED = ("failed", "upstream_failed")


def _read_json(s3, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def step_records(s3, bucket: str, dag_id: str, run_id: str) -> tuple[dict[str, dict], list[CheckResult]]:
    """The run's step records by task id, and the check results its steps attached."""
    prefix = run_prefix(dag_id, run_id)
    records, checks = {}, []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            task_id, _, name = item["Key"].removeprefix(prefix).partition("/")
            if name == RECORD_NAME:
                records[task_id] = _read_json(s3, bucket, item["Key"])
            elif name == CHECKS_ARTIFACT:
                checks += [CheckResult(**check) for check in _read_json(s3, bucket, item["Key"])]
    return records, checks


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def run_result(
    dag_id: str,
    run_id: str,
    tasks: Sequence[Mapping[str, Any]],
    records: Mapping[str, dict],
    checks: list[CheckResult],
    *,
    bucket: str,
    errors: Mapping[str, str] | None = None,
    run_type: str | None = None,
    started_at: datetime | None = None,
) -> RunResult:
    """`tasks`: Airflow's breadcrumbs of the run (task_id, state, duration);
    `errors`: the one-line errors of tasks that leave no step record."""
    errors = errors or {}
    steps = []
    for task in sorted(tasks, key=lambda t: t["task_id"]):
        record = records.get(task["task_id"], {})
        state = task.get("state") or "not run"
        steps.append(
            StepResult(
                task_id=task["task_id"],
                state=state,
                try_number=record.get("try_number"),
                started_at=_time(record.get("started_at")),
                ended_at=_time(record.get("ended_at")),
                # a task that never ran took no time, whatever Airflow's bookkeeping says
                seconds=None if state in NOT_RUN else record.get("seconds", task.get("duration")),
                rows=record.get("rows"),
                rejected_rows=record.get("rejected_rows"),
                error=record.get("error") or errors.get(task["task_id"]),
                artifacts_uri=f"s3://{bucket}/{run_prefix(dag_id, run_id)}{task['task_id']}/" if record else None,
            )
        )
    failed = [s for s in steps if s.state in FAILED]
    errors = [f"{s.task_id}: {s.error}" for s in failed if s.error]
    return RunResult(
        dag_id=dag_id,
        run_id=run_id,
        state="failed" if failed else "success",
        run_type=run_type,
        started_at=started_at,
        ended_at=datetime.now(UTC),
        error="; ".join(errors) or (f"{failed[0].task_id} {failed[0].state}" if failed else None),
        steps=steps,
        checks=checks,
    )


def record_run(connection: Connection, ops_schema: str, run: RunResult) -> dict[str, Any]:
    records = RunRecords(connection, ops_schema)
    with connection.transaction():  # a run that failed before create-schemas is recorded too
        for statement in (f"create schema if not exists {quote_ident(ops_schema)}", *records.ddl()):
            connection.execute(statement)
    records.record(run)
    return {
        "dag_id": run.dag_id,
        "run_id": run.run_id,
        "state": run.state,
        "steps": len(run.steps),
        "checks": len(run.checks),
    }
