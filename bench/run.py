"""make bench: how fast the pipeline's steps are next to simple baselines
measured in the same run (ratios, not absolute times: the machine is shared
and noisy). Prints one table, writes reports/bench.json; step output goes to
reports/bench.log. What each figure means: bench/README.md."""

import csv
import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import baselines
import stack
from e2e import run_incremental_batch
from measure import BenchError, Measured, Steps
from report import Figure, at_least, at_most, below, console, flat, print_table, write_json

REPO_ROOT = Path(__file__).resolve().parents[1]
VENVS = REPO_ROOT / ".venv"
REPORT = REPO_ROOT / "reports" / "bench.json"
LOG = REPO_ROOT / "reports" / "bench.log"
# The real data set (US dates), what the generator learns from.
REFERENCE_CSV = Path(os.environ.get("BENCH_REFERENCE", REPO_ROOT.parent / "shared" / "data" / "superstore-kaggle.csv"))

# Dedicated databases, dropped and recreated by every run.
GENERATOR_DB = "bench_gen"  # stays empty: the generator learns from the reference CSV
BIG_DB = "bench_1m"
SMALL_DB = "bench_10k"
# Everything the bench puts in the raw bucket. Not under the incoming prefix:
# its objects must not send events to the queue other runs listen on.
PREFIX = "bench/"

BIG_ROWS = 1_000_000
MEMORY_ROWS = 100_000  # a smaller run of the generator and the loader: is memory flat?
SMALL_FACT_ROWS = 10_000
BATCH_ROWS = 10_000
# Baselines, sized to take a few seconds each on 2 cores.
NAIVE_GENERATOR_ROWS = 20_000
EXECUTEMANY_ROWS = 50_000
EXECUTE_LOOP_ROWS = 10_000
LOAD_REPEATS = 2  # best of, for the loader and \copy alike
# Fact files are dated in 2024, the batch in 2025: order ids carry the year,
# so the batch cannot reuse a fact's order id (checked all the same).
FACT_AS_OF, BATCH_AS_OF = "2024-06-01", "2025-06-01"
E2E_CONF = {"rows": 1000, "seed": 4242, "as_of": "2024-07-01"}
MEMORY_LIMIT_MB = 200


@contextmanager
def progress(label: str):
    console.print(f"  [dim]…[/] {label}", highlight=False)
    started = time.perf_counter()
    yield
    console.print(f"  [green]✓[/] {label} [dim]{time.perf_counter() - started:.1f} s[/]", highlight=False)


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"


def bench_generator(steps: Steps, work: Path) -> tuple[list[Figure], dict, dict[str, str]]:
    reference = stack.s3_uri(stack.upload(REFERENCE_CSV, f"{PREFIX}reference/{REFERENCE_CSV.name}"))

    def generate(rows: int, seed: int, as_of: str) -> Measured:
        return steps.run(
            GENERATOR_DB, "generator", "generate", "--rows", str(rows), "--seed", str(seed), "--as-of", as_of,
            "--reference", reference, "--prefix", f"{PREFIX}generated",
        )  # fmt: skip

    with progress(f"generator: {BIG_ROWS:,} rows"):
        big = generate(BIG_ROWS, 1, FACT_AS_OF)
    with progress(f"generator: {MEMORY_ROWS:,} rows, {SMALL_FACT_ROWS:,}-row fact file, {BATCH_ROWS:,}-row batch"):
        memory = generate(MEMORY_ROWS, 4, FACT_AS_OF)
        small = generate(SMALL_FACT_ROWS, 2, FACT_AS_OF)
        batch = generate(BATCH_ROWS, 3, BATCH_AS_OF)
    with progress(f"baseline: Faker for every field, {NAIVE_GENERATOR_ROWS:,} rows"):
        naive = baselines.naive_generator(VENVS, NAIVE_GENERATOR_ROWS, work / "naive.csv", steps.log)

    generator_rate, naive_rate = big.rows_per_second(BIG_ROWS), naive.rows_per_second(NAIVE_GENERATOR_ROWS)
    figures = [
        Figure("generator_vs_naive", generator_rate / naive_rate, "x",
               f"generator CLI, {BIG_ROWS:,} rows to S3 / Faker per field", at_least(50)),
        Figure("generator_rss_mb_1m", big.peak_rss_mb, "MB",
               f"peak RSS; {MEMORY_ROWS:,} rows: {memory.peak_rss_mb:.0f} MB, {SMALL_FACT_ROWS:,}: {small.peak_rss_mb:.0f} MB",
               flat(MEMORY_LIMIT_MB, memory.peak_rss_mb)),
        Figure("generator_rows_per_s", generator_rate, "rows/s", f"{BIG_ROWS:,} rows in {big.seconds:.1f} s, process start to upload done"),
        Figure("naive_generator_rows_per_s", naive_rate, "rows/s", f"{NAIVE_GENERATOR_ROWS:,} rows in {naive.seconds:.1f} s"),
    ]  # fmt: skip
    runs = {"big": big, "memory": memory, "small": small, "batch": batch}
    keys = {name: measured.result["key"] for name, measured in runs.items()}
    measurements = {
        "generator_seconds": {"1m": big.seconds, "100k": memory.seconds, "10k": small.seconds, "naive": naive.seconds},
        "generator_rss_mb": {"1m": big.peak_rss_mb, "100k": memory.peak_rss_mb, "10k": small.peak_rss_mb},
        "keys": keys,
    }
    return figures, measurements, keys


