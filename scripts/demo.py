"""The local demo: the initial load, then N incremental batches, each a real
Airflow DAG run (dag.test) with the local runner; prints progress, a summary
table and writes reports/last-run.json."""

import json
import os
import time
from decimal import Decimal

import psycopg
import typer
from rich.console import Console
from rich.table import Table
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
    load = record.result("load") or {}
    build = record.result("build") or {}
    scan = record.result("scan") or {}
    return {
        "dag_id": record.dag_id,
        "run_id": record.run_id,
        "kind": kind,
        "status": record.state,
        "errors": record.errors,
        "source_rows": load.get("source_rows"),
        "loaded_rows": load.get("loaded_rows"),
        "rejected_rows": load.get("rejected_rows"),
        "source_sales_sum": load.get("sales_sum"),
        "source_profit_sum": load.get("profit_sum"),
        "objects": [o["key"] for o in load.get("objects", [])],
        "published_loads": build.get("published", []),
        "rejected_loads": build.get("rejected", []),
        "tables": build.get("tables", {}),
        "checks": {
            "passed": scan.get("passed", 0) + build.get("tests_passed", 0),
            "failed": scan.get("failed", 0) + len(build.get("rejected", [])),
        },
        "steps": [{"step": t.task_id, "state": t.state, "seconds": t.seconds} for t in record.tasks.values()],
    }


def published_totals() -> dict:
    env = os.environ
    schema = env.get("WAREHOUSE_PUBLISHED_SCHEMA", "analytics")
    with psycopg.connect(
        host=env["WAREHOUSE_HOST"],
        port=env["WAREHOUSE_PORT"],
        dbname=env["WAREHOUSE_DB"],
        user=env["WAREHOUSE_USER"],
        password=env["WAREHOUSE_PASSWORD"],
    ) as conn:
        rows, sales, profit = conn.execute(
            f"select count(*), coalesce(sum(sales), 0), coalesce(sum(profit), 0) from {schema}.fct_sales"
        ).fetchone()
    return {"fact_rows": rows, "fact_sales_sum": str(Decimal(sales)), "fact_profit_sum": str(Decimal(profit))}


def print_summary(runs: list[dict], published: dict) -> None:
    names = ["initial" if r["kind"] == "initial" else f"batch {i}" for i, r in enumerate(runs)]
    table = Table(title="Runs")
    for column in ("run", "status", "source rows", "loaded", "rejected", "fact rows", "checks ✓/✗", "seconds"):
        table.add_column(column, justify="left" if column in ("run", "status") else "right")
    for name, run_ in zip(names, runs, strict=True):
        fact = next((n for t, n in run_["tables"].items() if t.endswith("fct_sales")), None)
        table.add_row(
            name,
            "[green]success[/]" if run_["status"] == "success" else f"[red]{run_['status']}[/]",
            *(str(run_[k]) if run_[k] is not None else "-" for k in ("source_rows", "loaded_rows", "rejected_rows")),
            str(fact) if fact is not None else "-",
            f"{run_['checks']['passed']}/{run_['checks']['failed']}",
            f"{sum(s['seconds'] for s in run_['steps']):.1f}",
        )
    console.print(table)

    steps = Table(title="Seconds per step")
    steps.add_column("step")
    for name in names:
        steps.add_column(name, justify="right")
    seconds = [{s["step"]: s["seconds"] for s in r["steps"]} for r in runs]
    for step in dict.fromkeys(s for r in runs for s in (x["step"] for x in r["steps"])):
        steps.add_row(step, *(f"{s[step]:.1f}" if step in s else "" for s in seconds))
    console.print(steps)

    latest = next((r["tables"] for r in reversed(runs) if r["tables"]), {})
    tables = Table(title="Published tables")
    tables.add_column("table")
    tables.add_column("rows", justify="right")
    for name, rows in sorted(latest.items()):
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
    if runs[0]["status"] == "success":
        for i in range(batches):
            runs.append(run("incremental", "superstore_incremental_load", {"rows": rows, "seed": i + 1}))
    published = published_totals()
    REPORT.write_text(json.dumps({"runs": runs, "published": published}, indent=2, ensure_ascii=False))
    print_summary(runs, published)
    console.print(f"report: {REPORT}\nairflow log: {AIRFLOW_LOG}")
    if any(r["status"] != "success" for r in runs):
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
