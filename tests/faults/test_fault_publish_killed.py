"""Case 2: superstore-dbt killed (SIGTERM, kill -9) in the middle of the
publish transaction. The test holds a lock on the last mart the publish
writes (fct_sales), so the publish is caught for certain after it has
written every other mart and taken the ledger's lock: the `delete ...
using` of a merge, the `drop table` before `alter table ... set schema` of a
rebuild. Nothing of it may be seen, during the fault or after; the retry
(the same build again) publishes once."""

import signal

import pytest
from faults_stack import PUBLISHED


def stage(stack, warehouse, obj) -> str:
    (load_id,) = stack.load([obj], warehouse.db).ok()["load_ids"]
    assert warehouse.state(load_id) == "staged"
    return load_id


def waiting_on_fct_sales(backend: dict) -> bool:
    query = " ".join(backend["query"].split()).lower()
    return (
        backend["application_name"] == "superstore-dbt"
        and backend["wait_event_type"] == "Lock"
        and (query.startswith(f'delete from "{PUBLISHED}"."fct_sales" using') or "fct_sales" in query)
    )


@pytest.mark.parametrize(
    ("sig", "mode"),
    [(signal.SIGTERM, "incremental"), (signal.SIGKILL, "incremental"), (signal.SIGKILL, "initial")],
    ids=["sigterm-merge", "kill9-merge", "kill9-rebuild"],
)
def test_killed_during_publish_publishes_nothing_and_the_retry_publishes_once(stack, databases, batch, sig, mode):
    warehouse = databases(f"{mode}_{sig.name}")
    load_id = stage(stack, warehouse, batch.obj)
    before = warehouse.exact_published()

    with stack.pg.connect(warehouse.db) as blocker:
        with blocker.transaction():
            blocker.execute(f'lock table "{PUBLISHED}".fct_sales in share mode')
            run = stack.start_build([load_id], "faulty-run", warehouse.db, mode)
            publishing = stack.pg.wait_for_backend(warehouse.db, waiting_on_fct_sales, "the publish to reach fct_sales")
            statement = " ".join(publishing["query"].split())
            if mode == "incremental":
                assert statement.startswith(f'delete from "{PUBLISHED}"."fct_sales" using'), statement
                # During the fault: the audit passed, the publish is half done, and none of it shows.
                assert warehouse.state(load_id) == "audited"
                assert warehouse.exact_published() == before
            else:  # the rebuild holds every other mart exclusively: look once it is gone
                assert statement == f'drop table if exists "{PUBLISHED}"."fct_sales"', statement
            run.signal(sig)
            killed = run.wait()
        # the lock is released: the publish's backend goes on, finds its client gone, rolls back
    assert killed.returncode == -sig
    stack.pg.wait_until_gone(warehouse.db, {"superstore-dbt", "dbt"})

    assert warehouse.exact_published() == before
    # Killed: nothing could be recorded, the load is as the publish found it, retryable.
    assert warehouse.state(load_id) == "audited"
    assert warehouse.transitions(load_id)[-2:] == [("received", "staged"), ("staged", "audited")]
    warehouse.assert_ledger_consistent()

    retry = stack.build([load_id], "faulty-run", warehouse.db, mode).ok()
    stack.drop_staging("faulty-run", warehouse.db).ok()

    assert retry["published"] == [load_id]
    batch.assert_as_clean(warehouse)
    assert [to for _, to in warehouse.transitions(load_id)] == [
        "received", "staged", "audited", "staged", "audited", "published",
    ]  # fmt: skip
