"""Run a command as a child process and measure it: wall seconds and peak
resident memory.

The peak is the child's VmHWM, polled from /proc while it runs. Not wait4's
ru_maxrss: a child started by vfork (as subprocess does) inherits the
parent's high-water mark at exec, so every step would look as big as this
benchmark process."""

import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

POLL_SECONDS = 0.01


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and where its log is."""


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    result: dict | None = None  # the step's JSON result (XCom)

    def rows_per_second(self, rows: int) -> float:
        return rows / self.seconds


def measure(argv: list[str], log: TextIO, env: dict[str, str] | None = None) -> Measured:
    """Run `argv` to completion, its output appended to `log`."""
    log.write(f"\n$ {shlex.join(argv)}\n")
    log.flush()
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    peak_kb = 0
    while True:
        peak_kb = max(peak_kb, _high_water_kb(process.pid))
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode:
        raise BenchError(f"{shlex.join(argv[:3])} exited with {process.returncode}, see {log.name}")
    return Measured(seconds, peak_kb / 1024)


def _high_water_kb(pid: int) -> int:
    """Peak resident memory of a running process so far (0 once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


class Steps:
    """The pipeline's step entrypoints, each run from its image's virtualenv
    against one bench database, exactly as the local runner runs them."""

    def __init__(self, venvs: Path, log: TextIO):
        self.venvs = venvs
        self.log = log

    def run(self, db: str, image: str, *arguments: str) -> Measured:
        executable = self.venvs / image / "bin" / f"superstore-{image}"
        with tempfile.TemporaryDirectory(prefix="bench-step-") as tmp:
            result_path = Path(tmp) / "return.json"
            env = {**os.environ, "WAREHOUSE_DB": db, "XCOM_RETURN_PATH": str(result_path)}
            measured = measure([str(executable), *arguments], self.log, env)
            return replace(measured, result=json.loads(result_path.read_text()))

    def run_all(self, db: str, commands: list[tuple]) -> dict[str, Measured]:
        """Run (image, *arguments) commands in sequence; keyed 'image command'.
        An argument may be a function of the results so far (as a DAG's
        templates read upstream results), e.g. the load ids the load step staged."""
        results: dict[str, Measured] = {}
        for image, *arguments in commands:
            rendered = [argument(results) if callable(argument) else argument for argument in arguments]
            results[f"{image} {arguments[0]}"] = self.run(db, image, *rendered)
        return results
