"""A small client of the Airflow REST API (/api/v2) of a server that
scripts/airflow.sh started: wait until it is healthy and every DAG file is
parsed, unpause the DAGs, trigger a run and wait for it. Standard library
only, no Airflow import (seconds faster). Used by airflow.sh, the scheduler
tests and the benchmark.

The server is found from AIRFLOW_PORT and AIRFLOW_SERVER_HOME (or
STACK_DIR/airflow-server), as airflow.sh finds them."""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEALTH_COMPONENTS = {
    "api-server": "metadatabase",
    "scheduler": "scheduler",
    "dag-processor": "dag_processor",
    "triggerer": "triggerer",
}
FINISHED = {"success", "failed"}


class ApiError(RuntimeError):
    pass


@dataclass
class Server:
    port: int
    home: Path
    _token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> "Server":
        stack = Path(os.environ.get("STACK_DIR", REPO / ".stack"))
        home = Path(os.environ.get("AIRFLOW_SERVER_HOME", stack / "airflow-server"))
        return cls(int(os.environ.get("AIRFLOW_PORT", "8080")), home)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def password(self) -> str:
        return json.loads((self.home / "passwords.json").read_text())["admin"]

    def token(self) -> str:
        """A JWT from /auth/token (Simple auth manager), cached."""
        if self._token is None:
            body = {"username": "admin", "password": self.password()}
            self._token = self._request("POST", "/auth/token", body, auth=False)["access_token"]
        return self._token

    def _request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise ApiError(f"{method} {path}: {error.code} {error.read()[:300].decode(errors='replace')}") from None
        return json.loads(text) if text else None

    def get(self, path: str, **query):
        return self._request("GET", path + ("?" + urllib.parse.urlencode(query) if query else ""))

    def post(self, path: str, body: dict):
        return self._request("POST", path, body)

    def patch(self, path: str, body: dict):
        return self._request("PATCH", path, body)

    # --- the server as a whole

    def health(self) -> dict[str, str]:
        """{component: status}; empty while the api-server does not answer."""
        try:
            answer = self._request("GET", "/api/v2/monitor/health", auth=False)
        except (OSError, ApiError):
            return {}
        return {name: (part or {}).get("status") for name, part in answer.items()}

    def dags(self) -> list[dict]:
        return self.get("/api/v2/dags", limit=100)["dags"]

    def import_errors(self) -> list[dict]:
        return self.get("/api/v2/importErrors", limit=100)["import_errors"]

    def wait_ready(self, services: list[str], dags_folder: Path, timeout: float) -> list[dict]:
        """Wait until every component is healthy and every DAG file of the
        folder is either a DAG or an import error; fail on import errors.
        Returns the DAGs, unpaused."""
        deadline = time.monotonic() + timeout
        components = [HEALTH_COMPONENTS[s] for s in services]
        files = {p.name for p in dags_folder.glob("*.py") if "dag" in p.read_text().lower()}
        status: dict = {}
        while time.monotonic() < deadline:
            status = self.health()
            if status and all(status.get(c) == "healthy" for c in components):
                break
            time.sleep(1)
        else:
            raise ApiError(f"not healthy after {timeout:.0f} s: {status or 'no answer'}")
        parsed: set[str] = set()
        while time.monotonic() < deadline:
            dags = self.dags()
            errors = self.import_errors()
            if errors:
                raise ApiError(
                    "DAG import errors: " + "; ".join(f"{e['filename']}: {e['stack_trace'][-300:]}" for e in errors)
                )
            parsed = {Path(d["fileloc"]).name for d in dags}
            if files <= parsed:
                for dag in dags:
                    if dag["is_paused"]:
                        self.patch(f"/api/v2/dags/{dag['dag_id']}", {"is_paused": False})
                return self.dags()
            time.sleep(1)
        raise ApiError(f"DAG files not parsed after {timeout:.0f} s: {sorted(files - parsed)}")

    # --- runs

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self.post(
            f"/api/v2/dags/{dag_id}/dagRuns",
            {"logical_date": None, "conf": conf or {}},
        )
        return run["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def wait_run(self, dag_id: str, run_id: str, timeout: float, poll: float = 0.5) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            time.sleep(poll)
        raise ApiError(f"{dag_id} {run_id} not finished after {timeout:.0f} s: {run['state']}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        return self.get(path, limit=100)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
            f"/taskInstances/{task_id}/xcomEntries/{key}"
        )
        try:
            return self.get(path, deserialize="true")["value"]
        except ApiError:
            return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser("wait", help="wait until healthy and every DAG is parsed; unpause the DAGs")
    wait.add_argument("--services", default=" ".join(HEALTH_COMPONENTS), help="the services started")
    wait.add_argument("--timeout", type=float, default=float(os.environ.get("AIRFLOW_START_TIMEOUT", "240")))
    args = parser.parse_args()
    server = Server.from_env()
    try:
        dags = server.wait_ready(args.services.split(), Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]), args.timeout)
    except ApiError as error:
        sys.exit(f"airflow: {error}")
    print("  DAGs (unpaused): " + ", ".join(sorted(d["dag_id"] for d in dags)))


if __name__ == "__main__":
    main()
