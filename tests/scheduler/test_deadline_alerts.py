"""Issue 10: the incremental DAG's Deadline Alert as only the real scheduler
raises it (dag.test() drops deadlines). The server's deadline is a few
seconds after a run is queued: the scheduler marks the deadline missed while
the run works on, the triggerer runs the SnsNotifier, the alert reaches the
topic and the run still succeeds. The initial DAG has no deadline, and no
successful run alerts a failure."""

from datetime import datetime

from scheduler_kit import LATE_AFTER_MINUTES

INCREMENTAL = "superstore_incremental_load"


def late_alerts(alerts: list[dict], run: dict) -> list[dict]:
    return [a for a in alerts if a["Subject"].endswith("run is late") and run["dag_run_id"] in a["Message"]]


def at(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def test_a_late_incremental_run_alerts_the_topic_and_still_succeeds(alerts, incremental_run):
    assert incremental_run["state"] == "success", incremental_run
    late = late_alerts(alerts, incremental_run)
    assert len(late) == 1, alerts  # exactly one, however often the scheduler looks
    (late,) = late
    run_id = incremental_run["dag_run_id"]
    assert late["Subject"] == f"[superstore] {INCREMENTAL} run is late"
    assert late["Message"].startswith(f"Run {run_id} of {INCREMENTAL} is not done by "), late["Message"]
    queued = at(incremental_run["queued_at"])
    # the deadline named is the queued time plus the setting, and the alert
    # left before the run ended: it was late while running, not after
    deadline = at(late["Message"].removeprefix(f"Run {run_id} of {INCREMENTAL} is not done by ").rstrip("."))
    assert abs(deadline - queued - LATE_AFTER_MINUTES * 60) < 1, (deadline, queued)
    assert deadline < late["sent"] < at(incremental_run["end_date"]), (late["sent"], incremental_run)
    print(
        f"deadline {LATE_AFTER_MINUTES * 60:.0f} s after queued; alert sent {late['sent'] - queued:.1f} s after"
        f" queued ({late['sent'] - deadline:.1f} s after the deadline); run took"
        f" {at(incremental_run['end_date']) - queued:.0f} s"
    )


def test_the_initial_run_has_no_deadline_and_sends_no_late_alert(alerts, initial_run):
    assert initial_run["state"] == "success", initial_run
    assert late_alerts(alerts, initial_run) == [], alerts


def test_successful_runs_alert_no_failure(alerts, initial_run, incremental_run):
    assert [a for a in alerts if "failed" in a["Subject"]] == [], alerts
    assert len(alerts) == 1, alerts  # the incremental run's late alert, nothing else
