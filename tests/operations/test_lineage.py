"""OpenLineage: every step emits START and COMPLETE/FAIL under its Airflow
task's run, and the events' datasets make the graph S3 object -> raw ->
staging -> each mart, for both DAGs."""

from collections import defaultdict

import pytest
from operations_kit import query
from stack import lineage_events
from superstore_orchestration import steps

MARTS = ("dim_customers", "dim_dates", "dim_locations", "dim_orders", "dim_products", "fct_sales")


def _name(dataset: dict) -> str:
    return f"{dataset['namespace']}/{dataset['name']}"


def _graph(events: list[dict]) -> dict[str, set[str]]:
    edges = defaultdict(set)
    for event in events:
        if event["eventType"] == "COMPLETE":
            for source in event.get("inputs", []):
                for target in event.get("outputs", []):
                    edges[_name(source)].add(_name(target))
    return edges


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _run_events(events: list[dict], dag_id: str, airflow_runs: set[str]) -> list[dict]:
    """Events of the steps whose parent is one of the given Airflow task runs, and of their parts."""
    mine = [e for e in events if e["run"]["facets"].get("parent", {}).get("run", {}).get("runId") in airflow_runs]
    step_runs = {e["run"]["runId"] for e in mine}
    parts = [e for e in events if e["run"]["facets"].get("parent", {}).get("run", {}).get("runId") in step_runs]
    return mine + parts


def _airflow_task_runs(events: list[dict], dag_id: str, run_id: str) -> dict[str, str]:
    """The Airflow provider's own task events of one DAG run: task id -> OpenLineage run id."""
    runs = {}
    for e in events:
        job = e["job"]["name"]
        dag_run = e["run"]["facets"].get("airflow", {}).get("dagRun", {})
        if "apache/airflow" in e["producer"] and job.startswith(f"{dag_id}.") and dag_run.get("run_id") == run_id:
            runs[job.removeprefix(f"{dag_id}.")] = e["run"]["runId"]
    return runs


@pytest.mark.parametrize("run_name", ["initial", "good"])
def test_each_step_runs_under_its_airflow_task_and_reports_start_and_end(runs, operated, run_name):
    run = runs[run_name]
    events = lineage_events(operated["lineage"])
    tasks = _airflow_task_runs(events, run.dag_id, run.run_id)
    step_tasks = [t for t in run.tasks if t in {s.task_id for s in steps.ALL_STEPS} and run.tasks[t].state == "success"]
    assert step_tasks
    for task_id in step_tasks:
        assert task_id in tasks, f"no Airflow OpenLineage event for {task_id}"
        own = [e for e in events if e["run"]["facets"].get("parent", {}).get("run", {}).get("runId") == tasks[task_id]]
        assert {e["eventType"] for e in own} >= {"START", "COMPLETE"}, task_id
        assert all(e["job"]["name"].startswith(f"{run.dag_id}.{task_id}.") for e in own)


@pytest.mark.parametrize("run_name", ["initial", "good"])
def test_the_graph_goes_from_the_s3_object_through_raw_and_staging_to_every_mart(runs, operated, run_name):
    run = runs[run_name]
    events = lineage_events(operated["lineage"])
    graph_events = _run_events(events, run.dag_id, set(_airflow_task_runs(events, run.dag_id, run.run_id).values()))
    edges = _graph(graph_events)
    producer = run.result("put_source") or run.result("generate")
    obj = f"s3://{producer['bucket']}/{producer['key']}"
    raw = next(n for n in edges.get(obj, ()) if n.endswith(".raw.order_lines"))
    staging = next(n for n in edges.get(raw, ()) if n.endswith(".stg_orders"))
    reached = _reachable(edges, staging)
    for mart in MARTS:
        assert any(n.endswith(f".analytics.{mart}") for n in reached), mart


def test_published_marts_carry_their_schema_and_row_count(runs, operated):
    events = lineage_events(operated["lineage"])
    run = runs["initial"]
    graph_events = _run_events(events, run.dag_id, set(_airflow_task_runs(events, run.dag_id, run.run_id).values()))
    published = {
        o["name"].rsplit(".", 1)[-1]: o
        for e in graph_events
        if e["eventType"] == "COMPLETE"
        for o in e.get("outputs", [])
        if ".analytics." in o["name"] and "outputStatistics" in o.get("outputFacets", {})
    }
    assert set(published) == set(MARTS)
    fact = published["fct_sales"]
    # the initial run published all of its rows; nothing since changed the count of that run's facts
    assert (
        fact["outputFacets"]["outputStatistics"]["rowCount"]
        == query("select count(*) from analytics.fct_sales where load_id = %s", run.result("load")["load_ids"][0])[0][0]
    )
    assert {"load_id", "loaded_at", "sales"} <= {f["name"] for f in fact["facets"]["schema"]["fields"]}
