"""Bytes that are not the UTF-8 / Windows-1252 CSV the loader accepts."""

import bz2
import gzip
import io
import lzma
import struct
import subprocess
import zipfile

import pytest
from bad_input_kit import REPO, column, header, rows, to_csv

CUSTOMER_NAME = "Customer Name"
MARK = "MARK"  # a placeholder in a field, replaced by raw bytes
ARROW_PYTHON = REPO / ".venv" / "loader" / "bin" / "python"  # the loader's own pyarrow writes zstd and Parquet


def with_bytes(raw: bytes, row: int = 3, name: str = CUSTOMER_NAME, count: int = 10) -> bytes:
    """The first rows of the good file, the field of one row (line row + 2) replaced by raw bytes."""
    body = rows(count, ascii=True)
    body[row][column(name)] = MARK
    return to_csv(header(), body).replace(MARK.encode(), raw)


def small_file() -> bytes:
    return to_csv(header(), rows(10, ascii=True))


def small_text() -> str:
    return small_file().decode()


def zipped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("orders.csv", small_file())
    return out.getvalue()


def by_arrow(code: str) -> bytes:
    """Bytes written by pyarrow (in the loader's virtualenv) from the small file on stdin."""
    script = f"import sys, io, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq\ndata = sys.stdin.buffer.read()\n{code}"
    return subprocess.run([str(ARROW_PYTHON), "-c", script], input=small_file(), capture_output=True, check=True).stdout


def zstd() -> bytes:
    return by_arrow("sys.stdout.buffer.write(pa.compress(data, codec='zstd', asbytes=True))")


def parquet() -> bytes:
    return by_arrow(
        "out = io.BytesIO()\n"
        "pq.write_table(pacsv.read_csv(pa.py_buffer(data)), out)\n"
        "sys.stdout.buffer.write(out.getvalue())"
    )


def mostly_nul() -> bytes:
    """A preallocated or zero-filled object: a few bytes of text, then NULs."""
    return small_file()[:40] + bytes(4096)


