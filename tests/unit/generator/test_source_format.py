"""The source format both images share (superstore_common.source_format):
dates written like the source's, read in both formats the data set comes in."""

import csv
from datetime import date

import pytest
from conftest import SOURCE_FILE
from superstore_common.source_format import HEADER, format_date, parse_date


def test_the_header_is_the_source_files():
    with SOURCE_FILE.open(encoding="utf-8-sig", newline="") as source:
        assert tuple(next(csv.reader(source))) == HEADER


def test_dates_are_us_dates_without_leading_zeros():
    assert format_date(date(2016, 11, 8)) == "11/8/2016"
    assert format_date(date(2024, 1, 3)) == "1/3/2024"


@pytest.mark.parametrize("text", ["11/8/2016", "11/08/2016", "2016-11-08"])
def test_dates_are_read_in_us_and_iso_format(text):
    assert parse_date(text) == date(2016, 11, 8)


@pytest.mark.parametrize("text", ["2016-11-8", "8.11.2016", "11/8/16", "2016-02-30", ""])
def test_other_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("8.11.2016", "(expected M/D/YYYY or YYYY-MM-DD)"),
        ("2/30/2016", "(no such date)"),
        ("2016-13-01", "(no such date)"),
    ],
)
def test_a_refused_date_says_why(text, reason):
    with pytest.raises(ValueError) as refused:
        parse_date(text)
    assert str(refused.value) == f"unparseable date {text!r} {reason}"
