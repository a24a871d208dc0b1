"""make bench: how fast the pipeline's steps are next to baselines measured
in the same run (ratios, not absolute times: the machine is shared and
noisy). Prints one table, writes reports/bench.json; the steps' output goes
to reports/bench.log. What each figure means: bench/README.md."""

import tempfile
import time
from pathlib import Path

import stack
from e2e import bench_end_to_end
from generation import bench_generator
from incremental import bench_incremental
from loading import bench_loader
from measure import BenchError, Steps
from plan import (
    BIG_DB,
    GENERATOR_DB,
    LOG,
    PREFIX,
    REFERENCE_CSV,
    REPORT,
    SMALL_DB,
    VENVS,
)
from rebuild import bench_rebuild
from report import console, print_table, write_json


def main() -> None:
    started = time.perf_counter()
    if not REFERENCE_CSV.is_file():
        raise BenchError(f"no reference data set at {REFERENCE_CSV} (BENCH_REFERENCE: a Superstore CSV with US dates)")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    console.rule("[bold]make bench[/]")
    stack.recreate_databases(GENERATOR_DB, BIG_DB, SMALL_DB)
    stack.delete_prefix(PREFIX)
    with LOG.open("w") as log, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        steps, work = Steps(VENVS, log), Path(tmp)
        try:
            generator, generator_data, inputs = bench_generator(steps, work)
            loader, loader_data = bench_loader(steps, work, inputs)
            rebuild, rebuild_data, big_fact = bench_rebuild(steps)
            incremental, incremental_data = bench_incremental(steps, work, inputs, big_fact)
        finally:
            stack.delete_prefix(PREFIX)  # moto keeps every object in memory
    end_to_end, e2e_data = bench_end_to_end()
    sections = [
        ("loader", loader),
        ("generator", generator),
        ("rebuild", rebuild),
        ("incremental", incremental),
        ("end to end", end_to_end),
    ]
    seconds = time.perf_counter() - started
    write_json(
        REPORT,
        sections,
        {**loader_data, **generator_data, **rebuild_data, **incremental_data, **e2e_data, "seconds": seconds},
    )
    print_table(sections, seconds)
    console.print(f"report: {REPORT}\nstep logs: {LOG}")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        raise SystemExit(f"bench failed: {error}") from None
