"""Issue 10: both DAGs end to end under the real scheduler (LocalExecutor,
dag-processor, triggerer), triggered and followed through the REST API."""

import csv
from decimal import Decimal

from scheduler_kit import FACT, fact_totals, query, session_processes
from stack import source_csv


def csv_totals(path) -> tuple[int, Decimal, Decimal]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return len(rows), sum(Decimal(r["Sales"]) for r in rows), sum(Decimal(r["Profit"]) for r in rows)


def failed_tasks(run: dict) -> dict[str, str]:
    return {task: ti["state"] for task, ti in run["tasks"].items() if ti["state"] not in ("success", "skipped")}


def test_the_server_is_healthy_with_both_dags_unpaused(scheduler):
    health = scheduler.health()
    assert {health[c] for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")} == {"healthy"}, health
    dags = {d["dag_id"]: d for d in scheduler.dags()}
    assert {"superstore_initial_load", "superstore_incremental_load"} <= set(dags)
    assert not any(d["is_paused"] for d in dags.values())
    assert scheduler.import_errors() == []
    # every service leads a session of its own, which `down` stops whole
    assert len(session_processes(scheduler.home)) >= 4


def test_initial_run_publishes_every_line_of_the_file(initial_run, scheduler):
    assert initial_run["state"] == "success", (failed_tasks(initial_run), initial_run)
    assert not failed_tasks(initial_run)
    rows, sales, profit = csv_totals(source_csv())
    assert initial_run["fact_totals"] == (rows, sales, profit)
    load = scheduler.xcom("superstore_initial_load", initial_run["dag_run_id"], "load")
    assert (load["loaded_rows"], load["rejected_rows"]) == (rows, 0)
    assert query("select count(*) from information_schema.schemata where schema_name like 'staging%%'")[0][0] == 0


def test_incremental_run_takes_its_batch_from_the_event_and_publishes_it(incremental_run, initial_run, scheduler):
    assert incremental_run["state"] == "success", (failed_tasks(incremental_run), incremental_run)
    assert not failed_tasks(incremental_run)
    generated = scheduler.xcom("superstore_incremental_load", incremental_run["dag_run_id"], "generate")
    assert generated["rows"] == 300
    rows, sales, profit = csv_totals(source_csv())
    assert fact_totals() == (
        rows + generated["rows"],
        sales + Decimal(generated["sales_sum"]),
        profit + Decimal(generated["profit_sum"]),
    )
    assert query(f"select count(*) from {FACT} where load_id = %s", generated["load_id"])[0][0] == 300
    assert query("select state from raw.loads where key = %s", generated["key"]) == [("published",)]
    # its own lake, not the shared one (the server's environment: os.environ
    # is another module's while a session fixture of its own is active)
    assert generated["bucket"] == scheduler.env["RAW_BUCKET"] and generated["bucket"].startswith("lake-sched-")
