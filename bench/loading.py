"""The loader (S3 -> validated raw layer) next to psql \\copy of the same file
from local disk into the same table, and next to naive inserts."""

from pathlib import Path

import baselines
import stack
from generation import Inputs
from measure import BenchError, Measured, Steps
from plan import (
    BIG_DB,
    BIG_ROWS,
    EXECUTE_LOOP_ROWS,
    EXECUTEMANY_ROWS,
    MEMORY_LIMIT_MB,
    MEMORY_ROWS,
    REPEATS,
)

from report import Figure, at_least, below, flat, progress, seconds


def staged_fingerprint(db: str) -> tuple:
    """Aggregates that differ if a row is lost or a date read day-first."""
    return stack.query_one(
        db,
        "select count(*), sum(sales), sum(profit), min(order_date), max(ship_date), sum(ship_date - order_date),"
        f" sum(extract(doy from order_date)) from {baselines.STAGING_TABLE}",
    )


def bench_loader(steps: Steps, work: Path, inputs: Inputs) -> tuple[list[Figure], dict]:
    """Leaves the big file in BIG_DB's raw layer, loaded (staged) by the loader, ready to publish."""
    big_csv = stack.download(inputs.big, work / "big.csv")
    steps.run(BIG_DB, "loader", "create-schemas")

    def load(key: str) -> Measured:
        return steps.run(BIG_DB, "loader", "load", "--objects", stack.objects_json(key))

    with progress(
        f"baselines: executemany INSERT of {EXECUTEMANY_ROWS:,} rows, {EXECUTE_LOOP_ROWS:,} single-row INSERTs"
    ):
        executemany_seconds = baselines.executemany_insert(BIG_DB, big_csv, EXECUTEMANY_ROWS)
        loop_seconds = baselines.execute_loop_insert(BIG_DB, big_csv, EXECUTE_LOOP_ROWS)
    copies, loads = [], []
    with progress(f"loader: {MEMORY_ROWS:,} rows; {BIG_ROWS:,} rows and psql \\copy of them, {REPEATS} times"):
        memory_run = load(inputs.memory)
        for _ in range(REPEATS):
            stack.forget_loads(BIG_DB)  # else the loader finds the object loaded: a no-op
            copies.append(baselines.psql_copy(BIG_DB, big_csv, steps.log))
            copied = staged_fingerprint(BIG_DB)
            stack.forget_loads(BIG_DB)
            loads.append(load(inputs.big))
    if (loaded := staged_fingerprint(BIG_DB)) != copied:
        raise BenchError(f"\\copy and the loader staged different data: {copied} != {loaded}")

    loader_rate = max(run.rows_per_second(BIG_ROWS) for run in loads)
    copy_rate = max(run.rows_per_second(BIG_ROWS) for run in copies)
    executemany_rate, loop_rate = EXECUTEMANY_ROWS / executemany_seconds, EXECUTE_LOOP_ROWS / loop_seconds
    loader_rss = max(run.peak_rss_mb for run in loads)
    figures = [
        Figure("loader_vs_copy", loader_rate / copy_rate, "x",
               f"loader CLI, S3 -> raw layer, validated / psql \\copy from disk (best of {REPEATS} each)", at_least(0.8)),
        Figure("loader_vs_naive_insert", loader_rate / executemany_rate, "x",
               f"loader / psycopg executemany INSERT ({EXECUTEMANY_ROWS:,} rows, pipelined by psycopg)"),
        Figure("loader_vs_execute_loop", loader_rate / loop_rate, "x",
               f"loader / one execute() per row ({EXECUTE_LOOP_ROWS:,} rows)"),
        Figure("loader_rss_mb_100k", memory_run.peak_rss_mb, "MB", f"peak RSS, {MEMORY_ROWS:,} rows", below(MEMORY_LIMIT_MB)),
        Figure("loader_rss_mb_1m", loader_rss, "MB", f"peak RSS, {BIG_ROWS:,} rows", flat(MEMORY_LIMIT_MB, memory_run.peak_rss_mb)),
        Figure("loader_rows_per_s", loader_rate, "rows/s", f"{BIG_ROWS:,} rows, process start to commit: {seconds(loads)}"),
        Figure("copy_rows_per_s", copy_rate, "rows/s", f"{BIG_ROWS:,} rows: {seconds(copies)}"),
        Figure("executemany_rows_per_s", executemany_rate, "rows/s", f"{EXECUTEMANY_ROWS:,} rows in {executemany_seconds:.1f} s"),
        Figure("execute_loop_rows_per_s", loop_rate, "rows/s", f"{EXECUTE_LOOP_ROWS:,} rows in {loop_seconds:.1f} s"),
    ]  # fmt: skip
    measurements = {
        "loader_seconds_1m": [run.seconds for run in loads],
        "loader_seconds_100k": memory_run.seconds,
        "copy_seconds_1m": [run.seconds for run in copies],
        "executemany_seconds": executemany_seconds,
        "execute_loop_seconds": loop_seconds,
        "staged_fingerprint": [str(value) for value in copied],
    }
    return figures, measurements
