"""The source file's columns (superstore_common.source_format's header), how
each value is checked, and the raw layer's rows table (same order, plus the
line and the load id).

Every kind of value declares its rule once and checks it two ways:
- `normalize_column` checks a whole column (an Arrow array) with Arrow's
  C++ kernels; it may refuse a column it is unsure about, never accept a
  value `normalize` would refuse (one exception: a NUL character, which the
  warehouse refuses, and then every row is checked);
- `normalize` checks one value exactly and says what is wrong with it.
Both return the values as they are loaded (dates as YYYY-MM-DD).

Patterns use [0-9], not \\d: the same digits for Python's re and Arrow's RE2.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc
from superstore_common.source_format import HEADER, column_name, parse_date


class InvalidValue(ValueError):
    """A value that cannot be loaded; the message is the reason shown to users."""


def _all_match(values: pa.Array, pattern: str) -> bool:
    return pc.all(pc.match_substring_regex(values, f"^(?:{pattern})$"), min_count=0).as_py()


class Text:
    """Text of at most `max_bytes` bytes in UTF-8; `required`: not empty."""

    def __init__(self, max_bytes: int, required: bool = False):
        self.max_bytes = max_bytes
        self.required = required
        self.sql_type = f"varchar({max_bytes})"  # Redshift counts bytes, so lengths are checked in bytes

    def normalize_column(self, values: pa.Array) -> pa.Array | None:
        lengths = pc.binary_length(values)
        too_short = self.required and pc.min(lengths).as_py() == 0
        return None if too_short or pc.max(lengths).as_py() > self.max_bytes else values

    def normalize(self, value: str) -> str:
        if self.required and not value:
            raise InvalidValue("required value is empty")
        if "\x00" in value:
            raise InvalidValue("contains a NUL character")
        if len(value.encode()) > self.max_bytes:
            raise InvalidValue(f"longer than {self.max_bytes} bytes")
        return value


class Integer:
    """A 32-bit integer, digits only."""

    sql_type = "integer"
    _digits = "-?[0-9]{1,10}"
    _pattern = re.compile(_digits)
    _range = (-(2**31), 2**31 - 1)

    def normalize_column(self, values: pa.Array) -> pa.Array | None:
        if not _all_match(values, self._digits):
            return None
        bounds = pc.min_max(values.cast(pa.int64())).as_py()  # ten digits always fit in 64 bits
        return values if self._range[0] <= bounds["min"] and bounds["max"] <= self._range[1] else None

    def normalize(self, value: str) -> str:
        if not self._pattern.fullmatch(value) or not self._range[0] <= int(value) <= self._range[1]:
            raise InvalidValue(f"not an integer: {value!r}")
        return value


class Number:
    """A decimal kept as written: no float, no rounding; more decimals than
    the column's scale is an error, not something to round away."""

    def __init__(self, precision: int, scale: int):
        self.sql_type = f"numeric({precision},{scale})"
        self.arrow_type = pa.decimal128(precision, scale)  # for exact sums
        self._digits = (precision - scale, scale)
        self._value_pattern = rf"-?[0-9]{{1,{precision - scale}}}(?:\.[0-9]{{1,{scale}}})?"
        self._pattern = re.compile(self._value_pattern)

    def normalize_column(self, values: pa.Array) -> pa.Array | None:
        return values if _all_match(values, self._value_pattern) else None

    def normalize(self, value: str) -> str:
        if not self._pattern.fullmatch(value):
            whole, decimals = self._digits
            raise InvalidValue(
                f"not a number with at most {whole} digits before and {decimals} after the decimal point: {value!r}"
            )
        return value


@cache  # a file has a few thousand distinct dates at most; invalid ones are not cached
def iso_date(value: str) -> str:
    """A date in one of the source's formats (superstore_common.source_format) as YYYY-MM-DD."""
    try:
        return parse_date(value).isoformat()
    except ValueError as error:
        raise InvalidValue(str(error)) from None


class Date:
    """M/D/YYYY (the source's US format) or YYYY-MM-DD, loaded as YYYY-MM-DD."""

    sql_type = "date"

    def normalize_column(self, values: pa.Array) -> pa.Array | None:
        # Few distinct dates: each is checked once, by the exact check itself.
        encoded = pc.dictionary_encode(values)
        try:
            iso = pa.array([iso_date(value) for value in encoded.dictionary.to_pylist()], pa.string())
        except InvalidValue:
            return None
        return pc.take(iso, encoded.indices)

    def normalize(self, value: str) -> str:
        return iso_date(value)


@dataclass(frozen=True)
class Column:
    source: str  # header in the source file
    name: str  # column in the staging table
    kind: Text | Integer | Number | Date


# Each source column's rule, by its staging name, in the header's order
# (superstore_common.source_format.HEADER: the columns themselves).
KINDS: dict[str, Text | Integer | Number | Date] = {
    "row_id": Integer(),
    "order_id": Text(32, required=True),
    "order_date": Date(),
    "ship_date": Date(),
    "ship_mode": Text(32),
    "customer_id": Text(32, required=True),
    "customer_name": Text(128),
    "segment": Text(32),
    "country": Text(64),
    "city": Text(128),
    "state": Text(64),
    "postal_code": Text(16),  # text: leading zeros are data
    "region": Text(32),
    "product_id": Text(32, required=True),
    "category": Text(64),
    "sub_category": Text(64),
    "product_name": Text(512),
    "sales": Number(18, 4),
    "quantity": Integer(),
    "discount": Number(6, 4),
    "profit": Number(18, 4),
}

SOURCE_COLUMNS: tuple[Column, ...] = tuple(
    Column(source, column_name(source), KINDS[column_name(source)]) for source in HEADER
)


def normalize_columns(columns: Sequence[pa.Array]) -> list[pa.Array] | None:
    """The source columns (staging order, at least one row) checked column by
    column; None as soon as one is refused."""
    normalized = []
    for column, values in zip(SOURCE_COLUMNS, columns, strict=True):
        if (checked := column.kind.normalize_column(values)) is None:
            return None
        normalized.append(checked)
    return normalized


# The raw layer's rows: the source columns, then where each row came from:
# its line in the object and its load (superstore_common.objects.load_id).
LINE_COLUMN = ("_source_line", "integer")
LOAD_ID_COLUMN = ("_load_id", "varchar(32)")
RAW_COLUMNS: tuple[tuple[str, str], ...] = (
    *((column.name, column.kind.sql_type) for column in SOURCE_COLUMNS),
    LINE_COLUMN,
    LOAD_ID_COLUMN,
)

SALES = next(i for i, column in enumerate(SOURCE_COLUMNS) if column.name == "sales")
PROFIT = next(i for i, column in enumerate(SOURCE_COLUMNS) if column.name == "profit")
