"""The real scheduler for the tests: scripts/airflow.sh started with a port,
home (airflow.cfg, pids, logs) and metadata database of the tests' own, so a
`make ui` a user has open is left alone; the REST client of
scripts/airflow_server.py."""

import importlib.util
import os
import socket
import subprocess
from pathlib import Path

from stack import REPO

AIRFLOW_SH = REPO / "scripts" / "airflow.sh"
# the scheduler tests' own warehouse and Airflow metadata databases
WAREHOUSE_DB = "superstore_scheduler"
METADATA_DB = "superstore_scheduler_airflow"


def _client():
    spec = importlib.util.spec_from_file_location("airflow_server", REPO / "scripts" / "airflow_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


airflow_server = _client()
Server = airflow_server.Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(home: Path, port: int, metadata_db: str, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_PORT": str(port),
        "AIRFLOW_SERVER_HOME": str(home),
        "AIRFLOW_SERVER_DB": metadata_db,
        **settings,
    }


def airflow_sh(command: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(AIRFLOW_SH), command], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def log_tails(home: Path, lines: int = 15) -> str:
    out = []
    for log in sorted((home / "logs").glob("*.log")):
        out.append(f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:]))
    return "\n".join(out)


def session_processes(home: Path) -> list[int]:
    """Processes of the sessions whose leaders' pid files are under home/run."""
    sessions = {int(p.read_text()) for p in (home / "run").glob("*.pid")}
    found = []
    for line in subprocess.run(["ps", "-e", "-o", "pid=,sid="], capture_output=True, text=True).stdout.splitlines():
        pid, sid = map(int, line.split())
        if sid in sessions:
            found.append(pid)
    return found
