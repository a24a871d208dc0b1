"""Run a DAG in-process (`dag.test()`) and collect what each task did: state,
seconds and XCom result. Used by the demo and the end-to-end tests."""

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow.dag_processing.dagbag import DagBag
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

from superstore_orchestration.config import REPO_ROOT

DAGS_FOLDER = REPO_ROOT / "orchestration" / "dags"


@dataclass
class TaskRecord:
    task_id: str
    state: str
    seconds: float
    result: Any = None


@dataclass
class RunRecord:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the failed tasks' one-line errors

    def result(self, task_id: str) -> Any:
        task = self.tasks.get(task_id)
        return task.result if task else None


class _Progress(logging.Handler):
    """Forwards dag.test()'s task start/end lines to a callback."""

    def __init__(self, on_progress: Callable[[str, str], None]):
        super().__init__()
        self.on_progress = on_progress

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for marker, event in (("[DAG TEST] starting task_id=", "start"), ("[DAG TEST] end task task_id=", "end")):
            if message.startswith(marker):
                self.on_progress(event, message[len(marker) :].split()[0])


def run_dag(dag_id: str, conf: dict | None = None, on_progress: Callable[[str, str], None] | None = None) -> RunRecord:
    dag = DagBag(str(DAGS_FOLDER)).get_dag(dag_id)
    if dag is None:
        raise LookupError(f"DAG {dag_id} not found in {DAGS_FOLDER}")
    # Deadline Alerts are the scheduler's to evaluate; dag.test() of Airflow 3.3
    # fails on them (it looks the serialized alerts up as ids).
    dag.deadline = None
    logger = logging.getLogger("airflow.sdk.definitions.dag")
    handler = _Progress(on_progress) if on_progress else None
    if handler:
        logger.addHandler(handler)
    try:
        dag_run = dag.test(run_conf=conf or {})
    finally:
        if handler:
            logger.removeHandler(handler)
    record = RunRecord(dag_id, dag_run.run_id, str(dag_run.state))
    with create_session() as session:

        def xcom(task_id: str, key: str) -> Any:
            row = session.scalars(
                XComModel.get_many(run_id=dag_run.run_id, dag_ids=[dag_id], task_ids=[task_id], key=key)
            ).first()
            return XComModel.deserialize_value(row) if row else None

        instances = {ti.task_id: ti for ti in dag_run.get_task_instances(session=session)}
        for ti in (instances[t.task_id] for t in dag.topological_sort() if t.task_id in instances):
            record.tasks[ti.task_id] = TaskRecord(
                ti.task_id, str(ti.state), round(ti.duration or 0.0, 2), xcom(ti.task_id, "return_value")
            )
            if error := xcom(ti.task_id, "error"):
                record.errors.append(f"{ti.task_id}: {error}")
    return record


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Sends this process's stdout and stderr (Airflow's task logs) to a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(1), os.dup(2)
    with path.open("a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
