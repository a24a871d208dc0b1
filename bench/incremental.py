"""How an incremental run grows with the published fact: the same batches
merged into a 1M-row and a 10k-row fact, each run the incremental DAG's step
entrypoints in sequence."""

import csv
import json
from pathlib import Path

import stack
from generation import Inputs
from measure import BenchError, Measured, Steps
from plan import BATCH_ROWS, BIG_DB, BIG_ROWS, REPEATS, SMALL_DB, SMALL_FACT_ROWS

from report import Figure, at_most, progress

Run = dict[str, Measured]  # 'image command' -> measured


def load_ids(results: Run) -> str:
    """The loads the load step staged, as the DAG hands them to dbt."""
    return json.dumps(results["loader load"].result["load_ids"])


def publish_initial(run_id: str, staged: list[str]) -> list[tuple]:
    """The initial DAG's steps after its load: rebuild from the raw history."""
    return [
        ("dbt", "build", "--mode", "initial", "--load-ids", json.dumps(staged), "--run-id", run_id),
        ("loader", "drop-staging", "--run-id", run_id),
        ("soda", "scan"),
    ]


def initial_load(key: str) -> list[tuple]:
    return [
        ("loader", "create-schemas"),
        ("loader", "load", "--objects", stack.objects_json(key)),
        ("dbt", "build", "--mode", "initial", "--load-ids", load_ids, "--run-id", "bench-initial"),
        ("loader", "drop-staging", "--run-id", "bench-initial"),
        ("soda", "scan"),
    ]


def incremental_load(key: str, run_id: str) -> list[tuple]:
    return [
        ("loader", "create-schemas"),
        ("loader", "load", "--objects", stack.objects_json(key)),
        ("dbt", "build", "--mode", "incremental", "--load-ids", load_ids, "--run-id", run_id),
        ("loader", "drop-staging", "--run-id", run_id),
        ("soda", "scan", "--load-ids", lambda results: json.dumps(results["dbt build"].result["published"])),
    ]


def total(run: Run) -> float:
    return sum(measured.seconds for measured in run.values())


def breakdown(run: Run) -> str:
    return ", ".join(f"{step.split()[-1]} {measured.seconds:.1f}" for step, measured in run.items())


def check_batches_are_new(work: Path, batches: tuple[str, ...]) -> None:
    """No batch may reuse an order id of either fact: dbt would reject it."""
    for key in batches:
        with stack.download(key, work / "batch.csv").open(newline="", encoding="utf-8") as file:
            order_ids = sorted({row["Order ID"] for row in csv.DictReader(file)})
        for db in (SMALL_DB, BIG_DB):
            (reused,) = stack.query_one(
                db, "select count(*) from analytics.dim_orders where order_id = any(%s)", order_ids
            )
            if reused:
                raise BenchError(f"{key} reuses {reused} order ids of the fact in {db}")


def bench_incremental(steps: Steps, work: Path, inputs: Inputs, big_fact: Run) -> tuple[list[Figure], dict]:
    """big_fact: the steps that published BIG_DB's fact (bench_rebuild)."""
    with progress(f"facts: publish {SMALL_FACT_ROWS:,} rows"):
        small_fact = steps.run_all(SMALL_DB, initial_load(inputs.small))
    check_batches_are_new(work, inputs.batches)

    runs: dict[str, list[Run]] = {SMALL_DB: [], BIG_DB: []}
    with progress(f"incremental: {REPEATS} batches of {BATCH_ROWS:,} rows, each into both facts"):
        for number, key in enumerate(inputs.batches, start=1):
            for db, db_runs in runs.items():
                run = steps.run_all(db, incremental_load(key, f"bench-batch-{number}"))
                if (loaded := run["loader load"].result["loaded_rows"]) != BATCH_ROWS:
                    raise BenchError(f"batch {number} on {db}: {loaded} rows loaded, expected {BATCH_ROWS}")
                db_runs.append(run)
    small, big = (min(runs[db], key=total) for db in (SMALL_DB, BIG_DB))

    figures = [
        Figure("incremental_growth", total(big) / total(small), "x",
               f"same {BATCH_ROWS:,}-row batches, on {BIG_ROWS:,} / on {SMALL_FACT_ROWS:,} fact rows (best of {REPEATS} each)",
               at_most(1.5)),
        Figure("incremental_seconds_10k", total(small), "s", breakdown(small)),
        Figure("incremental_seconds_1m", total(big), "s", breakdown(big)),
    ]  # fmt: skip
    measurements = {
        "initial_steps_seconds": {SMALL_DB: seconds_by_step(small_fact), BIG_DB: seconds_by_step(big_fact)},
        "incremental_steps_seconds": {db: [seconds_by_step(run) for run in db_runs] for db, db_runs in runs.items()},
    }
    return figures, measurements


def seconds_by_step(run: Run) -> dict[str, float]:
    return {step: round(measured.seconds, 2) for step, measured in run.items()}
