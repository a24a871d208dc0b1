"""What a step did, recorded from inside its container, success or failure.

A command fills the current StepRecord (rows, datasets read and written,
artifacts); `superstore_common.step.run` opens it, and when the command ends
writes it to s3://<RAW_BUCKET>/runs/<dag_id>/<run_id>/<task_id>/ (step.json
and the artifacts) and emits its OpenLineage events. The Airflow task a step
runs in is named by Airflow's own AIRFLOW_CTX_* variables; without them (a
command run by hand) nothing is written to S3."""

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("superstore")

RUNS_PREFIX = "runs/"
RECORD_NAME = "step.json"
CHECKS_ARTIFACT = "checks.json"  # a list of CheckResult, written by the quality step


class TaskContext(BaseSettings):
    """The Airflow task instance a step runs for (Airflow's AIRFLOW_CTX_* names)."""

    model_config = SettingsConfigDict(env_prefix="AIRFLOW_CTX_", extra="ignore")

    dag_id: str | None = None
    dag_run_id: str | None = None
    task_id: str | None = None
    try_number: int = 1

    @property
    def known(self) -> bool:
        return bool(self.dag_id and self.dag_run_id and self.task_id)

    def prefix(self) -> str:
        """Where this task's record and artifacts live in the lake."""
        return run_prefix(self.dag_id, self.dag_run_id) + f"{self.task_id}/"


def run_prefix(dag_id: str, run_id: str) -> str:
    return f"{RUNS_PREFIX}{dag_id}/{run_id}/"


@dataclass
class Dataset:
    """A dataset in OpenLineage's naming: s3://bucket + key, or
    postgres://host:port (redshift://...) + database.schema.table."""

    namespace: str
    name: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # (column, type)
    rows: int | None = None


def s3_dataset(bucket: str, key: str, rows: int | None = None) -> Dataset:
    return Dataset(f"s3://{bucket}", key, rows=rows)


def warehouse_dataset(settings, schema: str, table: str, fields=(), rows: int | None = None) -> Dataset:
    """A warehouse table (settings: WarehouseSettings) in OpenLineage's naming."""
    return Dataset(
        f"{settings.kind}://{settings.host}:{settings.port}", f"{settings.db}.{schema}.{table}", list(fields), rows
    )


def table_fields(connection, schema: str, table: str) -> list[tuple[str, str]]:
    """A table's columns and types, for a dataset's schema facet."""
    return connection.fetchall(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )


@dataclass
class CheckResult:
    """One data-quality check's outcome, as the run records keep it (ops.check_results)."""

    check: str  # the check's name as its tool reports it
    dataset: str  # the table checked
    status: Literal["pass", "warn", "fail", "error"]
    failing_rows: int | None = None
    load_id: str | None = None  # the load the check was scoped to, if any
    sample: list[dict[str, Any]] = field(default_factory=list)  # a few failing rows


@dataclass
class StepRecord:
    command: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    state: Literal["running", "success", "failed"] = "running"
    rows: int | None = None  # the step's headline count: rows loaded, built, checked
    rejected_rows: int | None = None  # rows it refused (kept elsewhere with their reason)
    error: str | None = None
    result: dict[str, Any] | None = None
    inputs: list[Dataset] = field(default_factory=list)
    outputs: list[Dataset] = field(default_factory=list)
    artifacts: dict[str, bytes] = field(default_factory=dict, repr=False)
    lineage_run_id: str | None = None  # one OpenLineage run for START and its end event
    # Parts of the step with lineage of their own (name, inputs, outputs), e.g. dbt models.
    parts: list[tuple[str, list[Dataset], list[Dataset]]] = field(default_factory=list)

    def attach(self, name: str, data: bytes | str | dict | list) -> None:
        """Keep a file with the run's record (JSON for dicts and lists)."""
        if isinstance(data, dict | list):
            data = json.dumps(data, default=str, ensure_ascii=False, indent=1)
        self.artifacts[name] = data.encode() if isinstance(data, str) else data

    def finish(self, error: str | None = None) -> None:
        self.ended_at = datetime.now(UTC)
        self.state = "failed" if error else "success"
        self.error = error

    @property
    def seconds(self) -> float | None:
        return (self.ended_at - self.started_at).total_seconds() if self.ended_at else None

    def as_json(self, task: TaskContext) -> dict[str, Any]:
        body = asdict(self)
        body.pop("artifacts")
        body.pop("parts")
        return {
            **body,
            "dag_id": task.dag_id,
            "run_id": task.dag_run_id,
            "task_id": task.task_id,
            "try_number": task.try_number,
            "seconds": self.seconds,
            "artifacts": sorted(self.artifacts),
        }


_current: StepRecord | None = None


def begin(command: str) -> StepRecord:
    global _current
    _current = StepRecord(command)
    return _current


def current() -> StepRecord:
    """The running command's record (a throwaway one outside `step.run`)."""
    return _current if _current is not None else begin("unknown")


def save(record: StepRecord, task: TaskContext | None = None) -> str | None:
    """Write the record and its artifacts to the lake; returns the prefix URI.
    A failure to record is logged, never raised: it must not mask the step's
    own outcome (the run's record step reports a missing record)."""
    task = task or TaskContext()
    if not task.known:
        return None
    from superstore_common.s3 import s3_client
    from superstore_common.settings import LakeSettings

    bucket, prefix = LakeSettings().raw_bucket, task.prefix()
    try:
        s3 = s3_client()
        for name, data in record.artifacts.items():
            s3.put_object(Bucket=bucket, Key=prefix + name, Body=data)
        body = json.dumps(record.as_json(task), default=str, ensure_ascii=False, indent=1)
        s3.put_object(Bucket=bucket, Key=prefix + RECORD_NAME, Body=body.encode(), ContentType="application/json")
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("could not record the step in s3://%s/%s: %s", bucket, prefix, exc)
        return None
    return f"s3://{bucket}/{prefix}"