def staged_fingerprint(db: str) -> tuple:
    """Aggregates that differ if any date was read day-first or any row lost."""
    return stack.query_one(
        db,
        f"select count(*), sum(sales), sum(profit), min(order_date), max(ship_date), sum(ship_date - order_date),"
        f" sum(extract(doy from order_date)) from {baselines.STAGING_TABLE}",
    )


def truncate_staging(db: str) -> None:
    with stack.connect(db) as conn:
        conn.execute(f"truncate {baselines.STAGING_TABLE}")


def bench_loader(steps: Steps, work: Path, keys: dict[str, str]) -> tuple[list[Figure], dict]:
    big_csv = stack.download(keys["big"], work / "big.csv")
    steps.run(BIG_DB, "loader", "create-schemas")

    with progress(f"baseline: executemany INSERT of {EXECUTEMANY_ROWS:,} rows, then {EXECUTE_LOOP_ROWS:,} single-row INSERTs"):
        executemany_seconds = baselines.executemany_insert(BIG_DB, big_csv, EXECUTEMANY_ROWS)
        loop_seconds = baselines.execute_loop_insert(BIG_DB, big_csv, EXECUTE_LOOP_ROWS)
    copies = []
    with progress(f"baseline: psql \\copy of {BIG_ROWS:,} rows from local disk, {LOAD_REPEATS} times"):
        for _ in range(LOAD_REPEATS):
            truncate_staging(BIG_DB)
            copies.append(baselines.psql_copy(BIG_DB, big_csv, steps.log))
    copied = staged_fingerprint(BIG_DB)

    def load(key: str) -> Measured:
        return steps.run(BIG_DB, "loader", "load", "--keys", json.dumps([key]), "--batch-id", "bench", "--mode", "initial")

    with progress(f"loader: {MEMORY_ROWS:,} rows, then {BIG_ROWS:,} rows {LOAD_REPEATS} times (S3 -> staging)"):
        memory_run = load(keys["memory"])
        loads = [load(keys["big"]) for _ in range(LOAD_REPEATS)]
    if staged_fingerprint(BIG_DB) != copied:
        raise BenchError(f"\\copy and the loader staged different data: {copied} != {staged_fingerprint(BIG_DB)}")

    loader_rate = max(m.rows_per_second(BIG_ROWS) for m in loads)
    copy_rate = max(m.rows_per_second(BIG_ROWS) for m in copies)
    executemany_rate, loop_rate = EXECUTEMANY_ROWS / executemany_seconds, EXECUTE_LOOP_ROWS / loop_seconds
    loader_rss = max(m.peak_rss_mb for m in loads)
    best = f"best of {LOAD_REPEATS}"
    figures = [
        Figure("loader_vs_copy", loader_rate / copy_rate, "x",
               f"loader CLI, S3 -> staging, validated / psql \\copy from disk ({best} each)", at_least(0.8)),
        Figure("loader_vs_naive_insert", loader_rate / executemany_rate, "x",
               f"loader / psycopg executemany INSERT ({EXECUTEMANY_ROWS:,} rows, pipelined)"),
        Figure("loader_vs_execute_loop", loader_rate / loop_rate, "x",
               f"loader / one execute() per row ({EXECUTE_LOOP_ROWS:,} rows)"),
        Figure("loader_rss_mb_100k", memory_run.peak_rss_mb, "MB", f"peak RSS, {MEMORY_ROWS:,} rows", below(MEMORY_LIMIT_MB)),
        Figure("loader_rss_mb_1m", loader_rss, "MB", f"peak RSS, {BIG_ROWS:,} rows",
               flat(MEMORY_LIMIT_MB, memory_run.peak_rss_mb)),
        Figure("loader_rows_per_s", loader_rate, "rows/s", f"{BIG_ROWS:,} rows: " + ", ".join(f"{m.seconds:.1f} s" for m in loads)),
        Figure("copy_rows_per_s", copy_rate, "rows/s", f"{BIG_ROWS:,} rows: " + ", ".join(f"{m.seconds:.1f} s" for m in copies)),
        Figure("executemany_rows_per_s", executemany_rate, "rows/s", f"{EXECUTEMANY_ROWS:,} rows in {executemany_seconds:.1f} s"),
        Figure("execute_loop_rows_per_s", loop_rate, "rows/s", f"{EXECUTE_LOOP_ROWS:,} rows in {loop_seconds:.1f} s"),
    ]  # fmt: skip
    measurements = {
        "loader_seconds_1m": [m.seconds for m in loads],
        "loader_seconds_100k": memory_run.seconds,
        "copy_seconds_1m": [m.seconds for m in copies],
        "executemany_seconds": executemany_seconds,
        "execute_loop_seconds": loop_seconds,
        "staged_fingerprint": [str(value) for value in copied],
    }
    return figures, measurements


