"""The run records in the warehouse (`<ops>.runs`, `<ops>.step_results`,
`<ops>.check_results`), owned by this module and written by one step only
(`superstore-loader record-run`, every DAG's teardown): from the step records
the steps left in the lake and the Airflow states of the run's tasks. A run
is recorded in one transaction and recording it again replaces it, so a
retried teardown never duplicates a run. Load state stays in the ledger
(superstore_common.loads); these tables say what each run did."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from superstore_common.record import CheckResult
from superstore_common.warehouse import Connection, quote_ident

TEXT_MAX = 4000  # errors and samples are cut to this many characters
# Airflow states a task ends in that mean it did not run.
NOT_RUN = ("skipped", "upstream_failed", "removed", "not run")


@dataclass
class StepResult:
    task_id: str
    state: str  # the Airflow task state: success, failed, skipped, upstream_failed, ... ; "not run" when none
    try_number: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    seconds: float | None = None
    rows: int | None = None
    rejected_rows: int | None = None
    error: str | None = None
    artifacts_uri: str | None = None  # s3://.../runs/<dag>/<run>/<task>/ when the step left a record


@dataclass
class RunResult:
    dag_id: str
    run_id: str
    state: str  # success | failed
    run_type: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:TEXT_MAX]


# Each table's columns (name, type) in table order, declared once: the DDL
# and the inserts come from them. Every table starts with its run's key; runs
# and steps say when they ran alike.
_KEY = (("dag_id", "varchar(250) not null"), ("run_id", "varchar(250) not null"))
_TIMING = (("started_at", "timestamp"), ("ended_at", "timestamp"), ("seconds", "double precision"))
_ERROR = ("error", f"varchar({TEXT_MAX})")
RUN_COLUMNS = (*_KEY, ("state", "varchar(32) not null"), ("run_type", "varchar(32)"), *_TIMING, _ERROR)
STEP_COLUMNS = (
    *_KEY, ("task_id", "varchar(250) not null"), ("state", "varchar(32) not null"), ("try_number", "integer"),
    *_TIMING, ("rows", "bigint"), ("rejected_rows", "bigint"), _ERROR, ("artifacts_uri", "varchar(2048)"),
)  # fmt: skip
CHECK_COLUMNS = (
    *_KEY, ("check_name", "varchar(1024) not null"), ("dataset", "varchar(250) not null"),
    ("status", "varchar(16) not null"), ("failing_rows", "bigint"), ("load_id", "varchar(32)"),
    ("sample", f"varchar({TEXT_MAX})"),
)  # fmt: skip


def _names(columns: Sequence[tuple[str, str]]) -> list[str]:
    return [name for name, _ in columns]


def _create_table(table: str, columns: Sequence[tuple[str, str]], *constraints: str) -> str:
    definitions = [f"{name} {sql_type}" for name, sql_type in columns] + list(constraints)
    return f"create table if not exists {table} (\n  " + ",\n  ".join(definitions) + "\n)"


class RunRecords:
    def __init__(self, connection: Connection, schema: str):
        self.connection = connection
        self.runs = f"{quote_ident(schema)}.runs"
        self.steps = f"{quote_ident(schema)}.step_results"
        self.checks = f"{quote_ident(schema)}.check_results"

    def ddl(self) -> list[str]:
        now = self.connection.dialect.now
        return [
            _create_table(
                self.runs, RUN_COLUMNS, f"recorded_at timestamp not null default {now}", "primary key (dag_id, run_id)"
            ),
            _create_table(self.steps, STEP_COLUMNS, "primary key (dag_id, run_id, task_id)"),
            _create_table(self.checks, CHECK_COLUMNS),
        ]

    def record(self, run: RunResult) -> None:
        """Replace the run's record, all of it in one transaction."""
        key = (run.dag_id, run.run_id)
        with self.connection.transaction():
            for table in (self.checks, self.steps, self.runs):
                self.connection.execute(f"delete from {table} where dag_id = %s and run_id = %s", key)
            self._insert(
                self.runs, RUN_COLUMNS,
                (*key, run.state, run.run_type, run.started_at, run.ended_at, run.seconds, _cut(run.error)),
            )  # fmt: skip
            for s in run.steps:
                self._insert(
                    self.steps, STEP_COLUMNS,
                    (*key, s.task_id, s.state, s.try_number, s.started_at, s.ended_at, s.seconds, s.rows,
                     s.rejected_rows, _cut(s.error), s.artifacts_uri),
                )  # fmt: skip
            for c in run.checks:
                self._insert(
                    self.checks, CHECK_COLUMNS,
                    (*key, c.check[:1024], c.dataset, c.status, c.failing_rows, c.load_id, _sample(c.sample)),
                )  # fmt: skip

    def _insert(self, table: str, columns: Sequence[tuple[str, str]], values: Sequence) -> None:
        names = _names(columns)
        self.connection.execute(
            f"insert into {table} ({', '.join(names)}) values ({', '.join(['%s'] * len(names))})", values
        )

    def last_run(self, dag_id: str | None = None) -> dict[str, Any] | None:
        """The latest recorded run (of one DAG, or any), with its steps and checks."""
        where, params = ("where dag_id = %s", (dag_id,)) if dag_id else ("", ())
        row = self.connection.fetchone(
            f"select dag_id, run_id from {self.runs} {where} order by recorded_at desc limit 1", params
        )
        return self.run(*row) if row else None

    def run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        """A recorded run, with its steps and checks."""
        runs = self._select(self.runs, _names(RUN_COLUMNS), (dag_id, run_id))
        if not runs:
            return None
        run = runs[0]
        key = (run["dag_id"], run["run_id"])
        step_columns = (
            "task_id", "state", "try_number", "started_at", "ended_at", "seconds", "rows", "rejected_rows", "error"
        )  # fmt: skip
        run["steps"] = self._select(self.steps, step_columns, key, " order by started_at nulls last, task_id")
        check_columns = ("check_name", "dataset", "status", "failing_rows", "load_id")
        run["checks"] = self._select(self.checks, check_columns, key, " order by dataset, check_name")
        return run

    def _select(
        self, table: str, columns: Sequence[str], key: tuple[str, str], order_by: str = ""
    ) -> list[dict[str, Any]]:
        """A run's rows of `table` as {column: value}."""
        rows = self.connection.fetchall(
            f"select {', '.join(columns)} from {table} where dag_id = %s and run_id = %s{order_by}", key
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]


def _sample(rows: Sequence[Mapping[str, Any]]) -> str | None:
    if not rows:
        return None
    text = json.dumps(list(rows), default=str, ensure_ascii=False)
    while len(text) > TEXT_MAX and len(rows) > 1:  # fewer rows, never a cut JSON document
        rows = rows[: len(rows) // 2]
        text = json.dumps(list(rows), default=str, ensure_ascii=False)
    return text if len(text) <= TEXT_MAX else None
