"""Case 3: PostgreSQL restarted (pg_ctl restart) while superstore-dbt
builds: during the audit (dbt's models and checks) with `-m fast`, and in
the middle of the publish transaction with `-m immediate` (a crash and its
recovery). The build exits 1 with one line; the loads are left retryable,
never rejected (a lost warehouse says nothing about the data); the
published tables are as before; the retry publishes once."""

import pytest
from faults_checks import RETRYABLE
from faults_stack import PUBLISHED
from test_fault_publish_killed import stage, waiting_on_fct_sales


def dbt_at_work(backend: dict) -> bool:
    """dbt (its own connections, not the entrypoint's) running a model's or a check's SQL."""
    return backend["application_name"] == "dbt" and backend["state"] == "active"


@pytest.mark.parametrize(("mode", "when"), [("fast", "audit"), ("immediate", "publish")])
def test_a_warehouse_restart_fails_the_build_in_one_line_and_leaves_the_loads_retryable(
    stack, databases, batch, mode, when
):
    warehouse = databases(f"{mode}_{when}")
    load_id = stage(stack, warehouse, batch.obj)
    before = warehouse.exact_published()

    if when == "audit":
        run = stack.start_build([load_id], "faulty-run", warehouse.db)
        stack.pg.wait_for_backend(warehouse.db, dbt_at_work, "dbt to run the audit's SQL")
        stack.pg.restart(mode)
    else:
        blocker = stack.pg.connect(warehouse.db)
        blocker.execute("begin")
        blocker.execute(f'lock table "{PUBLISHED}".fct_sales in share mode')
        run = stack.start_build([load_id], "faulty-run", warehouse.db)
        stack.pg.wait_for_backend(warehouse.db, waiting_on_fct_sales, "the publish to reach fct_sales")
        stack.pg.restart(mode)
        blocker.close()  # gone with the restart
    failed = run.wait()

    line = failed.one_line_error()
    # The connection dropped, or (dbt connecting anew while the server went down or was down) refused.
    dropped = ("server closed the connection", "Connection refused", "the database system is shutting down",
               "terminating connection", "the database system is starting up")  # fmt: skip
    assert any(reason in line for reason in dropped), line
    state = warehouse.state(load_id)
    assert state in RETRYABLE, (state, line)
    assert "rejected" not in [to for _, to in warehouse.transitions(load_id)]
    warehouse.assert_ledger_consistent()
    assert warehouse.exact_published() == before

    retry = stack.build([load_id], "faulty-run", warehouse.db).ok()
    stack.drop_staging("faulty-run", warehouse.db).ok()

    assert retry["published"] == [load_id]
    assert retry["rejected"] == []
    batch.assert_as_clean(warehouse)
