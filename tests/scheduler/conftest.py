"""One Airflow server for the module's tests (started once: about a minute),
on a warehouse database, bucket and event queues of its own."""

import os
import time

import pytest
from scheduler_kit import METADATA_DB, WAREHOUSE_DB, Server, airflow_sh, free_port, log_tails, server_env
from stack import connect, fresh_database, own_lake, source_csv

RUN_TIMEOUT = 900


@pytest.fixture(scope="session")
def scheduler(tmp_path_factory):
    fresh_database(WAREHOUSE_DB)
    with connect() as conn:
        conn.execute(f"drop database if exists {METADATA_DB} with (force)")
    saved = os.environ.get("WAREHOUSE_DB")
    os.environ["WAREHOUSE_DB"] = WAREHOUSE_DB
    home = tmp_path_factory.mktemp("airflow-server")
    with own_lake("sched"):
        # no scheduled incremental runs: only the runs the tests trigger
        env = server_env(home, free_port(), METADATA_DB, PIPELINE_INCREMENTAL_SCHEDULE="none")
        started = time.monotonic()
        up = airflow_sh("up", env)
        server = Server(int(env["AIRFLOW_PORT"]), home)
        server.start_seconds = time.monotonic() - started
        server.env = env
        try:
            assert up.returncode == 0, f"{up.stdout}\n{up.stderr}\n{log_tails(home)}"
            yield server
        finally:
            down = airflow_sh("down", env)
            assert down.returncode == 0, down.stderr
    if saved is not None:
        os.environ["WAREHOUSE_DB"] = saved


def finished(server, dag_id: str, conf: dict) -> dict:
    run_id = server.trigger(dag_id, conf)
    started = time.monotonic()
    run = server.wait_run(dag_id, run_id, RUN_TIMEOUT)
    run["seconds"] = time.monotonic() - started
    run["tasks"] = {ti["task_id"]: ti for ti in server.task_instances(dag_id, run_id)}
    return run


@pytest.fixture(scope="session")
def initial_run(scheduler) -> dict:
    return finished(scheduler, "superstore_initial_load", {"source": str(source_csv())})


@pytest.fixture(scope="session")
def incremental_run(scheduler, initial_run) -> dict:
    return finished(scheduler, "superstore_incremental_load", {"rows": 300, "seed": 31337, "as_of": "2024-02-01"})
