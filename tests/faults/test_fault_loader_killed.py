"""Case 1: the loader killed (kill -9) in the middle of the COPY of a
1,000,000-line object. Nothing of it may be left in the raw layer, the load
stays `received` (a killed process records nothing), its OpenLineage run
ends with FAIL, and the retry copies its rows exactly once."""

import signal

from faults_stack import RAW, wait_until
from stack import lineage_events, lineage_file


def test_kill_9_mid_copy_leaves_nothing_and_the_retry_loads_it_once(stack, databases, million, tmp_path):
    warehouse = databases("fault")
    before = warehouse.exact_published()
    events = tmp_path / "lineage.jsonl"

    run = stack.start_load([million.obj], warehouse.db, **lineage_file(events))
    # Rows are flowing: the COPY has taken a good part of the object, not all of it.
    copying = stack.pg.wait_for_backend(
        warehouse.db,
        lambda b: b["application_name"] == "superstore-loader" and (b["copied"] or 0) >= 150_000,
        "the loader's COPY to be under way",
    )
    run.signal(signal.SIGKILL)
    killed = run.wait()
    assert killed.returncode == -signal.SIGKILL
    assert copying["copied"] < million.source.rows
    stack.pg.wait_until_gone(warehouse.db, {"superstore-loader"})

    assert warehouse.raw(million.load_id)[0] == 0  # the COPY's transaction is rolled back
    assert warehouse.state(million.load_id) == "received"
    assert warehouse.transitions(million.load_id) == [(None, "received")]
    # The load id is a column default only inside the load's transaction: gone with it.
    assert (
        warehouse.value(
            "select column_default from information_schema.columns"
            " where table_schema = %s and table_name = 'order_lines' and column_name = '_load_id'",
            RAW,
        )
        is None
    )
    assert warehouse.exact_published() == before
    # The lineage child outlives the step and ends its run: no run stays open.
    wait_until(lambda: len(lineage_events(events)) >= 2, 30, "the killed step's lineage run to end")
    started, end = lineage_events(events)
    assert [started["eventType"], end["eventType"]] == ["START", "FAIL"]
    assert end["run"]["runId"] == started["run"]["runId"]
    assert "killed" in end["run"]["facets"]["errorMessage"]["message"]

    retry = stack.load([million.obj], warehouse.db).ok()

    assert retry["load_ids"] == [million.load_id]
    assert retry["loaded_rows"] == million.source.rows
    assert warehouse.raw(million.load_id) == (million.source.rows, million.source.sales, million.source.profit)
    assert warehouse.raw_checksum(million.load_id) == million.raw_checksum
    assert warehouse.transitions(million.load_id) == [(None, "received"), ("received", "staged")]
    load = warehouse.loads()[million.load_id]
    assert (load.state, load.source_rows, load.raw_rows) == ("staged", million.source.rows, million.source.rows)
    warehouse.assert_ledger_consistent()
    assert warehouse.exact_published() == before
