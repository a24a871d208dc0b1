"""Amounts and dates written like the source's."""

from datetime import date

import pytest
from superstore_generator.source_format import format_date, format_ten_thousandths


@pytest.mark.parametrize(
    ("value", "min_places", "text"),
    [
        (2619600, 2, "261.96"),
        (9575775, 2, "957.5775"),
        (419136, 0, "41.9136"),
        (-3830310, 0, "-383.031"),
        (-7, 0, "-0.0007"),
        (10000, 0, "1"),
        (0, 0, "0"),
        (0, 2, "0.00"),
        (22972008603, 4, "2297200.8603"),
        (-50000, 4, "-5.0000"),
    ],
)
def test_amounts_are_exact_decimals(value, min_places, text):
    assert format_ten_thousandths(value, min_places) == text


def test_dates_are_us_dates_without_leading_zeros():
    assert format_date(date(2016, 11, 8)) == "11/8/2016"
    assert format_date(date(2024, 1, 3)) == "1/3/2024"
