"""Parsing and validation without S3 or a warehouse."""

import io

import pyarrow as pa
import pytest
from conftest import parse_date, source_rows, to_csv
from superstore_common.source_format import HEADER as SOURCE_HEADER
from superstore_common.source_format import parse_date as parse_source_date
from superstore_loader.columns import KINDS, SOURCE_COLUMNS, Date, Integer, InvalidValue, Number, Text, iso_date
from superstore_loader.rejects import Rejects
from superstore_loader.validation import CHUNK_ROWS, Validation

HEADER = [c.source for c in SOURCE_COLUMNS]


def _first_source_row() -> dict[str, str]:
    header, rows = source_rows()
    return dict(zip(header, rows[0], strict=True))


FIRST_ROW = _first_source_row()


def validate(text: str, **options) -> tuple[list, Rejects, Validation]:
    rejects = Rejects()
    validation = Validation(rejects, **options)
    chunks = list(validation.chunks(io.StringIO(text, newline="")))
    return chunks, rejects, validation


def rows_of(chunks) -> list[tuple]:
    return [row for chunk in chunks for row in zip(*(values.to_pylist() for values in chunk.columns), strict=True)]


def column_check(kind, values: list[str]) -> list[str] | None:
    """The column-wise check of `kind` on these values (None: refused)."""
    checked = kind.normalize_column(pa.array(values, pa.string()))
    return None if checked is None else checked.to_pylist()


def row(**changes) -> list[str]:
    values = {**FIRST_ROW, **changes}
    return [values[name] for name in HEADER]


@pytest.mark.parametrize(
    "value, iso", [("11/8/2016", "2016-11-08"), ("01/02/2015", "2015-01-02"), ("2016-11-08", "2016-11-08")]
)
def test_dates_us_or_iso(value, iso):
    assert iso_date(value) == iso
    assert column_check(Date(), [value, value]) == [iso, iso]


def test_every_source_column_has_one_rule_in_file_order():
    assert tuple(HEADER) == SOURCE_HEADER
    assert [c.name for c in SOURCE_COLUMNS] == list(KINDS)
    assert [c.name for c in SOURCE_COLUMNS][15:17] == ["sub_category", "product_name"]


@pytest.mark.parametrize("value", ["8.11.2016", "2/30/2016", "2016-13-01"])
def test_unparseable_dates_say_why_as_the_source_format_does(value):
    with pytest.raises(ValueError) as refused:
        parse_source_date(value)
    with pytest.raises(InvalidValue) as invalid:
        iso_date(value)
    # the reasons themselves: tests/unit/generator/test_source_format.py
    assert str(invalid.value) == str(refused.value)


@pytest.mark.parametrize("value", ["13/45/2016", "2/30/2016", "2016-11-8", "8.11.2016", "", " 11/8/2016", "11/8/16"])
def test_unparseable_dates(value):
    with pytest.raises(InvalidValue, match="unparseable date"):
        iso_date(value)
    assert column_check(Date(), ["11/8/2016", value]) is None


@pytest.mark.parametrize(
    "kind, good, bad",
    [
        (Number(18, 4), ["261.96", "-1665.0522", "0", "12345678901234.5"],
         ["1.23456", "1e5", "12,5", " 1", "NaN", "", ".5", "123456789012345"]),
        (Number(6, 4), ["0", "0.2", "0.45"], ["100", "0.12345"]),
        (Integer(), ["1", "14", "-3", "999999999", "2147483647", "-2147483648"],
         ["1.0", "", "2147483648", "-2147483649", "1_000", "١", "+1", "1\n"]),
        (Text(16), ["", "05401", "42420"], ["x" * 17, "\ufffd" * 6]),
        (Text(32, required=True), ["CA-2016-152156"], [""]),
    ],
)  # fmt: skip
def test_value_checks_agree_column_and_row_wise(kind, good, bad):
    """The column-wise fast check never accepts what the exact check refuses."""
    assert column_check(kind, good) == good
    for value in good:
        assert kind.normalize(value) == value
    for value in bad:
        with pytest.raises(InvalidValue):
            kind.normalize(value)
        assert column_check(kind, [*good, value]) is None


