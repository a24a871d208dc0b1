"""Every run recorded, success or failure: ops tables and the lake."""

import json

import boto3
from operations_kit import query
from superstore_common.record import RECORD_NAME, run_prefix
from superstore_orchestration import steps


def test_every_run_is_in_the_ops_tables_with_its_state(runs):
    recorded = dict(query("select run_id, state from ops.runs"))
    for name, expected in (("initial", "success"), ("good", "success"), ("bad", "failed")):
        assert recorded[runs[name].run_id] == expected, name


def test_each_task_of_a_run_has_its_step_result(runs):
    initial = runs["initial"]
    results = {
        task_id: (state, seconds, rows)
        for task_id, state, seconds, rows in query(
            "select task_id, state, seconds, rows from ops.step_results where run_id = %s", initial.run_id
        )
    }
    expected = {t for t in initial.tasks if t != steps.RECORD.task_id}
    assert set(results) == expected
    assert all(state == "success" for state, _, _ in results.values())
    assert all(seconds is not None and seconds > 0 for _, seconds, _ in results.values())


def test_a_failed_run_is_recorded_as_completely_as_a_good_one(runs):
    bad = runs["bad"]
    state, error = query("select state, error from ops.runs where run_id = %s", bad.run_id)[0]
    assert state == "failed" and "quantity" in error.lower()
    states = dict(query("select task_id, state from ops.step_results where run_id = %s", bad.run_id))
    assert states["verdict"] == "failed"
    assert set(states) == {t for t in bad.tasks if t != steps.RECORD.task_id}


def test_steps_leave_their_record_in_the_lake(runs, operated):
    s3 = boto3.client("s3")
    initial = runs["initial"]
    prefix = run_prefix(initial.dag_id, initial.run_id)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=operated["RAW_BUCKET"], Prefix=prefix)["Contents"]}
    for step in steps.INITIAL_LOAD:
        key = f"{prefix}{step.task_id}/{RECORD_NAME}"
        assert key in keys, key
        record = json.loads(s3.get_object(Bucket=operated["RAW_BUCKET"], Key=key)["Body"].read())
        assert record["state"] == "success" and record["task_id"] == step.task_id


def test_a_failed_run_alerts_the_topic(runs, operated):
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=operated["alerts_queue"], MaxNumberOfMessages=10, WaitTimeSeconds=2)
    bodies = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    failed = [b for b in bodies if runs["bad"].run_id in b["Message"]]
    assert len(failed) == 1, bodies
    assert failed[0]["Subject"] == "[superstore] superstore_incremental_load run failed"
    assert all(runs[name].run_id not in b["Message"] for b in bodies for name in ("initial", "good"))
