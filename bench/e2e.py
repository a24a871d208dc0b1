"""One incremental batch end to end: the real Airflow DAG, in-process
(dag.test) with the local runner, from the S3 put to published and checked.
Airflow is imported only here: it takes seconds to import."""

import os
import time
from pathlib import Path

import stack
from measure import BenchError
from plan import E2E_CONF, LOG, SMALL_DB

from report import Figure, below, progress

DAG_ID = "superstore_incremental_load"


def run_incremental_batch(db: str, conf: dict, log_path: Path) -> dict:
    """{'seconds': wall time of the DAG run, 'tasks': {task_id: seconds}}."""
    os.environ["WAREHOUSE_DB"] = db  # the local runner passes the process's settings to every step
    from superstore_orchestration.local_run import output_to, run_dag

    with output_to(log_path):  # from here on Airflow logs to stdout
        stack.purge_events()
        started = time.perf_counter()
        record = run_dag(DAG_ID, conf)
        seconds = time.perf_counter() - started
        generated = record.result("generate") or {}
        if generated.get("key"):
            # The generator re-announces instead of regenerating an existing
            # key: remove it so the next run measures generation again.
            stack.delete(generated["key"])
    if record.state != "success":
        raise BenchError(f"{DAG_ID} run {record.state}: {'; '.join(record.errors) or 'see ' + str(log_path)}")
    tasks = sorted(record.tasks.values(), key=lambda task: task.seconds, reverse=True)
    return {
        "seconds": seconds,
        "rows": (record.result("load") or {}).get("loaded_rows"),
        "tasks": {task.task_id: task.seconds for task in tasks},
    }


def bench_end_to_end(run: dict | None = None) -> tuple[list[Figure], dict]:
    """The figures of one dag.test() run: `run` (the best of
    bench/scheduler.py's) or one made here."""
    if run is None:
        with progress(f"end to end: Airflow DAG {DAG_ID} {E2E_CONF} on {SMALL_DB}"):
            run = run_incremental_batch(SMALL_DB, E2E_CONF, LOG)
    figures = [
        Figure("e2e_seconds", run["seconds"], "s",
               f"{run['rows']:,} rows, S3 put -> published and checked; the tasks add up to {sum(run['tasks'].values()):.1f} s",
               below(60)),
        *(Figure(f"e2e_task_{task}", seconds, "s", "") for task, seconds in run["tasks"].items()),
    ]  # fmt: skip
    return figures, {"e2e": run}