# The initial DAG's steps after the load.
PUBLISH_INITIAL = [("dbt", "build", "--mode", "initial"), ("loader", "drop-staging"), ("soda", "scan")]


def initial_load(key: str) -> list[tuple[str, ...]]:
    return [
        ("loader", "create-schemas"),
        ("loader", "load", "--keys", json.dumps([key]), "--batch-id", "bench-initial", "--mode", "initial"),
        *PUBLISH_INITIAL,
    ]


def incremental_load(key: str) -> list[tuple[str, ...]]:
    return [
        ("loader", "create-schemas"),
        ("loader", "load", "--keys", json.dumps([key]), "--batch-id", "bench-batch", "--mode", "incremental"),
        ("dbt", "build", "--mode", "incremental"),
        ("loader", "drop-staging"),
        ("soda", "scan"),
    ]


def order_ids(csv_path: Path) -> list[str]:
    with csv_path.open(newline="", encoding="utf-8") as file:
        return sorted({row["Order ID"] for row in csv.DictReader(file)})


def seconds_of(run: dict[str, Measured]) -> dict[str, float]:
    return {step: round(measured.seconds, 2) for step, measured in run.items()}


def bench_incremental(steps: Steps, work: Path, keys: dict[str, str]) -> tuple[list[Figure], dict]:
    with progress(f"facts: publish {BIG_ROWS:,} rows (staged by the loader above) and {SMALL_FACT_ROWS:,} rows"):
        big_fact = steps.run_all(BIG_DB, PUBLISH_INITIAL)
        small_fact = steps.run_all(SMALL_DB, initial_load(keys["small"]))
    batch_orders = order_ids(stack.download(keys["batch"], work / "batch.csv"))
    for db in (BIG_DB, SMALL_DB):
        (clashes,) = stack.query_one(db, "select count(*) from analytics.dim_orders where order_id = any(%s)", batch_orders)
        if clashes:
            raise BenchError(f"the batch reuses {clashes} order ids of {db}'s fact")

    runs = {}
    for db, fact_rows in ((SMALL_DB, SMALL_FACT_ROWS), (BIG_DB, BIG_ROWS)):
        with progress(f"incremental: the {BATCH_ROWS:,}-row batch on the {fact_rows:,}-row fact"):
            runs[db] = steps.run_all(db, incremental_load(keys["batch"]))
        loaded = runs[db]["loader load"].result["loaded_rows"]
        if loaded != BATCH_ROWS:
            raise BenchError(f"incremental load on {db} staged {loaded} rows, expected {BATCH_ROWS}")
    small, big = (sum(m.seconds for m in runs[db].values()) for db in (SMALL_DB, BIG_DB))

    def split(db: str) -> str:
        return ", ".join(f"{step.split()[-1]} {measured.seconds:.1f}" for step, measured in runs[db].items())

    figures = [
        Figure("incremental_growth", big / small, "x",
               f"same {BATCH_ROWS:,}-row batch: {big:.1f} s on {BIG_ROWS:,} / {small:.1f} s on {SMALL_FACT_ROWS:,} fact rows",
               at_most(1.5)),
        Figure("incremental_seconds_10k", small, "s", split(SMALL_DB)),
        Figure("incremental_seconds_1m", big, "s", split(BIG_DB)),
        Figure("initial_build_seconds_1m", big_fact["dbt build"].seconds, "s",
               f"dbt build --full-refresh of {BIG_ROWS:,} rows (soda scan {big_fact['soda scan'].seconds:.1f} s)"),
    ]  # fmt: skip
    measurements = {
        "initial_steps_seconds": {SMALL_DB: seconds_of(small_fact), BIG_DB: seconds_of(big_fact)},
        "incremental_steps_seconds": {db: seconds_of(run) for db, run in runs.items()},
    }
    return figures, measurements


