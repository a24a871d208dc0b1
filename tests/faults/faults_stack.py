"""The fault suite's own servers and how its steps are run.

A PostgreSQL cluster (initdb in a temp dir, run as the `postgres` OS user
like scripts/stack.sh does) and a moto server, both on free ports of
127.0.0.1 and both started and stopped by this suite only: the faults kill,
restart and stop them, which the shared stack must never see. Every step
runs as a real process in its image's virtualenv, with an environment made
here from scratch (never the shared stack's settings)."""

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import psycopg
from botocore.config import Config
from psycopg.rows import dict_row

REPO = Path(__file__).resolve().parents[2]
VENVS = REPO / ".venv"
LOADER = VENVS / "loader" / "bin" / "superstore-loader"
DBT = VENVS / "dbt" / "bin" / "superstore-dbt"
MOTO = VENVS / "moto" / "bin" / "moto_server"

USER = "faults"
BUCKET = "faults-raw"
RAW, PUBLISHED = "raw", "analytics"
MARTS = ("dim_customers", "dim_dates", "dim_locations", "dim_orders", "dim_products", "fct_sales")
# Columns whose value is when a run happened, not what it published.
RUN_TIME_COLUMNS = {"fct_sales": ("loaded_at",)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str, every: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
    return found[-1]


def as_postgres(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, args)], check=True, capture_output=True, text=True
    )


