"""The generator next to Faker-for-every-field; it also writes every file the
other sections load."""

from dataclasses import dataclass
from pathlib import Path

import baselines
import plan
import stack
from measure import Measured, Steps

from report import Figure, at_least, flat, progress, seconds


@dataclass(frozen=True)
class Inputs:
    """S3 keys of the generated files."""

    big: str  # plan.BIG_ROWS: the loader's input and the big fact
    memory: str  # plan.MEMORY_ROWS: the loader's smaller run
    small: str  # plan.SMALL_FACT_ROWS: the small fact
    batches: tuple[str, ...]  # plan.BATCH_ROWS each, one per incremental run


def bench_generator(steps: Steps, work: Path) -> tuple[list[Figure], dict, Inputs]:
    reference = stack.s3_uri(stack.upload(plan.REFERENCE_CSV, f"{plan.PREFIX}reference/{plan.REFERENCE_CSV.name}"))

    def generate(rows: int, seed: int, as_of: str) -> Measured:
        return steps.run(
            plan.GENERATOR_DB, "generator", "generate", "--rows", str(rows), "--seed", str(seed), "--as-of", as_of,
            "--reference", reference, "--prefix", f"{plan.PREFIX}generated",
        )  # fmt: skip

    naive_runs, big_runs = [], []
    with progress(f"generator: {plan.BIG_ROWS:,} rows, and the Faker baseline; {plan.REPEATS} times"):
        for _ in range(plan.REPEATS):
            naive_csv = work / "naive.csv"
            naive_runs.append(baselines.naive_generator(plan.VENVS, plan.NAIVE_GENERATOR_ROWS, naive_csv, steps.log))
            if big_runs:  # an existing key is re-announced, not generated again
                stack.delete(big_runs[-1].result["key"])
            big_runs.append(generate(plan.BIG_ROWS, 1, plan.FACT_AS_OF))
    with progress("generator: the other files"):
        memory = generate(plan.MEMORY_ROWS, 2, plan.FACT_AS_OF)
        small = generate(plan.SMALL_FACT_ROWS, 3, plan.FACT_AS_OF)
        batches = [generate(plan.BATCH_ROWS, 10 + number, as_of) for number, as_of in enumerate(plan.BATCH_AS_OF)]

    generator_rate = max(run.rows_per_second(plan.BIG_ROWS) for run in big_runs)
    naive_rate = max(run.rows_per_second(plan.NAIVE_GENERATOR_ROWS) for run in naive_runs)
    big_rss = max(run.peak_rss_mb for run in big_runs)
    figures = [
        Figure("generator_vs_naive", generator_rate / naive_rate, "x",
               f"generator CLI, {plan.BIG_ROWS:,} rows to S3 / Faker per field (best of {plan.REPEATS} each)", at_least(50)),
        Figure("generator_rss_mb_1m", big_rss, "MB",
               f"peak RSS; {plan.MEMORY_ROWS:,} rows: {memory.peak_rss_mb:.0f} MB, {plan.SMALL_FACT_ROWS:,}: {small.peak_rss_mb:.0f} MB",
               flat(plan.MEMORY_LIMIT_MB, memory.peak_rss_mb)),
        Figure("generator_rows_per_s", generator_rate, "rows/s",
               f"{plan.BIG_ROWS:,} rows, process start to upload done: {seconds(big_runs)}"),
        Figure("naive_generator_rows_per_s", naive_rate, "rows/s", f"{plan.NAIVE_GENERATOR_ROWS:,} rows: {seconds(naive_runs)}"),
    ]  # fmt: skip
    measurements = {
        "generator_seconds_1m": [run.seconds for run in big_runs],
        "naive_generator_seconds": [run.seconds for run in naive_runs],
        "generator_rss_mb": {"1m": big_rss, "100k": memory.peak_rss_mb, "10k": small.peak_rss_mb},
    }
    inputs = Inputs(
        big=big_runs[-1].result["key"],
        memory=memory.result["key"],
        small=small.result["key"],
        batches=tuple(batch.result["key"] for batch in batches),
    )
    return figures, measurements, inputs
