"""What a scan records, run as an Airflow task's step (AIRFLOW_CTX_*): one
CheckResult per check in checks.json (status, failing rows, the load it was
scoped to, Soda's failed-rows samples), Soda's scan_results.json, and the
step record's rows and input datasets; a failed scan records all of it too.
The step's result (XCom) stays small: counts and outcomes, no rows."""

import json

from conftest import DATABASE, PUBLISHED_SCHEMA
from test_scan import CHECKS, TABLES

RECORDED_FIELDS = {"check", "dataset", "status", "failing_rows", "load_id", "sample"}


def by_name(run) -> dict[str, dict]:
    return {check["check"]: check for check in run.artifacts["checks.json"]}


def test_a_clean_scan_records_every_check(star_schema, soda_scan, step_env):
    run = soda_scan(recorded=True)

    assert run.returncode == 0, run.stderr
    record = run.record
    assert record["state"] == "success" and record["command"] == "scan"
    assert record["rows"] == CHECKS  # the checks evaluated
    assert {(dataset["name"], dataset["namespace"]) for dataset in record["inputs"]} == {
        (
            f"{DATABASE}.{PUBLISHED_SCHEMA}.{table}",
            f"postgres://{step_env['WAREHOUSE_HOST']}:{step_env['WAREHOUSE_PORT']}",
        )
        for table in TABLES
    }
    assert sorted(record["artifacts"]) == ["checks.json", "scan_results.json"]
    checks = run.artifacts["checks.json"]
    assert len(checks) == CHECKS == len(by_name(run))  # names are unique: samples are kept by name
    assert all(set(check) == RECORDED_FIELDS for check in checks)
    assert {check["status"] for check in checks} == {"pass"}
    assert {check["dataset"] for check in checks} == TABLES
    assert all(check["sample"] == [] and check["load_id"] is None for check in checks)
    # counts of failing rows where the check counts rows, none where it does not
    assert by_name(run)["fct_sales quantity between 1 and 1000"]["failing_rows"] == 0
    assert by_name(run)["fct_sales customer_key exists in dim_customers"]["failing_rows"] == 0
    assert by_name(run)["fct_sales order_line_key is unique"]["failing_rows"] == 0
    assert by_name(run)["fct_sales has rows"]["failing_rows"] is None
    assert by_name(run)["fct_sales latest load is fresh"]["failing_rows"] is None
    # Soda's own results, as Soda wrote them
    soda = run.artifacts["scan_results.json"]
    assert {check["name"] for check in soda["checks"]} == set(by_name(run))
    assert soda["hasFailures"] is False
    # the result stays small: outcomes only
    assert run.result["checks"] == [
        {"name": check["check"], "table": check["dataset"], "outcome": check["status"]} for check in checks
    ]
    assert len(json.dumps(run.result)) < 8000
    stored = json.dumps([run.record, run.artifacts])
    assert step_env["WAREHOUSE_PASSWORD"] not in stored


def test_a_failed_scan_records_its_failing_rows_with_samples(star_schema, spoil, soda_scan):
    line = star_schema.published.keys(star_schema.first, own=True)["line"]
    spoil(
        "update fct_sales set quantity = 0 where order_line_key = {first_line};"
        "update fct_sales set customer_key = md5('no such customer') where order_line_key = {first_line}"
    )

    run = soda_scan(recorded=True)

    assert run.returncode == 1
    assert run.record["state"] == "failed" and run.record["error"] == run.error_line.removeprefix("error: ")
    assert run.record["rows"] == CHECKS
    checks = by_name(run)
    quantity = checks["fct_sales quantity between 1 and 1000"]
    assert (quantity["status"], quantity["failing_rows"], quantity["load_id"]) == ("fail", 1, None)
    assert [(row["order_line_key"], row["quantity"]) for row in quantity["sample"]] == [(line, 0)]
    unknown = checks["fct_sales customer_key exists in dim_customers"]
    assert (unknown["status"], unknown["failing_rows"]) == ("fail", 1)
    assert unknown["sample"] == [
        {"order_line_key": line, "customer_key": unknown["sample"][0]["customer_key"], "load_id": star_schema.first}
    ]
    assert {name for name, check in checks.items() if check["status"] == "fail"} == {
        "fct_sales quantity between 1 and 1000",
        "fct_sales customer_key exists in dim_customers",
    }
    assert run.artifacts["scan_results.json"]["hasFailures"] is True


