"""Case 5: two runs of the incremental flow at once on the same object
version (two loader + dbt sequences, different run ids, started together
as processes): it is published once, its rows are in the raw layer and in
the fact once. One run may fail, with one line, retryably (it lost the race
to the publish); its retry is then a no-op."""

import threading

from faults_checks import RETRYABLE


def incremental_flow(stack, obj, run_id: str, db: str, outcome: dict) -> None:
    """load -> build (its load ids) -> drop-staging, as the DAG chains them."""
    loaded = stack.load([obj], db)
    outcome["load"] = loaded
    if loaded.returncode:
        return
    outcome["build"] = stack.build(loaded.result["load_ids"], run_id, db)
    outcome["drop"] = stack.drop_staging(run_id, db)


def test_two_runs_at_once_on_one_object_publish_it_once(stack, databases, batch):
    warehouse = databases("fault")
    before = warehouse.exact_published()

    outcomes = {run_id: {} for run_id in ("run-a", "run-b")}
    threads = [
        threading.Thread(target=incremental_flow, args=(stack, batch.obj, run_id, warehouse.db, outcome))
        for run_id, outcome in outcomes.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    loads = [outcome["load"] for outcome in outcomes.values()]
    for load in loads:  # the loaders serialise on the ledger: both stage it, only one copies it
        assert load.ok()["load_ids"] == [batch.load_id]
    assert sorted(load.result["loaded_rows"] for load in loads) == [batch.source.rows] * 2
    builds = {run_id: outcome["build"] for run_id, outcome in outcomes.items()}
    published = [run_id for run_id, build in builds.items() if build.returncode == 0 and build.result["published"]]
    assert len(published) == 1, {run_id: (b.returncode, b.result, b.error_lines) for run_id, b in builds.items()}
    (winner,) = published
    for run_id, build in builds.items():
        if run_id == winner:
            continue
        if build.returncode == 0:  # came late: found it published and did nothing
            assert build.result["published"] == [], build.result
        else:  # lost the race: a conflict, in one line
            line = build.one_line_error()
            assert "another run published while this one audited" in line or "not audited" in line, line
            assert warehouse.state(batch.load_id) == "published", line
            # the retry of the losing run: load (skips the published object), build (nothing to do)
            retry_load = stack.load([batch.obj], warehouse.db).ok()
            assert retry_load["load_ids"] == []
            assert [o["status"] for o in retry_load["objects"]] == ["published"]
            retry = stack.build(retry_load["load_ids"], run_id, warehouse.db).ok()
            assert retry["published"] == []
            stack.drop_staging(run_id, warehouse.db).ok()

    assert warehouse.state(batch.load_id) not in RETRYABLE
    assert warehouse.exact_published() != before
    batch.assert_as_clean(warehouse)
