"""The fast path (Arrow) against the exact path (csv module): the same rows,
values and line numbers, or it declines the object."""

import io
import random

import pytest
from conftest import SOURCE, source_rows, to_csv
from superstore_loader import fast_path
from superstore_loader.columns import SOURCE_COLUMNS, Text
from superstore_loader.rejects import Rejects
from superstore_loader.validation import Validation

UTF_8 = fast_path.UTF_8
HEADER = [c.source for c in SOURCE_COLUMNS]
PRODUCT_NAME = HEADER.index("Product Name")


def exact(data: bytes, encoding: str = UTF_8) -> list[tuple] | None:
    """(line, *values) of each row the exact path loads; None if it rejects the file."""
    validation = Validation(Rejects())
    chunks = list(validation.chunks(io.StringIO(data.decode(encoding), newline="")))
    return None if validation.rejects else _rows(chunks)


def fast(data: bytes, encoding: str = UTF_8) -> list[tuple]:
    return _rows(fast_path.chunks(io.BytesIO(data), encoding))


def _rows(chunks) -> list[tuple]:
    return [
        (line, *values)
        for chunk in chunks
        for line, *values in zip(
            chunk.lines.to_pylist(), *(column.to_pylist() for column in chunk.columns), strict=True
        )
    ]


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(fast_path, "BLOCK_BYTES", 4096)  # many blocks, cut anywhere in a row


def some_rows(count: int = 6) -> list[list[str]]:
    return source_rows()[1][:count]


def test_the_real_file_loads_as_on_the_exact_path(small_blocks):
    data = SOURCE.read_bytes()
    chunks = list(fast_path.chunks(io.BytesIO(data), UTF_8))

    assert len(chunks) > 100 and all(chunk.plain for chunk in chunks)
    assert _rows(chunks) == exact(data)


def _crlf_and_byte_order_mark():
    return ("\ufeff" + to_csv(HEADER, some_rows(), line_terminator="\r\n")).encode()


def _columns_in_another_order():
    order = list(reversed(range(len(HEADER))))
    return to_csv([HEADER[i] for i in order], [[row[i] for i in order] for row in some_rows()]).encode()


def _no_final_line_break():
    return to_csv(HEADER, some_rows()).rstrip("\n").encode()


def _line_breaks_in_values():
    rows = some_rows()
    for row, name in zip(rows[1:], ['Chair, "deluxe"\nsecond line', "a\r\nb\rc\n", "\r\n\r\n"], strict=False):
        row[PRODUCT_NAME] = name
    return to_csv(HEADER, rows, line_terminator="\r\n").encode()


def _characters_copy_text_escapes():
    rows = some_rows()
    rows[2][PRODUCT_NAME] = "back\\slash\tand tab, \\N"
    return to_csv(HEADER, rows).encode()


@pytest.mark.parametrize(
    "make_file", [_crlf_and_byte_order_mark, _columns_in_another_order, _no_final_line_break,
                  _line_breaks_in_values, _characters_copy_text_escapes],
)  # fmt: skip
def test_files_load_as_on_the_exact_path(make_file):
    data = make_file()

    assert fast(data) == exact(data) is not None


def test_quoted_line_breaks_move_the_next_rows_lines():
    lines = [row[0] for row in fast(_line_breaks_in_values())]

    assert lines == [2, 3, 5, 9, 12, 13]  # 1, 3 and 2 line breaks inside values


def test_escaping_is_asked_for_only_where_a_value_may_need_it(small_blocks):
    plain = [chunk.plain for chunk in fast_path.chunks(io.BytesIO(_characters_copy_text_escapes()), UTF_8)]
    breaks = [chunk.plain for chunk in fast_path.chunks(io.BytesIO(_line_breaks_in_values()), UTF_8)]

    assert plain == [False] and breaks == [False]


def test_windows_1252_is_transcoded():
    rows = some_rows()
    rows[1][6] = "Zoë Ångström – 1€"
    data = to_csv(HEADER, rows).encode("cp1252")

    assert fast(data, "cp1252") == exact(data, "cp1252") is not None


def test_bytes_that_are_not_utf_8_raise_as_on_the_exact_path():
    rows = some_rows()
    rows[3][6] = "Zoë"
    data = to_csv(HEADER, rows).encode("cp1252")

    with pytest.raises(UnicodeDecodeError):
        fast(data)
    with pytest.raises(UnicodeDecodeError):
        exact(data)


