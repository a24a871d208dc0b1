"""Bytes that are not the UTF-8 / Windows-1252 CSV the loader accepts."""

import gzip

import pytest
from bad_input_kit import BUCKET, column, header, raw_rows, rejected_rows, rejects_key, rows, to_csv

CUSTOMER_NAME = "Customer Name"
MARK = "MARK"  # a placeholder in a field, replaced by raw bytes


def with_bytes(raw: bytes, row: int = 3, name: str = CUSTOMER_NAME, count: int = 10) -> bytes:
    """The first rows of the good file, the field of one row (line row + 2) replaced by raw bytes."""
    body = rows(count, ascii=True)
    body[row][column(name)] = MARK
    return to_csv(header(), body).replace(MARK.encode(), raw)


def small_file() -> bytes:
    return to_csv(header(), rows(10, ascii=True))


FOREIGN = {
    "gzip": (lambda: gzip.compress(small_file()), "gzip"),
    "utf-16-le": (lambda: b"\xff\xfe" + small_file().decode().encode("utf-16-le"), "UTF-16"),
    "utf-16-be": (lambda: b"\xfe\xff" + small_file().decode().encode("utf-16-be"), "UTF-16"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_file_in_another_format_is_rejected_whole_on_line_1(cases, kind):
    body, _ = FOREIGN[kind]
    case = cases.load(f"{kind}.csv", body())

    assert (case.run.returncode, case.run.result) == (1, None)
    (line,) = case.run.error_lines
    message = line.removeprefix("error: ")
    assert message.startswith(f"s3://{BUCKET}/{case.key} line 1, column ")
    assert message.endswith(f"see s3://{BUCKET}/{rejects_key(case.key)})")
    load = case.load
    assert (load["state"], load["reason"], load["raw_rows"]) == ("rejected", message, None)
    assert raw_rows(load["load_id"]) == 0
    rejected = rejected_rows(case.key)  # what was refused is kept, with the reason
    assert rejected is not None and {row[0] for row in rejected[1:]} == {"1"}
    case.assert_nothing_loaded()


@pytest.mark.xfail(
    strict=True,
    reason="BUG: gzip and UTF-16 (with BOM) files are decoded as Windows-1252 and rejected as "
    "'line 1, column \"Row ID\": missing column' (plus 21 more header complaints in the rejects file); "
    "the error should name the format (load.py stage_object / validation.py Layout.problems)",
)
@pytest.mark.parametrize("kind", FOREIGN)
def test_a_file_in_another_format_is_named_as_such(cases, kind):
    body, name = FOREIGN[kind]
    case = cases.load(f"{kind}.csv", body())

    (line,) = case.run.error_lines
    assert name.lower() in line.lower()
    assert "missing column" not in line


def test_a_byte_of_windows_1252_in_a_plain_ascii_file_loads_it_as_windows_1252(cases):
    """auto: not UTF-8, so the whole object is read again as Windows-1252, where 0xE9 is é."""
    case = cases.load("cp1252.csv", with_bytes(b"Caf\xe9"))

    raw = case.assert_staged(10)
    assert [(r["_source_line"], r["customer_name"]) for r in raw if not r["customer_name"].isascii()] == [(5, "Café")]
    assert [r["customer_name"] for r in raw if r["_source_line"] != 5] == [
        row[column(CUSTOMER_NAME)] for i, row in enumerate(rows(10, ascii=True)) if i != 3
    ]


def test_a_byte_neither_utf_8_nor_windows_1252_rejects_exactly_its_row(cases):
    """0x81 is a lone continuation byte in UTF-8 and unassigned in Windows-1252."""
    case = cases.load("x81.csv", with_bytes(b"Caf\x81"))

    rejected = case.assert_rejected(
        5, CUSTOMER_NAME, "undecodable bytes 81 (not UTF-8 or Windows-1252)", source_rows=10
    )
    assert len(rejected) == 1  # only that row
    expected = rows(10, ascii=True)[3]
    expected[column(CUSTOMER_NAME)] = "Caf\\x81"  # the bad byte shown, not lost
    assert rejected[0][3:] == expected


@pytest.mark.xfail(
    strict=True,
    reason="BUG (silent corruption): a UTF-8 file with one stray non-UTF-8 byte is re-read whole as "
    "Windows-1252 and staged: every valid UTF-8 character of the other rows becomes mojibake "
    "('Zoë' -> 'ZoÃ«', the data set's U+FFFD -> 'ï¿½'), no row rejected (load.py stage_object, ENCODINGS['auto'])",
)
def test_a_stray_byte_in_a_utf_8_file_rejects_its_row_and_alters_no_other(cases):
    body = rows(10, ascii=True)
    body[5][column(CUSTOMER_NAME)] = "Zoë Ångström"  # valid UTF-8, two lines below the bad byte
    body[3][column(CUSTOMER_NAME)] = MARK
    case = cases.load("mixed.csv", to_csv(header(), body).replace(MARK.encode(), b"Caf\xe9"))

    if case.load["state"] == "staged":
        altered = [r["customer_name"] for r in case.assert_staged(10) if not r["customer_name"].isascii()]
        pytest.fail(f"staged as Windows-1252, no row rejected: {altered}")
    case.assert_rejected(5, CUSTOMER_NAME, "undecodable bytes e9 (not UTF-8)", source_rows=10)


@pytest.mark.xfail(
    strict=True,
    reason="BUG: a UTF-8 file with a byte order mark and one non-UTF-8 byte is read as Windows-1252, "
    "the BOM becomes 'ï»¿' in the first header name and the file is rejected as "
    "'line 1, column \"Row ID\": missing column' although the header is right",
)
def test_a_stray_byte_in_a_utf_8_file_with_bom_is_not_called_a_missing_column(cases):
    case = cases.load("bom-cp1252.csv", b"\xef\xbb\xbf" + with_bytes(b"Caf\xe9"))

    if case.run.returncode == 0:  # read as Windows-1252 after the BOM, like the same file without one
        raw = case.assert_staged(10)
        assert [r["customer_name"] for r in raw if not r["customer_name"].isascii()] == ["Café"]
    else:  # or the row with the bad byte named
        (line,) = case.run.error_lines
        assert 'line 5, column "Customer Name"' in line and "missing column" not in line


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        # Arrow's column check lets a NUL through in text; PostgreSQL refuses it, then every row is checked.
        (CUSTOMER_NAME, "Ca\x00fe", "contains a NUL character"),
        ("Sales", "1\x002", "not a number with at most 14 digits before and 4 after the decimal point: '1\\x002'"),
    ],
    ids=["text", "number"],
)
def test_a_nul_byte_rejects_its_row(cases, name, value, reason):
    body = rows(10, ascii=True)
    body[3][column(name)] = value
    case = cases.load("nul.csv", to_csv(header(), body))

    rejected = case.assert_rejected(5, name, reason, source_rows=10)
    assert len(rejected) == 1
