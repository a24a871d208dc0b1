"""Values the loader accepts and dbt's checks reject (write-audit-publish):
the load is staged in the raw layer, the build rejects it with the failing
check, the published tables never see it."""

from datetime import date, datetime, timedelta

import pytest
from bad_input_kit import (
    build,
    column,
    header,
    ledger,
    load,
    loader,
    published_checksums,
    put,
    query,
    raw_rows,
    rows,
    to_csv,
)


def day_before(text: str) -> str:
    """The day before a source date (US or ISO), in ISO (the loader takes both)."""
    day = date.fromisoformat(text) if "-" in text else datetime.strptime(text, "%m/%d/%Y").date()
    return (day - timedelta(days=1)).isoformat()


def ship_before_order(row: list[str]) -> None:
    row[column("Ship Date")] = day_before(row[column("Order Date")])


CHECKS = {
    # case: (how one row is changed, the check that fails)
    "ship date before order date": (ship_before_order, "stg_orders_shipped_after_ordered"),
    "negative quantity": (lambda row: row.__setitem__(column("Quantity"), "-3"), "stg_orders_quantity_positive"),
    "discount 1.5": (lambda row: row.__setitem__(column("Discount"), "1.5"), "stg_orders_discount_between_0_and_1"),
}
RUN_ID = "bad-input-checks"


@pytest.fixture(scope="module")
def verdicts(published):
    """Each case's file loaded (staged), then ONE incremental build with all of
    them as candidates: each load gets its own verdict."""
    staged = {}
    for number, (case, (change, _)) in enumerate(CHECKS.items()):
        body = rows(5, start=150)
        for line, row in enumerate(body):
            row[column("Order ID")] = f"BAD-{number}-{line}"  # new one-line orders: only the changed value is wrong
        change(body[2])
        obj = put(f"incoming/bad-input/checks/{number}.csv", to_csv(header(), body))
        run = load(obj)
        staged[case] = (obj, run)
    load_ids = [run.result["load_ids"][0] for _, run in staged.values() if run.returncode == 0]
    yield staged, build("incremental", load_ids, RUN_ID)
    assert loader("drop-staging", "--run-id", RUN_ID).returncode == 0  # as the DAG does after the build


@pytest.mark.parametrize("case", CHECKS)
def test_a_value_only_a_check_refuses_is_staged_then_rejected_by_the_build(verdicts, published, case):
    staged, built = verdicts
    obj, run = staged[case]
    _, check = CHECKS[case]

    # The loader takes it: the value fits its column.
    assert run.returncode == 0, run.stderr
    (result,) = run.result["objects"]
    assert (result["status"], result["rows"]) == ("staged", 5)
    load_id = result["load_id"]

    # The build gives its verdict (exit 0): this load rejected, with the failing check, nothing published.
    assert built.returncode == 0, built.stderr
    reason = f"1 check failed: {check}"
    assert {"load_id": load_id, "reason": reason} in built.result["rejected"]
    assert built.result["published"] == []
    assert (ledger(obj)["state"], ledger(obj)["reason"]) == ("rejected", reason)

    # Its rows stay in the raw layer for inspection; none reached the published fact.
    assert raw_rows(load_id) == 5
    assert query('select count(*) from "{published}".fct_sales where load_id = %s', load_id) == [(0,)]
    assert published_checksums() == published