class Postgres:
    """A throw-away cluster; trust auth on 127.0.0.1 only (the role still has a password)."""

    def __init__(self, root: Path):
        self.bin = pg_bin()
        self.data = root / "pg"
        self.sockets = root / "pg-sockets"
        self.log = root / "pg.log"
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)

    def start(self) -> None:
        for path in (self.data, self.sockets):
            path.mkdir()
            shutil.chown(path, "postgres")
        as_postgres(
            self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"
        )
        options = (
            # fsync off: a crash of the server (not of the machine) loses no commit
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        )
        self.log.touch()
        shutil.chown(self.log, "postgres")
        as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-o", options, "start")
        with self.admin() as conn:
            conn.execute(f"create role {USER} login createdb password %s".replace("%s", _literal(self.password)))

    def restart(self, mode: str) -> None:
        """pg_ctl restart: every connection is dropped; back when it accepts connections."""
        as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-m", mode, "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            as_postgres(self.bin / "pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop")

    def conninfo(self, db: str, user: str = USER) -> str:
        return psycopg.conninfo.make_conninfo(
            host="127.0.0.1", port=self.port, user=user, password=self.password, dbname=db
        )

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo("postgres", "postgres"), autocommit=True)

    def connect(self, db: str) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(db), autocommit=True)

    def backends(self, db: str) -> list[dict]:
        """The sessions on a database, as pg_stat_activity shows them."""
        with self.admin() as conn, conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(
                "select pid, application_name, state, wait_event_type, query,"
                " (select tuples_processed from pg_stat_progress_copy p where p.pid = a.pid) as copied"
                " from pg_stat_activity a where datname = %s and pid <> pg_backend_pid()",
                [db],
            ).fetchall()

    def wait_for_backend(self, db: str, matches: Callable[[dict], bool], what: str, timeout: float = 120) -> dict:
        return wait_until(lambda: next((b for b in self.backends(db) if matches(b)), None), timeout, what)

    def wait_until_gone(self, db: str, applications: set[str], timeout: float = 60) -> None:
        """Until the sessions of these applications have ended (a killed client's
        backend ends, rolling back, once it notices)."""
        wait_until(
            lambda: not [b for b in self.backends(db) if b["application_name"] in applications],
            timeout,
            f"the sessions of {sorted(applications)} to end",
        )

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.admin() as conn:
            conn.execute(f"drop database if exists {name} with (force)")
            conn.execute(f"create database {name} owner {USER}" + (f" template {template}" if template else ""))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Moto:
    """moto server: S3 in memory. Stopping it loses every object."""

    def __init__(self, root: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "moto.log"
        self.process: subprocess.Popen | None = None
        self.objects: dict[str, bytes] = {}  # what this suite put, to put again after a restart

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(MOTO), "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(self._up, 30, "moto server", every=0.1)
        self.s3().create_bucket(Bucket=BUCKET)

    def restart(self) -> None:
        """Start again (empty) and put back every object: the same bytes, the same ETags."""
        self.start()
        for key, body in self.objects.items():
            self.put(key, body)

    def _up(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None

    def s3(self):
        return self.client("s3")

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

    def put(self, key: str, body: bytes) -> dict[str, str]:
        """One PUT (not multipart): the ETag is the body's MD5, so the same bytes
        put again after a restart are the same version (same load id)."""
        etag = self.s3().put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
        assert etag == hashlib.md5(body).hexdigest()
        self.objects[key] = body
        return {"bucket": BUCKET, "key": key, "etag": etag}


@dataclass
class StepRun:
    args: tuple[str, ...]
    returncode: int
    stderr: str
    result: dict | None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    def one_line_error(self) -> str:
        """The step contract: exit 1, ONE line saying why, no traceback."""
        assert self.returncode == 1, (self.returncode, self.stderr[-3000:])
        assert "Traceback" not in self.stderr, self.stderr[-3000:]
        assert len(self.error_lines) == 1, self.stderr[-3000:]
        assert self.stderr.rstrip().splitlines()[-1] == self.error_lines[0], self.stderr[-3000:]
        return self.error_lines[0]

    def ok(self) -> dict:
        assert self.returncode == 0, (self.args, self.stderr[-3000:])
        assert self.result is not None
        return self.result


@dataclass
class Running:
    """A step started in the background."""

    process: subprocess.Popen
    args: tuple[str, ...]
    result_path: Path
    stderr_path: Path

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = 120) -> StepRun:
        returncode = self.process.wait(timeout=timeout)
        result = json.loads(self.result_path.read_text()) if self.result_path.exists() else None
        return StepRun(self.args, returncode, self.stderr_path.read_text(), result)


@dataclass
class Stack:
    root: Path
    pg: Postgres
    moto: Moto
    runs: list[Running] = field(default_factory=list)

    def env(self, db: str) -> dict[str, str]:
        """The whole environment of a step: made here, nothing of the shared stack's."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "RAW_BUCKET": BUCKET,
            "INCOMING_PREFIX": "incoming/",
            "WAREHOUSE_KIND": "postgres",
            "WAREHOUSE_HOST": "127.0.0.1",
            "WAREHOUSE_PORT": str(self.pg.port),
            "WAREHOUSE_DB": db,
            "WAREHOUSE_USER": USER,
            "WAREHOUSE_PASSWORD": self.pg.password,
        }

    def start(self, executable: Path, *args: str, db: str, **env: str) -> Running:
        scratch = Path(tempfile.mkdtemp(prefix="step-", dir=self.root))
        result_path, stderr_path = scratch / "return.json", scratch / "stderr.log"
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                [str(executable), *args],
                env={**self.env(db), "XCOM_RETURN_PATH": str(result_path), **env},
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # a signal from the test reaches this step only
            )
        running = Running(process, (executable.name, *args), result_path, stderr_path)
        self.runs.append(running)
        return running

    def run(self, executable: Path, *args: str, db: str, timeout: float = 180, **env: str) -> StepRun:
        return self.start(executable, *args, db=db, **env).wait(timeout)

    # --- the steps

    def loader(self, *args: str, db: str) -> StepRun:
        return self.run(LOADER, *args, db=db)

    def load(self, objects: list[dict], db: str, **env: str) -> StepRun:
        return self.run(LOADER, "load", "--objects", json.dumps(objects), db=db, **env)

    def start_load(self, objects: list[dict], db: str, **env: str) -> Running:
        return self.start(LOADER, "load", "--objects", json.dumps(objects), db=db, **env)

    def build_args(self, load_ids: list[str], run_id: str, mode: str = "incremental") -> tuple[str, ...]:
        return ("build", "--mode", mode, "--load-ids", json.dumps(load_ids), "--run-id", run_id)

    def build(self, load_ids: list[str], run_id: str, db: str, mode: str = "incremental") -> StepRun:
        return self.run(DBT, *self.build_args(load_ids, run_id, mode), db=db)

    def start_build(self, load_ids: list[str], run_id: str, db: str, mode: str = "incremental") -> Running:
        return self.start(DBT, *self.build_args(load_ids, run_id, mode), db=db)

    def drop_staging(self, run_id: str, db: str) -> StepRun:
        return self.loader("drop-staging", "--run-id", run_id, db=db)

    def publish(self, objects: list[dict], run_id: str, db: str, mode: str = "incremental") -> dict:
        """A clean run: load, build, drop the audit schema."""
        loaded = self.load(objects, db).ok()
        built = self.build(loaded["load_ids"], run_id, db, mode).ok()
        self.drop_staging(run_id, db).ok()
        return built

    def kill_leftovers(self) -> None:
        for running in self.runs:
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait()


class CuttingProxy:
    """Between a step and moto: relays every request and response, but the
    body of a whole-object GET of `key` is cut off at a line end near its
    middle and the connection closed: a connection lost in the middle of an
    object, at the moment the bytes received so far end with a whole line."""

    def __init__(self, upstream_port: int, key: str):
        self.upstream_port, self.key = upstream_port, key
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.cut: list[tuple[int, int]] = []  # (bytes sent, bytes of the body) of each cut GET
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            from_client, from_upstream = _Reader(client), _Reader(upstream)
            while (request := from_client.head()) is not None:
                method, target = request.split(b" ", 2)[:2]
                headers = _headers(request)
                upstream.sendall(request + from_client.exactly(int(headers.get("content-length", 0))))
                response = from_upstream.head()
                status = int(response.split(b" ", 2)[1])
                length = 0 if method == b"HEAD" or status in (204, 304) else int(_headers(response)["content-length"])
                body = from_upstream.exactly(length)
                path = urllib.parse.unquote(urllib.parse.urlsplit(target.decode()).path)
                if method == b"GET" and status == 200 and path.endswith("/" + self.key) and "range" not in headers:
                    cut = body.rfind(b"\n", 0, len(body) // 2) + 1
                    client.sendall(response + body[:cut])
                    self.cut.append((cut, len(body)))
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(response + body)


class _Reader:
    def __init__(self, sock: socket.socket):
        self.sock, self.buffer = sock, b""

    def head(self) -> bytes | None:
        """An HTTP message's start line and headers; None when the peer is done."""
        while b"\r\n\r\n" not in self.buffer:
            if not (data := self.sock.recv(65536)):
                return None
            self.buffer += data
        end = self.buffer.index(b"\r\n\r\n") + 4
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        return head

    def exactly(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not (data := self.sock.recv(1 << 20)):
                raise ConnectionError("peer closed in the middle of a message")
            self.buffer += data
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines if line)}