def test_ten_digit_integers_are_checked_against_the_32_bit_range_column_wise_too():
    assert column_check(Integer(), ["2147483647", "-2147483648"]) == ["2147483647", "-2147483648"]
    assert column_check(Integer(), ["1", "9999999999"]) is None
    assert Integer().normalize("2147483647") == "2147483647"


def test_text_lengths_are_bytes():
    kind = Text(32)
    assert kind.normalize("é" * 16) == "é" * 16
    with pytest.raises(InvalidValue, match="longer than 32 bytes"):
        kind.normalize("é" * 17)


def test_columns_in_any_order_come_out_in_staging_order():
    header, rows = source_rows()
    order = list(reversed(range(len(header))))
    text = to_csv([header[i] for i in order], [[r[i] for i in order] for r in rows[:3]])

    chunks, rejects, _ = validate(text)

    assert not rejects
    assert rows_of(chunks)[0][:3] == (rows[0][0], rows[0][1], parse_date(rows[0][2]).isoformat())


def test_crlf_quoted_commas_and_line_breaks_in_fields_keep_line_numbers():
    rows = [
        row(**{"Row ID": "1"}),
        row(**{"Row ID": "2", "Product Name": 'Chair, "deluxe"\r\nsecond line'}),
        row(**{"Row ID": "3"}),
    ]
    text = to_csv(HEADER, rows, line_terminator="\r\n") + "\r\n"  # a trailing blank line is not a row

    chunks, rejects, validation = validate(text)

    assert not rejects and validation.source_rows == 3
    assert [line for chunk in chunks for line in chunk.lines.to_pylist()] == [2, 3, 5]
    assert rows_of(chunks)[1][16] == 'Chair, "deluxe"\r\nsecond line'


def test_every_bad_row_is_collected_after_the_first():
    rows = [row() for _ in range(CHUNK_ROWS * 2 + 10)]
    rows[3][17] = "abc"
    rows[CHUNK_ROWS + 7][18] = "1.5"
    rows[-1] = rows[-1][:5]

    chunks, rejects, validation = validate(to_csv(HEADER, rows))

    assert chunks == []  # nothing after the first bad row, and not the chunk holding it
    assert validation.source_rows == len(rows)
    assert rejects.rows == 3
    assert (rejects.first.line, rejects.first.column) == (5, "Sales")


def test_header_problems_are_all_reported():
    header = [h for h in HEADER if h != "Region"] + ["Region ", "Sales"]

    chunks, rejects, _ = validate(to_csv(header, []))

    assert chunks == []
    assert (rejects.first.line, rejects.first.column, rejects.first.reason) == (1, "Region", "missing column")
    assert rejects.rows == 1  # one header line, three problems


@pytest.mark.parametrize("text, reason", [("", "empty file"), (",".join(HEADER) + "\n", "no data rows")])
def test_empty_files_are_rejected(text, reason):
    _, rejects, _ = validate(text)

    assert rejects.first.reason.startswith(reason)


def test_undecodable_bytes_are_pinpointed_in_exact_mode():
    text = to_csv(HEADER, [row(), row(**{"City": "Bad\udc81City"})])

    _, rejects, _ = validate(text, exact=True, decoded_as="UTF-8")

    assert (rejects.first.line, rejects.first.column) == (3, "City")
    assert rejects.first.reason == "undecodable bytes 81 (not UTF-8)"


def test_malformed_csv_is_rejected_with_its_line():
    text = to_csv(HEADER, [row(), row(**{"Product Name": "x" * 200_000})])

    _, rejects, _ = validate(text)

    assert (rejects.first.line, rejects.first.column) == (3, "")
    assert rejects.first.reason.startswith("malformed CSV: field larger than field limit")
    assert rejects.message("s3://b/k.csv", "s3://b/r.csv").startswith("s3://b/k.csv line 3: malformed CSV")
