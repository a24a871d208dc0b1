"""Freshness and volume of the published fact (QUALITY_* settings): the
latest load and the latest order against their ages, each load's rows
against the median of the loads published before it. Warnings do not fail
the step; a freshness age set to fail does.

The two loads are the pipeline's (conftest): the sample's first ~2/3 and the
rest, so the second load has about half the rows of the first. Where a
defect cannot come through the loader and dbt (loaded_at is the time of the
publish, set by the ledger), a documented UPDATE on the published table
makes it after the real build."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from test_scan import CHECKS, failed_line

LOADED_AT = "fct_sales latest load is fresh"
ORDER_DATE = "dim_orders latest order date is fresh"
VOLUME = "fct_sales load volume near the trailing median"
# A published fact whose newest load is two days old (loaded_at is the
# ledger's published_at: only an UPDATE makes it old without waiting).
TWO_DAYS_STALE = "update fct_sales set loaded_at = loaded_at - interval '2 days'"


def outcomes(run) -> dict[str, str]:
    return {check["name"]: check["outcome"] for check in run.result["checks"]}


def test_a_stale_load_warns_by_default_and_fails_past_its_fail_age(spoil, soda_scan):
    spoil(TWO_DAYS_STALE)

    warned = soda_scan()  # QUALITY_FRESHNESS_LOADED_AT_WARN_AFTER defaults to 1d
    failed = soda_scan(env={"QUALITY_FRESHNESS_LOADED_AT_FAIL_AFTER": "1d12h"})
    within = soda_scan(env={"QUALITY_FRESHNESS_LOADED_AT_WARN_AFTER": "3d"})

    assert warned.returncode == 0, warned.stderr
    assert warned.result == {**warned.result, "passed": CHECKS - 1, "warned": 1, "failed": 0}
    assert outcomes(warned)[LOADED_AT] == "warn"
    assert failed.returncode == 1 and failed.error_line == failed_line(LOADED_AT)
    assert within.returncode == 0 and outcomes(within)[LOADED_AT] == "pass"


def test_a_fresh_load_passes_with_the_default_ages(star_schema, soda_scan, step_env):
    run = soda_scan(env={"QUALITY_FRESHNESS_LOADED_AT_FAIL_AFTER": "1d"})

    assert run.returncode == 0, run.stderr
    assert outcomes(run)[LOADED_AT] == "pass"


def test_old_orders_warn_or_fail_by_their_own_ages(star_schema, soda_scan):
    newest = max(star_schema.sample.order_dates)
    assert newest < date.today() - timedelta(days=2), "the sample's orders must be older than two days"

    warned = soda_scan(env={"QUALITY_FRESHNESS_ORDER_DATE_WARN_AFTER": "1d"})
    failed = soda_scan(env={"QUALITY_FRESHNESS_ORDER_DATE_FAIL_AFTER": "2d"})
    age = (date.today() - newest).days + 2  # the newest order is younger than this
    within = soda_scan(
        env={"QUALITY_FRESHNESS_ORDER_DATE_WARN_AFTER": f"{age}d", "QUALITY_FRESHNESS_ORDER_DATE_FAIL_AFTER": f"{age}d"}
    )

    assert warned.returncode == 0, warned.stderr
    assert warned.result == {**warned.result, "passed": CHECKS - 1, "warned": 1, "failed": 0}
    assert outcomes(warned)[ORDER_DATE] == "warn"
    assert failed.returncode == 1 and failed.error_line == failed_line(ORDER_DATE)
    assert within.returncode == 0 and outcomes(within)[ORDER_DATE] == "pass"


def load_sizes(star_schema) -> tuple[int, int]:
    first, second = (len(load.rows) for load in star_schema.sample.loads)
    assert first > second * 1.2, f"the sample's loads ({first}, {second} lines) are too alike for the volume tests"
    return first, second


# The initial build published both loads at once (one loaded_at): neither
# judges the other. An incremental run would have published the second
# later: this UPDATE makes it so.
SECOND_PUBLISHED_LATER = "update fct_sales set loaded_at = loaded_at + interval '1 hour' where load_id = {second}"
FIRST_PUBLISHED_LATER = "update fct_sales set loaded_at = loaded_at + interval '1 hour' where load_id = {first}"


def test_loads_published_together_do_not_judge_each_other(star_schema, soda_scan):
    first, second = load_sizes(star_schema)

    run = soda_scan(env={"QUALITY_VOLUME_MIN_LOADS": "1", "QUALITY_VOLUME_RATIO": str(first / second * 0.9)})

    assert run.returncode == 0, run.stderr
    assert outcomes(run)[VOLUME] == "pass"


def test_a_load_far_smaller_than_the_trailing_median_warns(star_schema, spoil, soda_scan):
    first, second = load_sizes(star_schema)
    spoil(SECOND_PUBLISHED_LATER)
    judged = {"QUALITY_VOLUME_MIN_LOADS": "1", "QUALITY_VOLUME_RATIO": str(first / second * 0.9)}

    every_row = soda_scan(env=judged, recorded=True)
    the_second = soda_scan("--load-ids", json.dumps([star_schema.second]), env=judged)
    the_first = soda_scan("--load-ids", json.dumps([star_schema.first]), env=judged)
    wider = soda_scan(env={**judged, "QUALITY_VOLUME_RATIO": str(first / second * 1.1)})
    by_default = soda_scan()  # QUALITY_VOLUME_MIN_LOADS=3: one load before it is too few

    for run in (every_row, the_second):
        assert run.returncode == 0, run.stderr
        assert run.result == {**run.result, "passed": CHECKS - 1, "warned": 1, "failed": 0}
        assert outcomes(run)[VOLUME] == "warn"
    # the first load has no load before it; the second is within a wider band
    for run in (the_first, wider, by_default):
        assert run.returncode == 0, run.stderr
        assert outcomes(run)[VOLUME] == "pass"
    recorded = {check["check"]: check for check in every_row.artifacts["checks.json"]}[VOLUME]
    ratio_recorded = Decimal(recorded["sample"][0].pop("ratio"))
    assert abs(ratio_recorded - Decimal(second) / Decimal(first)) < Decimal("0.001")
    assert recorded == {
        "check": VOLUME,
        "dataset": "fct_sales",
        "status": "warn",
        "failing_rows": 1,
        "load_id": None,  # a scan of every row
        "sample": [
            {
                "load_id": star_schema.second,
                "line_count": second,
                "trailing_loads": 1,
                "trailing_median": float(first),
            }
        ],
    }


def test_a_load_far_larger_than_the_trailing_median_warns(star_schema, spoil, soda_scan):
    first, second = load_sizes(star_schema)
    spoil(FIRST_PUBLISHED_LATER)  # the first (larger) load is judged against the second

    run = soda_scan(
        "--load-ids",
        json.dumps([star_schema.first]),
        env={"QUALITY_VOLUME_MIN_LOADS": "1", "QUALITY_VOLUME_RATIO": str(first / second * 0.9)},
        recorded=True,
    )

    assert run.returncode == 0, run.stderr
    assert outcomes(run)[VOLUME] == "warn"
    recorded = {check["check"]: check for check in run.artifacts["checks.json"]}[VOLUME]
    assert (recorded["status"], recorded["failing_rows"], recorded["load_id"]) == ("warn", 1, star_schema.first)
    assert [(row["load_id"], row["line_count"], row["trailing_median"]) for row in recorded["sample"]] == [
        (star_schema.first, first, float(second))
    ]


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("QUALITY_VOLUME_RATIO", "0.5", "QUALITY_VOLUME_RATIO: Input should be greater than 1"),
        ("QUALITY_VOLUME_WINDOW", "0", "QUALITY_VOLUME_WINDOW: Input should be greater than or equal to 1"),
        ("QUALITY_VOLUME_MIN_LOADS", "11", "QUALITY_VOLUME_MIN_LOADS (11) exceeds QUALITY_VOLUME_WINDOW (10)"),
        (
            "QUALITY_FRESHNESS_LOADED_AT_WARN_AFTER",
            "soon",
            "QUALITY_FRESHNESS_LOADED_AT_WARN_AFTER: an age like 30m, 12h, 1d or 1d12h, got 'soon'",
        ),
        (
            "QUALITY_FRESHNESS_ORDER_DATE_FAIL_AFTER",
            "2 days",
            "QUALITY_FRESHNESS_ORDER_DATE_FAIL_AFTER: an age like 30m, 12h, 1d or 1d12h, got '2 days'",
        ),
    ],
)
def test_bad_quality_settings_are_refused_in_one_line(soda_scan, name, value, line):
    run = soda_scan(env={name: value})

    assert run.returncode == 1
    assert run.error_lines == [f"error: quality settings: {line}"]
    assert run.result is None
