"""The real scheduler next to dag.test(): how long each DAG file takes to
parse (what the dag-processor and every task process pay),
and one incremental batch under the scheduler (scripts/airflow.sh: api-server,
scheduler, dag-processor, triggerer, LocalExecutor) against the same batch
under dag.test(), interleaved, best of each."""

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import stack
from e2e import DAG_ID, run_incremental_batch
from measure import BenchError, measure
from plan import E2E_CONF, LOG, REPEATS, REPO_ROOT, SMALL_DB

from report import Figure, at_most, below, progress

DAGS_FOLDER = REPO_ROOT / "orchestration" / "dags"
PYTHON = REPO_ROOT / ".venv" / "orchestration" / "bin" / "python"
AIRFLOW_SH = REPO_ROOT / "scripts" / "airflow.sh"
METADATA_DB = "bench_airflow"
PARSE_TARGET_SECONDS = 2
# Each scheduler run is minutes on a busy 2-core machine: BENCH_SCHEDULER_REPEATS=1 for a quick look.
SCHEDULER_REPEATS = int(os.environ.get("BENCH_SCHEDULER_REPEATS", REPEATS))
RUN_TIMEOUT = 1200


def _client():
    spec = importlib.util.spec_from_file_location("airflow_server", REPO_ROOT / "scripts" / "airflow_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dag_files() -> list[Path]:
    return sorted(p for p in DAGS_FOLDER.glob("*.py") if "dag" in p.read_text().lower())


def _cold(code: str, *args: str) -> float:
    with open(os.devnull, "w") as sink:
        return measure([str(PYTHON), "-c", code, *args], sink).seconds


# What Airflow times against dagbag_import_timeout: the dag-processor parses
# each file in a child forked from a process that has Airflow loaded (the task
# runner too), so Airflow is imported first and the file's own imports are cold.
_PARSE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert bag.dags and not bag.import_errors, bag.import_errors
print(json.dumps(bag.dagbag_stats[0].duration.total_seconds()))
"""


def _parse_seconds(file: Path) -> float:
    done = subprocess.run([str(PYTHON), "-c", _PARSE, str(file)], capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"parsing {file.name} failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(done.stdout.strip().splitlines()[-1])


def bench_dag_parse() -> tuple[list[Figure], dict]:
    """Each DAG file in fresh interpreters, best of REPEATS: as Airflow's
    DagBag times it, and the whole cold process (runpy) next to the floor
    `import airflow.sdk` alone."""
    files = dag_files()
    with progress(f"DAG files parsed in fresh interpreters: {', '.join(f.name for f in files)}"):
        parse: dict[str, list[float]] = {f.stem: [] for f in files}
        process: dict[str, list[float]] = {f.stem: [] for f in files}
        floor: list[float] = []
        for _ in range(SCHEDULER_REPEATS):
            floor.append(_cold("import airflow.sdk"))
            for file in files:
                parse[file.stem].append(_parse_seconds(file))
                process[file.stem].append(_cold("import runpy, sys; runpy.run_path(sys.argv[1])", str(file)))
    best = {name: min(times) for name, times in parse.items()}
    best_process = {name: min(times) for name, times in process.items()}
    slowest = max(best, key=best.get)
    figures = [
        Figure("dag_parse_seconds", best[slowest], "s",
               f"slowest DAG file ({slowest}.py) as DagBag times it (Airflow loaded, the file's imports cold), "
               f"best of {SCHEDULER_REPEATS}; Airflow's dagbag_import_timeout is 30 s",
               below(PARSE_TARGET_SECONDS)),
        Figure("dag_file_process_seconds", max(best_process.values()), "s",
               f"the slowest file run whole in a cold process (python -c runpy, start to exit); "
               f"`import airflow.sdk` alone: {min(floor):.2f} s"),
        *(Figure(f"dag_parse_seconds_{name}", seconds, "s", "") for name, seconds in best.items()),
    ]  # fmt: skip
    return figures, {"dag_parse": {"seconds": parse, "process_seconds": process, "airflow_sdk_import": floor}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Scheduler:
    """scripts/airflow.sh with a port, home and metadata database of the
    bench's own (a `make ui` someone has open is left alone)."""

    def __init__(self, home: Path):
        self.env = {
            **os.environ,
            "AIRFLOW_PORT": str(_free_port()),
            "AIRFLOW_SERVER_HOME": str(home),
            "AIRFLOW_SERVER_DB": METADATA_DB,
            "WAREHOUSE_DB": SMALL_DB,
            "PIPELINE_INCREMENTAL_SCHEDULE": "none",  # only the runs the bench triggers
        }
        self.server = _client().Server(int(self.env["AIRFLOW_PORT"]), home)

    def _sh(self, command: str) -> None:
        with LOG.open("a") as log:
            log.write(f"\n$ scripts/airflow.sh {command}\n")
            log.flush()
            done = subprocess.run(
                ["bash", str(AIRFLOW_SH), command], env=self.env, stdout=log, stderr=log, cwd=REPO_ROOT
            )
        if done.returncode:
            raise BenchError(f"scripts/airflow.sh {command} exited with {done.returncode}, see {LOG}")

    def up(self) -> float:
        started = time.perf_counter()
        self._sh("up")
        return time.perf_counter() - started

    def down(self) -> None:
        self._sh("down")

    def run_incremental_batch(self, conf: dict) -> dict:
        stack.purge_events()
        started = time.perf_counter()
        run_id = self.server.trigger(DAG_ID, conf)
        run = self.server.wait_run(DAG_ID, run_id, RUN_TIMEOUT)
        seconds = time.perf_counter() - started
        tasks = self.server.task_instances(DAG_ID, run_id)
        generated = self.server.xcom(DAG_ID, run_id, "generate") or {}
        if generated.get("key"):
            stack.delete(generated["key"])  # as e2e.py: the next run generates again
        if run["state"] != "success":
            failed = [t["task_id"] for t in tasks if t["state"] not in ("success", "skipped")]
            raise BenchError(
                f"{DAG_ID} under the scheduler: {run['state']} ({', '.join(failed)}), see {self.server.home}/logs"
            )
        load = self.server.xcom(DAG_ID, run_id, "load") or {}
        return {
            "seconds": seconds,
            "rows": load.get("loaded_rows"),
            "tasks": {t["task_id"]: round(t["duration"] or 0.0, 2) for t in sorted(tasks, key=lambda t: -(t["duration"] or 0))},
        }  # fmt: skip


def bench_scheduler_vs_dag_test() -> tuple[list[Figure], dict]:
    """Interleaved: a batch under the scheduler, the next under dag.test(); a
    new seed (so a new object) for every run, the same size and date."""
    # kept for inspection (task logs), like the bench databases
    home = REPO_ROOT / "reports" / "bench-airflow"
    shutil.rmtree(home, ignore_errors=True)
    stack.recreate_databases(METADATA_DB)
    scheduler = _Scheduler(home)
    try:
        with progress(f"Airflow scheduler started (scripts/airflow.sh up, metadata {METADATA_DB})"):
            start_seconds = scheduler.up()
        runs: dict[str, list[dict]] = {"scheduler": [], "dag_test": []}
        for i in range(SCHEDULER_REPEATS):
            conf = {**E2E_CONF, "seed": E2E_CONF["seed"] + 1 + 2 * i}
            with progress(f"incremental batch {i + 1}/{SCHEDULER_REPEATS} under the scheduler (REST API) {conf}"):
                runs["scheduler"].append(scheduler.run_incremental_batch(conf))
            conf = {**conf, "seed": conf["seed"] + 1}
            with progress(f"incremental batch {i + 1}/{SCHEDULER_REPEATS} under dag.test() {conf}"):
                runs["dag_test"].append(run_incremental_batch(SMALL_DB, conf, LOG))
    finally:
        scheduler.down()
    best = {side: min(r["seconds"] for r in side_runs) for side, side_runs in runs.items()}
    fastest = min(runs["scheduler"], key=lambda r: r["seconds"])
    figures = [
        Figure("scheduler_vs_dag_test", best["scheduler"] / best["dag_test"], "x",
               f"one {E2E_CONF['rows']:,}-row incremental batch, trigger -> success: scheduler (REST API, LocalExecutor) "
               f"{best['scheduler']:.1f} s / dag.test() {best['dag_test']:.1f} s, best of {SCHEDULER_REPEATS} each, interleaved",
               at_most(1.5)),
        Figure("scheduler_start_seconds", start_seconds, "s",
               "scripts/airflow.sh up: migrate a new metadata DB, 4 services healthy, DAGs parsed and unpaused"),
        *(Figure(f"scheduler_task_{task}", seconds, "s", "") for task, seconds in list(fastest["tasks"].items())[:5]),
    ]  # fmt: skip
    return figures, {"scheduler": {"start_seconds": start_seconds, "runs": runs}}


if __name__ == "__main__":
    sys.exit("run through bench/run.py")
