"""Run a command as a child process and measure it: wall seconds and peak
resident memory. The memory comes from wait4's rusage, which covers exactly
that one child (the step's Python process), not the benchmark itself."""

import json
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO


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
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode:
        raise BenchError(f"{shlex.join(argv[:3])} exited with {process.returncode}, see {log.name}")
    return Measured(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


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

    def run_all(self, db: str, commands: list[tuple[str, ...]]) -> dict[str, Measured]:
        """Run (image, *arguments) commands in sequence; keyed 'image command'."""
        return {f"{image} {arguments[0]}": self.run(db, image, *arguments) for image, *arguments in commands}