def test_a_scan_of_one_load_records_its_load_id_on_the_checks_scoped_to_it(star_schema, spoil, soda_scan):
    keys = star_schema.published.keys(star_schema.second, own=False)
    spoil(
        "update fct_sales set product_key = null where order_line_key = {second_line};"
        "update dim_locations set postal_code = '4242' where location_key = {first_location}"
    )

    run = soda_scan("--load-ids", json.dumps([star_schema.second]), recorded=True)

    assert run.returncode == 1
    checks = by_name(run)
    missing = checks["fct_sales product_key is set"]
    assert (missing["status"], missing["failing_rows"], missing["load_id"]) == ("fail", 1, star_schema.second)
    assert [row["order_line_key"] for row in missing["sample"]] == [keys["line"]]
    assert missing["sample"][0]["product_key"] is None
    # a table-level check is not scoped to the load, whatever row fails it
    zip_codes = checks["dim_locations US ZIP codes have 5 characters"]
    assert (zip_codes["status"], zip_codes["failing_rows"], zip_codes["load_id"]) == ("fail", 1, None)
    assert [row["postal_code"] for row in zip_codes["sample"]] == ["4242"]
    scoped = {name for name, check in checks.items() if check["load_id"] == star_schema.second}
    assert "fct_sales order_line_key is unique" in scoped and "fct_sales quantity between 1 and 1000" in scoped
    assert "fct_sales has rows" not in scoped and "dim_dates date_key is unique" not in scoped


def test_a_scan_of_several_loads_records_no_single_load_id(star_schema, soda_scan):
    run = soda_scan("--load-ids", json.dumps(list(star_schema.built.load_ids)), recorded=True)

    assert run.returncode == 0, run.stderr
    assert {check["load_id"] for check in run.artifacts["checks.json"]} == {None}


def test_a_scan_error_records_the_checks_it_could_not_evaluate(spoil, soda_scan):
    spoil("drop table dim_locations")

    run = soda_scan(recorded=True)

    assert run.returncode == 1 and "scan error: " in run.error_line
    checks = by_name(run)
    assert len(checks) == CHECKS
    errored = {name for name, check in checks.items() if check["status"] == "error"}
    assert {name for name in errored if name.startswith("dim_locations")} == {
        "dim_locations has rows",
        "dim_locations location_key is set",
        "dim_locations US ZIP codes have 5 characters",
        "dim_locations location_key is unique",
    }
    assert run.record["rows"] == CHECKS - len(errored)
    assert run.record["state"] == "failed"
    assert run.artifacts["scan_results.json"]["hasErrors"] is True


def test_an_unreachable_warehouse_records_every_check_as_an_error(soda_scan, step_env):
    run = soda_scan(recorded=True, env={"WAREHOUSE_PORT": "1"})

    assert run.returncode == 1 and "scan error: " in run.error_line
    assert run.record["state"] == "failed" and run.record["rows"] == 0
    checks = run.artifacts["checks.json"]
    assert len(checks) == CHECKS and {check["status"] for check in checks} == {"error"}
    assert {check["dataset"] for check in checks} == TABLES
    assert step_env["WAREHOUSE_PASSWORD"] not in json.dumps([run.record, run.artifacts])


def test_the_scan_emits_its_lineage_with_the_marts_it_read(star_schema, soda_scan, tmp_path):
    events_file = tmp_path / "events.jsonl"
    lineage = {
        "OPENLINEAGE_DISABLED": "false",
        "OPENLINEAGE__TRANSPORT__TYPE": "file",
        "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(events_file),
        "OPENLINEAGE__TRANSPORT__APPEND": "true",
    }

    run = soda_scan(recorded=True, env=lineage)

    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    assert [event["eventType"] for event in events] == ["START", "COMPLETE"]
    assert {dataset["name"] for dataset in events[-1]["inputs"]} == {
        f"{DATABASE}.{PUBLISHED_SCHEMA}.{table}" for table in TABLES
    }
