"""The local demo: the initial load, then N incremental batches, each a real
Airflow DAG run (dag.test) with the local runner; prints progress, a summary
table and writes reports/last-run.json, both from the ops tables the runs
recorded themselves in."""

import json
import os
import time

import typer
from rich.console import Console
from rich.table import Table
from superstore_common.ops import RunRecords
from superstore_common.settings import WarehouseSettings
from superstore_common.warehouse import connect, quote_ident
from superstore_orchestration.config import REPO_ROOT
from superstore_orchestration.local_run import RunRecord, output_to, run_dag

REPORT = REPO_ROOT / "reports" / "last-run.json"
AIRFLOW_LOG = REPO_ROOT / "reports" / "airflow.log"
# The terminal, kept aside before Airflow's output is sent to a file.
console = Console(file=os.fdopen(os.dup(1), "w", buffering=1))


def run(kind: str, dag_id: str, conf: dict) -> dict:
    started = {}

    def progress(event: str, task_id: str) -> None:
        if event == "start":
            started[task_id] = time.monotonic()
            console.print(f"  [dim]…[/] {task_id}", highlight=False)
        else:
            console.print(
                f"  [dim]done[/] {task_id} [dim]{time.monotonic() - started.get(task_id, time.monotonic()):.1f}s[/]"
            )

    console.rule(f"[bold]{dag_id}[/] {json.dumps(conf)}")
    with output_to(AIRFLOW_LOG):  # the terminal shows progress only
        record = run_dag(dag_id, conf, on_progress=progress)
    for error in record.errors:
        console.print(f"  [red]✗ {error}[/]")
    return summarize(kind, record)


def summarize(kind: str, record: RunRecord) -> dict:
    """The run as the ops tables recorded it (the record teardown's work)."""
    settings = WarehouseSettings()
    with connect(settings, "superstore-demo") as connection:
        run_ = RunRecords(connection, settings.ops_schema).run(record.dag_id, record.run_id)
    if run_ is None:
        raise typer.BadParameter(f"run {record.run_id} of {record.dag_id} was not recorded in the ops tables")
    steps = {s["task_id"]: s for s in run_["steps"]}
    checks = run_["checks"]
    return {
        **{k: run_[k] for k in ("dag_id", "run_id", "state", "seconds", "error")},
        "kind": kind,
        "errors": record.errors,
        "loaded_rows": steps.get("load", {}).get("rows"),
        "rejected_rows": steps.get("load", {}).get("rejected_rows"),
        "fact_rows": steps.get("build", {}).get("rows"),
        "checks": {status: sum(c["status"] == status for c in checks) for status in ("pass", "warn", "fail")},
        "steps": run_["steps"],
    }


def published_tables() -> dict:
    settings = WarehouseSettings()
    schema = quote_ident(settings.published_schema)
    with connect(settings, "superstore-demo") as connection:
        names = [n for (n,) in connection.fetchall(
            "select table_name from information_schema.tables where table_schema = %s order by 1",
            (settings.published_schema,),
        )]  # fmt: skip
        tables = {n: connection.fetchone(f"select count(*) from {schema}.{quote_ident(n)}")[0] for n in names}
        rows, sales, profit = connection.fetchone(
            f"select count(*), coalesce(sum(sales), 0), coalesce(sum(profit), 0) from {schema}.fct_sales"
        )
    return {"tables": tables, "fact_rows": rows, "fact_sales_sum": str(sales), "fact_profit_sum": str(profit)}


def _count(value) -> str:
    return "-" if value is None else f"{value:,}"


def print_summary(runs: list[dict], published: dict) -> None:
    names = ["initial" if r["kind"] == "initial" else f"batch {i}" for i, r in enumerate(runs)]
    table = Table(title="Runs")
    for column in ("run", "state", "loaded", "rejected", "fact rows", "checks ✓/!/✗", "seconds"):
        table.add_column(column, justify="left" if column in ("run", "state") else "right")
    for name, run_ in zip(names, runs, strict=True):
        table.add_row(
            name,
            "[green]success[/]" if run_["state"] == "success" else f"[red]{run_['state']}[/]",
            _count(run_["loaded_rows"]),
            _count(run_["rejected_rows"]),
            _count(run_["fact_rows"]),
            "/".join(str(run_["checks"][s]) for s in ("pass", "warn", "fail")),
            f"{run_['seconds']:.1f}" if run_["seconds"] is not None else "-",
        )
    console.print(table)

    steps = Table(title="Seconds per step (- : did not run)")
    steps.add_column("step")
    for name in names:
        steps.add_column(name, justify="right")
    by_run = [{s["task_id"]: s for s in r["steps"]} for r in runs]
    for step in dict.fromkeys(s["task_id"] for r in runs for s in r["steps"]):
        cells = []
        for seen in by_run:
            s = seen.get(step)
            if s is None:
                cells.append("")
            elif s["seconds"] is None:
                cells.append(f"[dim]- {s['state']}[/]")
            else:
                cells.append(f"{s['seconds']:.1f}" + ("" if s["state"] == "success" else f" [red]{s['state']}[/]"))
        steps.add_row(step, *cells)
    console.print(steps)

    tables = Table(title="Published tables")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for name, rows in published["tables"].items():
        tables.add_row(name, f"{rows:,}")
    console.print(tables)
    console.print(
        f"published fact: {published['fact_rows']} rows, sales {published['fact_sales_sum']}, "
        f"profit {published['fact_profit_sum']}"
    )


def main(
    source: str = typer.Option(..., help="Source CSV: local path or s3:// URI"),
    batches: int = typer.Option(3, help="Incremental batches after the initial load"),
    rows: int = typer.Option(1000, help="Order lines per incremental batch"),
) -> None:
    runs = [run("initial", "superstore_initial_load", {"source": source})]
    if runs[0]["state"] == "success":
        for i in range(batches):
            runs.append(run("incremental", "superstore_incremental_load", {"rows": rows, "seed": i + 1}))
    published = published_tables()
    REPORT.write_text(json.dumps({"runs": runs, "published": published}, indent=2, ensure_ascii=False, default=str))
    print_summary(runs, published)
    console.print(f"report: {REPORT}\nairflow log: {AIRFLOW_LOG}")
    if any(r["state"] != "success" for r in runs):
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
