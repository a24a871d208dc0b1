"""Headers that differ from the contract, and files without rows."""

from decimal import Decimal

import pytest
from bad_input_kit import column, header, rows, to_csv


def without(name: str) -> bytes:
    drop = column(name)
    return to_csv([c for c in header() if c != name], [[v for i, v in enumerate(row) if i != drop] for row in rows(10)])


def renamed(old: str, new: str) -> bytes:
    return to_csv([new if c == old else c for c in header()], rows(10))


def extra(name: str) -> bytes:
    return to_csv([*header(), name], [[*row, "x"] for row in rows(10)])


def duplicated(name: str) -> bytes:
    return to_csv([*header(), name], [[*row, row[column(name)]] for row in rows(10)])


HEADER_CASES = {
    # name: (file, [(column, reason) of every rejected-rows line, first one in the error])
    "missing column": (lambda: without("Segment"), [("Segment", "missing column")]),
    "extra column": (lambda: extra("Comment"), [("Comment", "unknown column")]),
    "renamed column": (
        lambda: renamed("Customer Name", "Client Name"),
        [("Customer Name", "missing column"), ("Client Name", "unknown column")],
    ),
    "duplicated column": (lambda: duplicated("Sales"), [("Sales", "duplicate column")]),
}


@pytest.mark.parametrize("kind", HEADER_CASES)
def test_a_header_that_differs_from_the_contract_rejects_the_file(cases, kind):
    body, problems = HEADER_CASES[kind]
    case = cases.load("header.csv", body())

    (first_column, first_reason) = problems[0]
    rejected = case.assert_rejected(1, first_column, first_reason, source_rows=0)
    # One line per problem, each with the file's header as its fields.
    assert [(line, col, reason) for line, col, reason, *_ in rejected] == [("1", c, r) for c, r in problems]
    file_header = body().decode().splitlines()[0].split(",")
    assert all(fields == file_header for _, _, _, *fields in rejected)


def test_columns_in_another_order_load_by_name(cases):
    order = list(reversed(range(len(header()))))
    body = rows(10)
    case = cases.load("reordered.csv", to_csv([header()[i] for i in order], [[row[i] for i in order] for row in body]))

    raw = case.assert_staged(10)
    assert [
        (r["_source_line"], r["row_id"], r["order_id"], r["customer_name"], r["product_name"], r["sales"], r["quantity"])
        for r in raw
    ] == [
        (line, int(row[0]), row[1], row[column("Customer Name")], row[column("Product Name")],
         Decimal(row[column("Sales")]), int(row[column("Quantity")]))
        for line, row in enumerate(body, start=2)
    ]  # fmt: skip


NO_DATA, NO_HEADER = "no data rows after the header", "empty file: no header row"
EMPTY_CASES = {
    # kind: (file, line, reason)
    "header only": (lambda: to_csv(header(), []), 2, NO_DATA),
    "header only, no line break": (lambda: to_csv(header(), []).rstrip(b"\n"), 2, NO_DATA),
    "header only, CRLF": (lambda: to_csv(header(), []).replace(b"\n", b"\r\n"), 2, NO_DATA),
    "header, then blank lines": (lambda: to_csv(header(), []) + b"\n\r\n\n", 2, NO_DATA),
    "empty file (0 bytes)": (lambda: b"", 1, NO_HEADER),
    "only a UTF-8 byte order mark": (lambda: b"\xef\xbb\xbf", 1, NO_HEADER),
}


@pytest.mark.parametrize("kind", EMPTY_CASES)
def test_a_file_without_rows_is_rejected_whole_naming_no_row_and_no_column(cases, kind):
    """There is no row to count and no column to blame: `line N: reason (file rejected, see ...)`."""
    body, line, reason = EMPTY_CASES[kind]
    case = cases.load("empty.csv", body())

    rejects_header = case.assert_file_rejected(line, reason)
    # Under the file's own header when it has one, else the contract's columns.
    assert rejects_header == header()


def test_a_file_of_only_line_breaks_is_rejected_whole_naming_no_column(cases):
    case = cases.load("blank.csv", b"\n\n\n")

    (error,) = case.run.error_lines
    assert "line 1: " in error and 'column "' not in error and "(file rejected, " in error
    assert (case.load["rejected_rows"], case.load["source_rows"]) == (0, 0)
