"""Learning from a reference file on S3, whether its dates are the source's
(11/8/2016) or ISO ones (2016-11-08, the copy of the data set `make demo`
fetches): the same file teaches the same profile either way."""

import csv
import io

import pytest
from conftest import BUCKET, PROFILE_FIELDS
from superstore_common.source_format import parse_date
from superstore_generator.csv_reference import CsvReference

ISO_KEY = "raw/initial/superstore-iso-dates.csv"


def with_iso_dates(rows: list[dict[str, str]]) -> bytes:
    """The rows as a CSV with ISO dates and every field quoted, like the
    ISO-dated copy of the data set."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, **{field: parse_date(row[field]).isoformat() for field in ("Order Date", "Ship Date")}})
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def iso_reference_uri(s3, reference_uri, source_rows) -> str:
    s3.put_object(Bucket=BUCKET, Key=ISO_KEY, Body=with_iso_dates(source_rows))
    return f"s3://{BUCKET}/{ISO_KEY}"


def test_iso_dates_teach_what_us_dates_teach(iso_reference_uri, reference_uri):
    from_iso, from_us = CsvReference(iso_reference_uri).profile(), CsvReference(reference_uri).profile()

    for field in PROFILE_FIELDS:
        iso, us = getattr(from_iso, field), getattr(from_us, field)
        assert (iso.values, iso.cum_weights) == (us.values, us.cum_weights), field


def test_a_batch_is_generated_from_an_iso_dated_reference(generate, iso_reference_uri):
    run = generate("--rows", "500", "--seed", "3", "--as-of", "2024-03-05", "--reference", iso_reference_uri)

    assert run.returncode == 0, run.stderr
    assert run.result["rows"] == 500


def test_an_unreadable_date_fails_in_one_line(generate, s3, source_rows):
    rows = [dict(row) for row in source_rows[:3]]
    rows[2]["Order Date"] = "8 Nov 2016"  # the first line of the second order
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    s3.put_object(Bucket=BUCKET, Key="raw/initial/bad-date.csv", Body=out.getvalue().encode("utf-8"))

    run = generate(
        "--rows", "10", "--seed", "1", "--as-of", "2024-03-05", "--reference", f"s3://{BUCKET}/raw/initial/bad-date.csv"
    )

    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: reference s3://{BUCKET}/raw/initial/bad-date.csv: bad row at line 4: "
        "unparseable date '8 Nov 2016' (expected M/D/YYYY or YYYY-MM-DD)"
    )
