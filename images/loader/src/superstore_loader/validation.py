"""The exact path: a source CSV (already decoded) parsed by the csv module
and validated chunk by chunk; what it loads and rejects, with which lines,
is the reference the fast path (fast_path.py) must match.

A chunk of rows is transposed into columns and each column is checked at
once (columns.py); only a chunk that fails that is checked row by row, which
finds the exact column and reason of each bad row.
"""

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TextIO

import pyarrow as pa

from superstore_loader.columns import SOURCE_COLUMNS, InvalidValue, normalize_columns
from superstore_loader.rejects import Reject, Rejects

# Large enough to amortize the per-column Arrow calls of a chunk.
CHUNK_ROWS = 5000
HEADER_LINE = 1

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what the csv reader counts as a line
_UNDECODABLE = re.compile(r"[\udc80-\udcff]+")  # bytes kept by the surrogateescape error handler


@dataclass
class Chunk:
    """Valid rows: one Arrow array per source column in staging order, and
    the line each row starts on."""

    columns: list[pa.Array]
    lines: pa.Array
    # True when no value holds a backslash, tab or line break, so nothing
    # needs escaping (the fast path knows it from the raw bytes).
    plain: bool = False

    def __len__(self) -> int:
        return len(self.lines)


class Layout:
    """Where each source column sits in the file's rows (any order is fine)."""

    def __init__(self, header: Sequence[str]):
        self.header = list(header)
        self.positions = [self.header.index(c.source) if c.source in self.header else None for c in SOURCE_COLUMNS]

    def problems(self) -> list[tuple[str, str]]:
        """(column, reason) for each way the header differs from the contract."""
        expected = {c.source for c in SOURCE_COLUMNS}
        found = [(c.source, "missing column") for c, p in zip(SOURCE_COLUMNS, self.positions, strict=True) if p is None]
        found += [(name, "unknown column") for name in self.header if name not in expected]
        found += [(name, "duplicate column") for name in sorted(expected) if self.header.count(name) > 1]
        return found


class Validation:
    """Validates one source object: yields its valid chunks until the first
    rejected row, then keeps reading only to collect every rejected row."""

    def __init__(self, rejects: Rejects, *, exact: bool = False, decoded_as: str = ""):
        self.rejects = rejects
        # exact: check every row on its own, to find the rows behind a
        # failure (undecodable bytes: kept as surrogates; a value the
        # warehouse refused). decoded_as: the encoding(s) tried, for messages.
        self.exact = exact
        self.decoded_as = decoded_as
        self.source_rows = 0

    def chunks(self, text: TextIO) -> Iterator[Chunk]:
        # strict: a quote that opens a field must close it where the field
        # ends; a lenient reader would silently merge the lines in between.
        reader = csv.reader(text, strict=True)
        rows = _RowsOf(reader)
        try:
            yield from self._chunks(reader, rows)
        except csv.Error as error:  # a bad quote, a field over the csv module's size limit
            hint = _CSV_HINTS.get(str(error), "")
            self.rejects.add(Reject(rows.start, "", f"malformed CSV: {error}{hint}", []))

    def _chunks(self, reader, rows: Iterator[list[str]]) -> Iterator[Chunk]:
        header = next(rows, None)
        if header is None:
            self.rejects.add_file(HEADER_LINE, "empty file: no header row")
            return
        if not header:
            self.rejects.add_file(HEADER_LINE, "the first line is blank: expected the header row")
            return
        self.rejects.header = header
        layout = Layout(header)
        if problems := layout.problems():
            for column, reason in problems:
                self.rejects.add(Reject(HEADER_LINE, column, reason, header))
            return
        for chunk_rows, lines in _row_chunks(reader, rows):
            self.source_rows += len(chunk_rows)
            chunk = self._validate(layout, chunk_rows, lines)
            if not self.rejects:
                yield chunk
        if self.source_rows == 0:
            self.rejects.add_file(HEADER_LINE + 1, "no data rows after the header")

    def _validate(self, layout: Layout, rows: list[list[str]], lines: Sequence[int]) -> Chunk:
        if not self.exact and set(map(len, rows)) == {len(layout.header)}:
            columns = list(zip(*rows, strict=True))
            normalized = normalize_columns([pa.array(columns[p], pa.string()) for p in layout.positions])
            if normalized is not None:
                return Chunk(normalized, pa.array(lines, pa.int64()))
        kept_rows, kept_lines = [], []
        for row, line in zip(rows, lines, strict=True):
            try:
                kept_rows.append(self._normalize_row(layout, row))
                kept_lines.append(line)
            except _RowRejected as rejected:
                self.rejects.add(Reject(line, rejected.column, rejected.reason, row))
        columns = list(zip(*kept_rows, strict=True)) or [() for _ in SOURCE_COLUMNS]
        return Chunk([pa.array(values, pa.string()) for values in columns], pa.array(kept_lines, pa.int64()))

    def _normalize_row(self, layout: Layout, row: list[str]) -> list[str]:
        width = len(layout.header)
        if len(row) != width:
            column = layout.header[len(row)] if len(row) < width else f"#{width + 1}"
            raise _RowRejected(column, f"row has {len(row)} fields, the header {width}")
        values = []
        for column, position in zip(SOURCE_COLUMNS, layout.positions, strict=True):
            value = row[position]
            if not value.isascii() and (undecodable := _UNDECODABLE.search(value)):
                raw = undecodable.group().encode("utf-8", "surrogateescape")
                raise _RowRejected(column.source, f"undecodable bytes {raw.hex(' ')} (not {self.decoded_as})")
            try:
                values.append(column.kind.normalize(value))
            except InvalidValue as invalid:
                raise _RowRejected(column.source, str(invalid)) from None
        return values


class _RowRejected(Exception):
    def __init__(self, column: str, reason: str):
        self.column, self.reason = column, reason


_CSV_HINTS = {
    "',' expected after '\"'": " (a quoted field must end with its closing quote; a quote inside it is doubled)",
    "unexpected end of data": " (a quoted field is never closed)",
}


class _RowsOf:
    """The reader's rows, remembering the line the row being read starts on."""

    def __init__(self, reader):
        self.reader = reader
        self.start = 1

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        self.start = self.reader.line_num + 1
        return next(self.reader)


def _row_chunks(reader, rows: Iterator[list[str]]) -> Iterator[tuple[list[list[str]], Sequence[int]]]:
    """Chunks of non-blank rows with the line each row starts on."""
    last_line = reader.line_num
    while chunk := list(islice(rows, CHUNK_ROWS)):
        if reader.line_num - last_line == len(chunk) and [] not in chunk:
            lines = range(last_line + 1, reader.line_num + 1)  # one line per row: the usual case
        else:
            chunk, lines = _locate_rows(chunk, last_line)
        last_line = reader.line_num
        if chunk:
            yield chunk, lines


def _locate_rows(rows: list[list[str]], last_line: int) -> tuple[list[list[str]], list[int]]:
    """Skip blank lines and count the line breaks inside quoted fields."""
    kept, lines, line = [], [], last_line
    for row in rows:
        line += 1
        if row:
            kept.append(row)
            lines.append(line)
            line += sum(len(_LINE_BREAK.findall(field)) for field in row)
    return kept, lines
