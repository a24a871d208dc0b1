"""CSV structure: quoting, rows of the wrong width, line breaks in values,
and values over their column's size."""

import pytest
from bad_input_kit import column, header, rows, to_csv

PRODUCT_NAME = "Product Name"
MARK = "MARK"


def quote_free_rows(count: int = 10) -> list[list[str]]:
    """Rows that need no quoting (no comma, quote or line break in any value)."""
    return [row for row in rows(100) if not any(set(v) & set(',"\r\n') for v in row)][:count]


def with_raw(body: list[list[str]], raw: dict[int, bytes]) -> bytes:
    """The rows as CSV, the Product Name of the rows in `raw` replaced by those bytes as they are."""
    for row in raw:
        body[row][column(PRODUCT_NAME)] = f"{MARK}{row}"
    data = to_csv(header(), body)
    for row, value in raw.items():
        data = data.replace(f"{MARK}{row}".encode(), value)
    return data


# The csv module reads strictly (a quote that opens a field must close it
# where the field ends) and says what is wrong but not in which field: the
# reason names the line the bad row starts on and no column.
CLOSING_QUOTE = "malformed CSV: ',' expected after '\"' (a quoted field must end with its closing quote; a quote inside it is doubled)"
NEVER_CLOSED = "malformed CSV: unexpected end of data (a quoted field is never closed)"


def test_an_unterminated_quote_rejects_the_file_at_the_line_it_opens(cases):
    """The quote opened on line 5 runs to the end of the file: no row is
    staged, the rows before it neither (one load: nothing partial)."""
    case = cases.load("unterminated.csv", with_raw(quote_free_rows(), {3: b'"Unterminated name'}))

    rejected = case.assert_rejected(5, None, NEVER_CLOSED, source_rows=0)
    assert rejected == [["5", "", NEVER_CLOSED]]


def test_an_unterminated_quote_is_named_as_such(cases):
    """On the file's last line, CRLF line breaks: named as a quote never
    closed, on the line it opens; no column (the csv module does not say
    which field the quote opened, only that the data ended inside it)."""
    body = with_raw(quote_free_rows(), {9: b'"Unterminated name'}).replace(b"\n", b"\r\n")
    case = cases.load("unterminated-last.csv", body)

    rejected = case.assert_rejected(11, None, NEVER_CLOSED, source_rows=0)
    assert rejected == [["11", "", NEVER_CLOSED]]


def test_a_stray_quote_closed_by_a_later_line_does_not_merge_rows(cases):
    """A stray opening quote on line 5 that a quote on line 6 closes used to
    make ONE valid row of lines 5-6 (9 rows staged for 10): now the file is
    rejected at line 5. No column: the csv module only says the character
    after the closing quote is no ',' (the field it closes started on line 5)."""
    case = cases.load("stray-quote.csv", with_raw(quote_free_rows(), {3: b'"Stray quote', 4: b'"Quoted name"'}))

    rejected = case.assert_rejected(5, None, CLOSING_QUOTE, source_rows=0)
    assert rejected == [["5", "", CLOSING_QUOTE]]


def test_a_malformed_row_is_named_by_the_line_it_starts_on(cases):
    """After a value with a line break (lines 4-5), the stray quote of the
    row on line 7 is closed on line 8, where the csv module stops: the
    reason names line 7, where the bad row starts."""
    body = quote_free_rows()
    body[2][column(PRODUCT_NAME)] = "Two\nlines"
    case = cases.load("stray-quote-later.csv", with_raw(body, {4: b'"Stray quote', 5: b'"Quoted name"'}))

    rejected = case.assert_rejected(7, None, CLOSING_QUOTE, source_rows=0)
    assert rejected == [["7", "", CLOSING_QUOTE]]


def test_text_after_a_closing_quote_rejects_the_file(cases):
    case = cases.load("after-quote.csv", with_raw(quote_free_rows(), {3: b'"Quoted" name'}))

    rejected = case.assert_rejected(5, None, CLOSING_QUOTE, source_rows=0)
    assert rejected == [["5", "", CLOSING_QUOTE]]


def test_a_quote_inside_an_unquoted_value_is_kept_as_it_is(cases):
    """Not a quoted field (it does not start with a quote): the quote is a character of the value."""
    case = cases.load("inch.csv", with_raw(quote_free_rows(), {3: b'Monitor 24" wide'}))

    raw = case.assert_staged(10)
    assert raw[3]["product_name"] == 'Monitor 24" wide'
    assert [r["_source_line"] for r in raw] == list(range(2, 12))


@pytest.mark.parametrize("line_break", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_a_quoted_value_with_a_line_break_loads_and_later_lines_stay_right(cases, line_break):
    body = rows(10)
    body[3][column(PRODUCT_NAME)] = f"Two{line_break}lines"
    case = cases.load("embedded-newline.csv", to_csv(header(), body))

    raw = case.assert_staged(10)
    assert raw[3]["product_name"] == f"Two{line_break}lines"
    # The row spans lines 5-6: the next row starts on line 7.
    assert [r["_source_line"] for r in raw] == [2, 3, 4, 5, 7, 8, 9, 10, 11, 12]
    assert [r["row_id"] for r in raw] == [int(row[0]) for row in body]


def test_a_row_with_too_few_fields_is_rejected(cases):
    body = rows(10)
    body[3] = body[3][:-1]
    case = cases.load("too-few.csv", to_csv(header(), body))

    rejected = case.assert_rejected(5, "Profit", "row has 20 fields, the header 21", source_rows=10)
    assert [r[3:] for r in rejected] == [body[3]]


def test_a_row_with_too_many_fields_is_rejected(cases):
    body = rows(10)
    body[3] = [*body[3], "surplus"]
    case = cases.load("too-many.csv", to_csv(header(), body))

    rejected = case.assert_rejected(5, "#22", "row has 22 fields, the header 21", source_rows=10)
    assert [r[3:] for r in rejected] == [body[3]]


@pytest.mark.parametrize(
    "value",
    ["x" * 513, "x" * 511 + "é"],  # 513 bytes; 512 characters but 513 bytes in UTF-8 (Redshift counts bytes)
    ids=["513 ASCII", "512 characters 513 bytes"],
)
def test_a_value_over_its_column_size_is_rejected(cases, value):
    body = rows(10)
    body[3][column(PRODUCT_NAME)] = value
    case = cases.load("long.csv", to_csv(header(), body))

    rejected = case.assert_rejected(5, PRODUCT_NAME, "longer than 512 bytes", source_rows=10)
    assert rejected[0][3 + column(PRODUCT_NAME)] == value  # kept whole


def test_a_value_over_the_csv_field_limit_is_rejected_at_its_line(cases):
    """200 kB in one field: more than the csv module's field limit (128 KiB);
    the reason has no column (the csv module does not say), and the rows
    after it are not read."""
    body = rows(10)
    body[3][column(PRODUCT_NAME)] = "x" * 200_000
    case = cases.load("huge-field.csv", to_csv(header(), body))

    rejected = case.assert_rejected(5, None, "malformed CSV: field larger than field limit (131072)", source_rows=0)
    assert rejected == [["5", "", "malformed CSV: field larger than field limit (131072)"]]
