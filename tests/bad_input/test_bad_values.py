"""Values the loader refuses: each rejects its row, named by line and column,
and with it the whole object (one transaction: no partial load)."""

import pytest
from bad_input_kit import column, header, rows, to_csv

NUMBER = "not a number with at most 14 digits before and 4 after the decimal point: {!r}"
DATE_SHAPE = "unparseable date {!r} (expected M/D/YYYY or YYYY-MM-DD)"
NO_SUCH_DATE = "unparseable date {!r} (no such date)"

BAD_VALUES = [
    # dates
    ("Order Date", "13/45/2016", NO_SUCH_DATE),
    ("Order Date", "2/30/2016", NO_SUCH_DATE),
    ("Ship Date", "2016-02-30", NO_SUCH_DATE),
    ("Order Date", "next Tuesday", DATE_SHAPE),
    ("Ship Date", "", DATE_SHAPE),
    # numbers
    ("Sales", "12,5", NUMBER),  # a decimal comma (quoted: one field)
    ("Sales", "1e3", NUMBER),
    ("Profit", "abc", NUMBER),
    ("Sales", "1.23456", NUMBER),  # more decimals than numeric(18,4): an error, never rounded
    ("Discount", "0.12345", "not a number with at most 2 digits before and 4 after the decimal point: {!r}"),
    ("Sales", "123456789012345", NUMBER),  # 15 digits before the point
    ("Quantity", "2.5", "not an integer: {!r}"),
    ("Quantity", "2147483648", "not an integer: {!r}"),  # 2**31: over the integer column
    ("Quantity", "99999999999999999999", "not an integer: {!r}"),
    # required
    ("Customer ID", "", "required value is empty"),
]


@pytest.mark.parametrize(("name", "value", "reason"), BAD_VALUES, ids=[f"{n}={v!r}" for n, v, _ in BAD_VALUES])
def test_a_bad_value_rejects_its_row_naming_line_and_column(cases, name, value, reason):
    body = rows(10)
    body[2][column(name)] = value
    case = cases.load("value.csv", to_csv(header(), body))

    rejected = case.assert_rejected(4, name, reason.format(value), source_rows=10)
    assert len(rejected) == 1
    assert rejected[0][3:] == body[2]  # the row as it was in the file


def test_every_bad_row_is_kept_with_its_reason_and_the_first_is_named(cases):
    body = rows(10)
    body[1][column("Quantity")] = "2.5"
    body[6][column("Order Date")] = "2/30/2016"
    case = cases.load("two-bad-rows.csv", to_csv(header(), body))

    rejected = case.assert_rejected(3, "Quantity", "not an integer: '2.5'", rejected=2, source_rows=10)
    assert [(line, col, reason) for line, col, reason, *_ in rejected] == [
        ("3", "Quantity", "not an integer: '2.5'"),
        ("8", "Order Date", "unparseable date '2/30/2016' (no such date)"),
    ]
