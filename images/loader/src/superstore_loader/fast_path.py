"""The fast path: a source object parsed by Arrow's CSV reader in blocks of
whole lines and checked column by column (columns.py); Python handles
blocks of a few MB, never single rows or values.

It loads an object only when it can vouch that the exact path
(validation.py) would load the same rows, values and line numbers. Anything
else raises `Declined` and the object goes through the exact path, which
says precisely what is wrong: a value that fails a column check, a row Arrow
cannot parse, a blank line, a header that differs from the contract.
"""

import csv
import io
import re
from collections.abc import Iterator
from functools import reduce
from itertools import chain
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from superstore_loader.columns import normalize_columns
from superstore_loader.validation import HEADER_LINE, Chunk, Layout

# Big enough to amortize the per-block calls; the memory in flight is a
# few times this.
BLOCK_BYTES = 1 << 20
UTF_8 = "utf-8-sig"  # the name load.py uses for UTF-8 (a byte order mark is allowed)
_LINE_BREAK = r"\r\n|\r|\n"  # what the csv module counts as a line


class Declined(Exception):
    """The fast path cannot vouch for this object; the exact path can."""


def chunks(body: BinaryIO, encoding: str) -> Iterator[Chunk]:
    """Valid chunks of the object, one per block; `encoding` is UTF-8 or a
    single-byte encoding (a \\n byte is then always a line feed)."""
    blocks = _utf8_blocks(body, encoding)
    first = next(blocks, b"")
    header_end = first.find(b"\n") + 1
    if not header_end:
        raise Declined("no line after the header")
    parse = _BlockParser(_layout(first[:header_end]))
    line = HEADER_LINE + 1
    for block in chain([first[header_end:]], blocks):
        if block:
            chunk, line = parse(block, line)
            yield chunk
    if line == HEADER_LINE + 1:
        raise Declined("no data rows")


def _utf8_blocks(body: BinaryIO, encoding: str) -> Iterator[bytes]:
    for block in _line_blocks(body):
        # Other encodings are transcoded; bytes they cannot decode raise
        # UnicodeDecodeError, as on the exact path. UTF-8 is checked by Arrow.
        yield block if encoding == UTF_8 else block.decode(encoding).encode()


def _line_blocks(body: BinaryIO) -> Iterator[bytes]:
    """The body in blocks that end after a line feed (the last one as the file ends)."""
    rest = b""
    while data := body.read(BLOCK_BYTES):
        cut = data.rfind(b"\n") + 1
        if cut:
            yield b"".join((rest, memoryview(data)[:cut]))  # one copy
            rest = data[cut:]
        else:
            rest += data
        if len(rest) > BLOCK_BYTES:
            raise Declined(f"a line longer than {BLOCK_BYTES} bytes")
    if rest:
        yield rest


def _layout(header_line: bytes) -> Layout:
    """The header as the exact path reads it: the csv module's reading of the
    first line, a byte order mark left out."""
    try:
        header = next(csv.reader([header_line.decode("utf-8-sig")]))
    except csv.Error as error:
        raise Declined(f"header: {error}") from None
    layout = Layout(header)
    if layout.problems():
        raise Declined("the header differs from the contract")
    return layout


class _BlockParser:
    def __init__(self, layout: Layout):
        self.layout = layout
        # A blank line is a row of empty values here (the csv module skips
        # it), which the checks refuse (Row ID is required): the object is
        # declined, and every line break of a block ends a row or is in a value.
        self.parse_options = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False)
        self.convert_options = pacsv.ConvertOptions(column_types={name: pa.string() for name in layout.header})

    def __call__(self, block: bytes, first_line: int) -> tuple[Chunk, int]:
        """The block's valid rows, and the line the next block starts on."""
        in_file = self._parse(block)
        columns = normalize_columns([in_file[p] for p in self.layout.positions])
        if columns is None:
            raise Declined("a value fails its column check")
        breaks = _line_breaks(block)
        lines, breaks_in_values = _first_lines(in_file, breaks, block.endswith((b"\n", b"\r")), first_line)
        if breaks_in_values or _SUSPECT_QUOTE.search(block):
            _check_quoting(block)
        plain = not breaks_in_values and b"\\" not in block and b"\t" not in block
        return Chunk(columns, lines, plain), first_line + breaks

    def _parse(self, block: bytes) -> list[pa.Array]:
        """The block's columns in file order."""
        # The block as one Arrow block: each column is one array (nothing to concatenate).
        read_options = pacsv.ReadOptions(column_names=self.layout.header, use_threads=False, block_size=len(block))
        try:
            table = pacsv.read_csv(
                pa.py_buffer(block), read_options=read_options,
                parse_options=self.parse_options, convert_options=self.convert_options,
            )  # fmt: skip
        except pa.ArrowInvalid:
            block.decode("utf-8")  # not UTF-8 at all: raise UnicodeDecodeError, as the exact path would
            raise Declined("Arrow cannot parse a block") from None  # its message quotes data: not logged
        return [column.chunk(0) for column in table.combine_chunks().columns]


# A quote between two characters that are neither a delimiter nor a quote:
# text after a closing quote ("Quoted" name), which Arrow keeps silently, or
# an inch mark in an unquoted value (24" wide), which is fine. Well-quoted
# CSV ("8.5"" x 11""") never has one. The pattern starts at the quote (the
# character before it a lookbehind): re then skips to each quote at C speed
# instead of trying the pattern at every byte of the block (~30x faster).
_SUSPECT_QUOTE = re.compile(rb'"(?<=[^,\r\n"]")[^,"\r\n]')


def _check_quoting(block: bytes) -> None:
    """Arrow reads a stray quote closed lines later as one value spanning
    them, and drops a closing quote with text after it; the csv module in
    strict mode refuses both. Only blocks with values spanning lines or a
    suspect quote can hide one, and only those pay for the second parse."""
    try:
        for _ in csv.reader(io.StringIO(block.decode("utf-8"), newline=""), strict=True):
            pass
    except csv.Error:
        raise Declined("malformed quoting") from None


def _line_breaks(block: bytes) -> int:
    if b"\r" not in block:
        return block.count(b"\n")
    return block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")


def _first_lines(columns: list[pa.Array], breaks: int, terminated: bool, first_line: int) -> tuple[pa.Array, int]:
    """The line each row starts on, and the line breaks inside values.

    Every line break of the block ends a row (a blank line is a row too),
    except the file's last line may have none, or lies inside a quoted
    value; counting those tells each row's first line exactly."""
    rows = len(columns[0])
    row_ends = rows if terminated else rows - 1
    if breaks == row_ends:  # one line per row: the usual case
        steps, inside = pa.repeat(pa.scalar(1, pa.int64()), rows), 0
    else:
        in_values = reduce(pc.add, (pc.count_substring_regex(values, _LINE_BREAK) for values in columns))
        inside = pc.sum(in_values).as_py()
        if breaks != row_ends + inside:  # e.g. a block cut inside a quoted value
            raise Declined("line breaks that end no row")
        steps = pc.add(in_values.cast(pa.int64()), 1)
    return pc.subtract(pc.cumulative_sum(steps, start=first_line), steps), inside