def ole2_xls() -> bytes:
    """The 512-byte header of an Excel 97-2003 workbook (an OLE2 compound file), then sectors of binary data."""
    head = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + struct.pack("<5H", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    head += struct.pack("<9I", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    head += struct.pack("<I", 0) + b"\xff\xff\xff\xff" * 108  # the DIFAT: one FAT sector, the rest free
    return head + bytes(range(256)) * 8


COMPRESSED = "not CSV text (decompress it first)"
BINARY = "binary data (NUL bytes), not CSV text; UTF-16 or UTF-32 text must be saved as UTF-8"
FOREIGN = {
    # kind: (the object's bytes, the reason: what it is)
    "gzip": (lambda: gzip.compress(small_file()), f"a gzip-compressed file, {COMPRESSED}"),
    "zip": (zipped, "a zip archive (or an Excel workbook), not CSV text"),
    "bzip2": (lambda: bz2.compress(small_file()), f"a bzip2-compressed file, {COMPRESSED}"),
    "xz": (lambda: lzma.compress(small_file()), f"an xz-compressed file, {COMPRESSED}"),
    "zstd": (zstd, f"a zstd-compressed file, {COMPRESSED}"),
    "parquet": (parquet, "a Parquet file, not CSV text"),
    "utf-16-le BOM": (
        lambda: b"\xff\xfe" + small_text().encode("utf-16-le"),
        "UTF-16 (little-endian byte order mark): save it as UTF-8",
    ),
    "utf-16-be BOM": (
        lambda: b"\xfe\xff" + small_text().encode("utf-16-be"),
        "UTF-16 (big-endian byte order mark): save it as UTF-8",
    ),
    # Without a byte order mark UTF-16 is known by its NUL bytes (every other byte of ASCII text).
    "utf-16-le no BOM": (lambda: small_text().encode("utf-16-le"), BINARY),
    "utf-16-be no BOM": (lambda: small_text().encode("utf-16-be"), BINARY),
    "utf-32-be BOM": (
        lambda: b"\x00\x00\xfe\xff" + small_text().encode("utf-32-be"),
        "UTF-32 (big-endian byte order mark): save it as UTF-8",
    ),
    "mostly NUL": (mostly_nul, BINARY),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_a_file_in_another_format_is_rejected_whole_on_line_1_and_named_as_such(cases, kind):
    """Known by its first bytes, before any parsing: no header complaints, no row counted."""
    body, reason = FOREIGN[kind]
    case = cases.load(f"{kind}.csv", body())

    # The rejects file: the one line, under the contract's columns (the file has no header to show).
    assert case.assert_file_rejected(1, reason) == header()


def test_a_utf_32_le_file_is_not_called_utf_16(cases):
    case = cases.load("utf-32-le.csv", b"\xff\xfe\x00\x00" + small_text().encode("utf-32-le"))

    (error,) = case.run.error_lines  # rejected whole on line 1 (as it is), named as what it is (as it is not)
    assert "line 1: " in error and "(file rejected, " in error and case.load["rejected_rows"] == 0
    assert "UTF-16 (little-endian" not in error


def test_an_excel_97_workbook_is_named_as_such(cases):
    case = cases.load("superstore.xls", ole2_xls())

    (error,) = case.run.error_lines
    assert "line 1: " in error and "excel" in error.lower() and "(file rejected, " in error
    assert "missing column" not in error
    assert case.load["rejected_rows"] == 0


def test_a_byte_of_windows_1252_in_a_plain_ascii_file_loads_it_as_windows_1252(cases):
    """auto: not UTF-8 and no multi-byte UTF-8 sequence in it, so the whole
    object is read again as Windows-1252, where 0xE9 is é."""
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


def utf_8_with_a_stray_byte(prefix: bytes = b"") -> tuple[bytes, list[list[str]]]:
    """Valid UTF-8 on line 7, a Windows-1252 é (0xE9) on line 5; and the rows as meant."""
    body = rows(10, ascii=True)
    body[5][column(CUSTOMER_NAME)] = "Zoë Ångström"  # valid UTF-8, two lines below the bad byte
    body[3][column(CUSTOMER_NAME)] = MARK
    data = prefix + to_csv(header(), body).replace(MARK.encode(), b"Caf\xe9")
    body[3][column(CUSTOMER_NAME)] = "Caf\\xe9"  # as the rejects file shows it
    return data, body


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"], ids=["no BOM", "UTF-8 BOM"])
def test_a_stray_byte_in_a_utf_8_file_rejects_its_row_and_alters_no_other(cases, prefix):
    """A multi-byte UTF-8 sequence says the file is UTF-8: it is not read
    again as Windows-1252 (which would turn 'Zoë' into 'ZoÃ«'); only the row
    with the bad byte is rejected, every other row kept as it is."""
    data, body = utf_8_with_a_stray_byte(prefix)
    case = cases.load("mixed.csv", data)

    rejected = case.assert_rejected(5, CUSTOMER_NAME, "undecodable bytes e9 (not UTF-8)", source_rows=10)
    assert [r[3:] for r in rejected] == [body[3]]


def test_a_stray_byte_in_a_utf_8_file_with_only_a_bom_to_say_so_rejects_its_row(cases):
    """A byte order mark alone says UTF-8: the BOM is not read as 'ï»¿' in
    the first header name (no 'missing column'), the row with the bad byte
    is rejected."""
    case = cases.load("bom-cp1252.csv", b"\xef\xbb\xbf" + with_bytes(b"Caf\xe9"))

    rejected = case.assert_rejected(5, CUSTOMER_NAME, "undecodable bytes e9 (not UTF-8)", source_rows=10)
    expected = rows(10, ascii=True)[3]
    expected[column(CUSTOMER_NAME)] = "Caf\\xe9"
    assert [r[3:] for r in rejected] == [expected]


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
    """One NUL in a text file is a bad value, not binary data: only its row is rejected."""
    body = rows(10, ascii=True)
    body[3][column(name)] = value
    case = cases.load("nul.csv", to_csv(header(), body))

    rejected = case.assert_rejected(5, name, reason, source_rows=10)
    assert len(rejected) == 1
