"""The report's own warehouse: the real pipeline run on a database, bucket and
event queues of this suite's own (dag.test with the local runner, as the
e2e suite does), so the ops tables, the ledger and the published tables
hold what real runs recorded: a published initial load, a published batch,
a batch the loader rejects (a bad value) and one the audit rejects."""

from pathlib import Path

import pytest
from report_kit import INCREMENTAL, REPORT_DB, SCREENSHOTS, attach_audit_failure, put_csv, query, read_csv, run
from stack import environ, fresh_database, own_lake, source_csv
from superstore_orchestration.local_run import RunRecord


@pytest.fixture(scope="session")
def pipeline_runs() -> list[RunRecord]:
    fresh_database(REPORT_DB)
    with environ({"WAREHOUSE_DB": REPORT_DB}), own_lake("report"):
        records = [run("superstore_initial_load", source=str(source_csv()))]
        records.append(run(INCREMENTAL, rows=120, seed=7, as_of="2024-03-01"))
        rows = read_csv(records[-1].result("generate")["key"])
        bad_value = [{**r, "Order ID": f"CA-2097-1{r['Order ID'][-5:]}"} for r in rows[:12]]
        bad_value[4]["Quantity"] = "2.5"  # the loader rejects the row, and so the object
        put_csv("incoming/manual/bad-quantity.csv", bad_value)
        records.append(run(INCREMENTAL, generate=False))
        negative = [{**r, "Order ID": f"CA-2097-2{r['Order ID'][-5:]}"} for r in rows[:20]]
        negative[2]["Quantity"] = "-3"  # parses, the audit rejects the load
        put_csv("incoming/manual/negative-quantity.csv", negative)
        records.append(run(INCREMENTAL, generate=False))
        failing = "select count(*) from ops.check_results where run_id = %s and status = 'fail'"
        if not query(failing, records[3].run_id)[0][0]:
            attach_audit_failure(records[3].run_id)
        yield records


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