def _with_row(change):
    rows = some_rows()
    change(rows)
    return to_csv(HEADER, rows)


@pytest.mark.parametrize(
    "text",
    [
        to_csv(HEADER, some_rows()).replace("\n", "\n\n", 3),  # blank lines: the csv module skips them
        to_csv(HEADER, some_rows()) + "\n",
        to_csv(HEADER, some_rows()).replace("\n", "\r"),  # old Mac line ends
        _with_row(lambda rows: rows[2].__setitem__(17, "12,5")),  # a bad value: the exact path says which
        _with_row(lambda rows: rows[4].pop()),
        _with_row(lambda rows: rows[1].__setitem__(PRODUCT_NAME, "x" * 513)),
        to_csv(HEADER[:-1], [row[:-1] for row in some_rows()]),
        to_csv(HEADER, []),
        "",
    ],
    ids=["blank-lines", "final-blank-line", "carriage-returns", "bad-value", "short-row", "long-value",
         "missing-column", "no-rows", "empty"],
)  # fmt: skip
def test_what_the_fast_path_cannot_vouch_for_is_declined(text):
    with pytest.raises(fast_path.Declined):
        fast(text.encode())


def test_a_line_longer_than_a_block_is_declined(small_blocks):
    rows = some_rows()
    rows[1][PRODUCT_NAME] = "x" * (2 * fast_path.BLOCK_BYTES)

    with pytest.raises(fast_path.Declined, match="longer than"):
        fast(to_csv(HEADER, rows).encode())


# Pieces that make CSV hard: quotes, separators, every kind of line break,
# COPY's escapes, multi-byte characters.
_PIECES = ['"', ",", "\n", "\r\n", "\r", "\\", "\t", '""', " ", "é", "\ufffd"]
_TEXT = [i for i, column in enumerate(SOURCE_COLUMNS) if isinstance(column.kind, Text)]


def _random_file(rnd: random.Random, rows: list[list[str]]) -> bytes:
    def field(value: str) -> str:
        if rnd.random() < 0.3:
            value = "".join(rnd.choice(_PIECES) if rnd.random() < 0.3 else c for c in value[:6]) + value[6:]
        quoting = rnd.random()
        if quoting < 0.45 and not any(c in value for c in ',"\r\n'):
            return value
        return '"' + value.replace('"', '""') + '"' if quoting < 0.9 else value  # the last: often malformed

    lines = [",".join(HEADER)]
    for row in rnd.sample(rows, rnd.randint(1, 8)):
        lines.append(",".join(field(v) if i in _TEXT else v for i, v in enumerate(row)))
        if rnd.random() < 0.03:
            lines.append("")
    end = rnd.choice(["\n", "\r\n"])
    return ("\ufeff" * (rnd.random() < 0.1) + end.join(lines) + rnd.choice([end, "", end + end])).encode()


def test_random_hard_files_load_as_on_the_exact_path_or_are_declined(monkeypatch):
    rnd, rows = random.Random(20240601), source_rows()[1]
    loaded = 0
    for _ in range(600):
        monkeypatch.setattr(fast_path, "BLOCK_BYTES", rnd.choice([300, 1000, 1 << 20]))
        data = _random_file(rnd, rows)
        try:
            rows_loaded = fast(data)
        except fast_path.Declined:
            continue
        assert rows_loaded == exact(data), data
        loaded += 1
    assert loaded > 50  # the comparison ran on files with hard values, not only on declined ones


def test_a_stray_quote_closed_lines_later_is_declined_and_rejected_by_the_exact_path():
    """Arrow reads `"Stray` ... `"Quoted"` as one value spanning the lines; it must not load as such."""
    rows = some_rows()
    rows[1][PRODUCT_NAME], rows[2][PRODUCT_NAME] = "MARK1", "MARK2"  # lines 3 and 4
    data = to_csv(HEADER, rows).encode().replace(b"MARK1", b'"Stray quote').replace(b"MARK2", b'"Quoted" name')

    with pytest.raises(fast_path.Declined):
        fast(data)
    validation = Validation(Rejects())
    list(validation.chunks(io.StringIO(data.decode(), newline="")))
    assert validation.rejects.first.line == 3 and "malformed CSV" in validation.rejects.first.reason
