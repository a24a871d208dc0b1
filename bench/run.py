"""make bench: how fast the pipeline's steps are next to baselines measured
in the same run (ratios, not absolute times: the machine is shared and
noisy). Prints one table, writes reports/bench.json; the steps' output goes
to reports/bench.log. What each figure means: bench/README.md."""

import sys
import tempfile
import time
from pathlib import Path

import stack
from e2e import bench_end_to_end
from generation import bench_generator
from incremental import bench_incremental, initial_load
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
from scheduler import bench_dag_parse, bench_scheduler_vs_dag_test

from report import console, print_table, progress, write_json


def main(only_scheduler: bool = False) -> None:
    """`bench/run.py scheduler`: only the DAG parse and scheduler figures
    (on a fact of their own: the reference file, initially loaded)."""
    started = time.perf_counter()
    if not REFERENCE_CSV.is_file():
        raise BenchError(f"no reference data set at {REFERENCE_CSV} (BENCH_REFERENCE: a Superstore CSV with US dates)")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    console.rule("[bold]make bench[/]")
    sections, measurements = [], {}
    with LOG.open("w") as log, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if not only_scheduler:
            stack.recreate_databases(GENERATOR_DB, BIG_DB, SMALL_DB)
            stack.delete_prefix(PREFIX)
            steps, work = Steps(VENVS, log), Path(tmp)
            try:
                generator, generator_data, inputs = bench_generator(steps, work)
                loader, loader_data = bench_loader(steps, work, inputs)
                rebuild, rebuild_data, big_fact = bench_rebuild(steps)
                incremental, incremental_data = bench_incremental(steps, work, inputs, big_fact)
            finally:
                stack.delete_prefix(PREFIX)  # moto keeps every object in memory
            sections += [
                ("loader", loader),
                ("generator", generator),
                ("rebuild", rebuild),
                ("incremental", incremental),
            ]
            measurements.update({**loader_data, **generator_data, **rebuild_data, **incremental_data})
        else:
            # a fact of the current schema to run the batches into: the reference file's initial load
            with progress(f"fact for the scheduler runs: {REFERENCE_CSV.name} published into {SMALL_DB}"):
                stack.recreate_databases(SMALL_DB)
                key = stack.upload(REFERENCE_CSV, f"{PREFIX}reference.csv")
                try:
                    Steps(VENVS, log).run_all(SMALL_DB, initial_load(key))
                finally:
                    stack.delete_prefix(PREFIX)
    parse, parse_data = bench_dag_parse()
    scheduler, scheduler_data = bench_scheduler_vs_dag_test()
    # e2e_seconds: the best of the dag.test() runs the scheduler was compared with
    best_dag_test = min(scheduler_data["scheduler"]["runs"]["dag_test"], key=lambda run: run["seconds"])
    end_to_end, e2e_data = bench_end_to_end(best_dag_test)
    sections += [("end to end", end_to_end), ("scheduler", parse + scheduler)]
    seconds = time.perf_counter() - started
    write_json(REPORT, sections, {**measurements, **e2e_data, **parse_data, **scheduler_data, "seconds": seconds})
    print_table(sections, seconds)
    console.print(f"report: {REPORT}\nstep logs: {LOG}")


if __name__ == "__main__":
    try:
        main(only_scheduler=sys.argv[1:] == ["scheduler"])
    except BenchError as error:
        raise SystemExit(f"bench failed: {error}") from None