def bench_end_to_end() -> tuple[list[Figure], dict]:
    with progress(f"end to end: Airflow DAG {E2E_CONF} on {SMALL_DB}"):
        run = run_incremental_batch(SMALL_DB, E2E_CONF, LOG)
    figures = [
        Figure("e2e_seconds", run["seconds"], "s",
               f"{run['rows']:,} rows, S3 put -> published and checked; tasks sum to {sum(run['tasks'].values()):.1f} s",
               below(60)),
        *(Figure(f"e2e_task_{task}", seconds, "s", "") for task, seconds in run["tasks"].items()),
    ]  # fmt: skip
    return figures, {"e2e": run}


def main() -> None:
    started = time.perf_counter()
    if not REFERENCE_CSV.is_file():
        raise SystemExit(f"reference data set {REFERENCE_CSV} not found (set BENCH_REFERENCE to a Superstore CSV with US dates)")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    console.rule("[bold]make bench[/]")
    with LOG.open("w") as log, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        steps, work = Steps(VENVS, log), Path(tmp)
        stack.recreate_databases(GENERATOR_DB, BIG_DB, SMALL_DB)
        stack.delete_prefix(PREFIX)
        try:
            generator, generator_data, keys = bench_generator(steps, work)
            loader, loader_data = bench_loader(steps, work, keys)
            incremental, incremental_data = bench_incremental(steps, work, keys)
        finally:
            stack.delete_prefix(PREFIX)  # moto keeps objects in memory
    end_to_end, e2e_data = bench_end_to_end()
    sections = [("loader", loader), ("generator", generator), ("incremental", incremental), ("end to end", end_to_end)]
    seconds = time.perf_counter() - started
    write_json(REPORT, sections, {**loader_data, **generator_data, **incremental_data, **e2e_data, "seconds": seconds})
    print_table(sections, seconds)
    console.print(f"report: {REPORT}\nstep logs: {LOG}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        raise SystemExit(f"bench failed: {error}") from None
