"""The source file's columns, how each value is checked, and the staging table
dbt reads (same order, plus lineage columns).

Every kind of value has two checks that must agree:
- `normalize_all` looks at a whole column of a chunk at C speed (joined
  strings, regexes, map); it may refuse a column it is unsure about, never
  accept a value `normalize` would refuse;
- `normalize` checks one value exactly and says what is wrong with it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache


class InvalidValue(ValueError):
    """A value that cannot be loaded; the message is the reason shown to users."""


def _all_match(pattern: re.Pattern, values: Sequence[str]) -> bool:
    """One regex pass over the whole column; the newline count catches values
    that themselves contain the separator."""
    joined = "\n".join(values)
    return joined.count("\n") == len(values) - 1 and pattern.fullmatch(joined) is not None


def _repeated(value_pattern: str) -> re.Pattern:
    return re.compile(f"(?:{value_pattern}\n)*{value_pattern}", re.ASCII)


class Text:
    """Text of at most `max_bytes` bytes in UTF-8; `required`: not empty."""

    def __init__(self, max_bytes: int, required: bool = False):
        self.max_bytes = max_bytes
        self.required = required
        self.sql_type = f"varchar({max_bytes})"  # Redshift counts bytes, so lengths are checked in bytes

    def normalize_all(self, values):
        if self.required and not all(values):
            return None
        longest = max(map(len, values))
        # A UTF-8 character takes at most 4 bytes; ASCII exactly one.
        if longest * 4 <= self.max_bytes or (longest <= self.max_bytes and "".join(values).isascii()):
            return values
        return None

    def normalize(self, value):
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
    _pattern = re.compile(r"-?\d{1,10}", re.ASCII)  # ASCII: \d would also match other scripts' digits
    _column_pattern = _repeated(r"-?\d{1,9}")  # 9 digits always fit; 10 get the exact check

    def normalize_all(self, values):
        return values if _all_match(self._column_pattern, values) else None

    def normalize(self, value):
        if not self._pattern.fullmatch(value) or not -(2**31) <= int(value) < 2**31:
            raise InvalidValue(f"not an integer: {value!r}")
        return value


class Number:
    """A decimal kept as written: no float, no rounding; more decimals than
    the column's scale is an error, not something to round away."""

    def __init__(self, precision: int, scale: int):
        self.sql_type = f"numeric({precision},{scale})"
        self.scale = scale
        self._digits = (precision - scale, scale)
        value_pattern = rf"-?\d{{1,{precision - scale}}}(?:\.\d{{1,{scale}}})?"
        self._pattern = re.compile(value_pattern, re.ASCII)
        self._column_pattern = _repeated(value_pattern)

    def normalize_all(self, values):
        return values if _all_match(self._column_pattern, values) else None

    def normalize(self, value):
        if not self._pattern.fullmatch(value):
            whole, decimals = self._digits
            raise InvalidValue(
                f"not a number with at most {whole} digits before and {decimals} after the decimal point: {value!r}"
            )
        return value


_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


@cache  # a file has a few thousand distinct dates at most; invalid ones are not cached
def iso_date(value: str) -> str:
    if match := _US_DATE.fullmatch(value):
        month, day, year = map(int, match.groups())
    elif match := _ISO_DATE.fullmatch(value):
        year, month, day = map(int, match.groups())
    else:
        raise InvalidValue(f"unparseable date {value!r} (expected M/D/YYYY or YYYY-MM-DD)")
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise InvalidValue(f"unparseable date {value!r} (no such date)") from None


class Date:
    """M/D/YYYY (the source's US format) or YYYY-MM-DD, loaded as YYYY-MM-DD."""

    sql_type = "date"

    def normalize_all(self, values):
        try:
            return list(map(iso_date, values))
        except InvalidValue:
            return None

    def normalize(self, value):
        return iso_date(value)


@dataclass(frozen=True)
class Column:
    source: str  # header in the source file
    name: str  # column in the staging table
    kind: Text | Integer | Number | Date


SOURCE_COLUMNS: tuple[Column, ...] = (
    Column("Row ID", "row_id", Integer()),
    Column("Order ID", "order_id", Text(32, required=True)),
    Column("Order Date", "order_date", Date()),
    Column("Ship Date", "ship_date", Date()),
    Column("Ship Mode", "ship_mode", Text(32)),
    Column("Customer ID", "customer_id", Text(32, required=True)),
    Column("Customer Name", "customer_name", Text(128)),
    Column("Segment", "segment", Text(32)),
    Column("Country", "country", Text(64)),
    Column("City", "city", Text(128)),
    Column("State", "state", Text(64)),
    Column("Postal Code", "postal_code", Text(16)),  # text: leading zeros are data
    Column("Region", "region", Text(32)),
    Column("Product ID", "product_id", Text(32, required=True)),
    Column("Category", "category", Text(64)),
    Column("Sub-Category", "sub_category", Text(64)),
    Column("Product Name", "product_name", Text(512)),
    Column("Sales", "sales", Number(18, 4)),
    Column("Quantity", "quantity", Integer()),
    Column("Discount", "discount", Number(6, 4)),
    Column("Profit", "profit", Number(18, 4)),
)

# Where each staged row came from; filled by the loader, not the source.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_batch_id", "varchar(128)"),
    ("_source_bucket", "varchar(256)"),
    ("_source_key", "varchar(1024)"),
    ("_source_etag", "varchar(128)"),
    ("_source_line", "integer"),
)

STAGING_COLUMNS: tuple[tuple[str, str], ...] = (
    *((column.name, column.kind.sql_type) for column in SOURCE_COLUMNS),
    *LINEAGE_COLUMNS,
)

SALES = next(i for i, column in enumerate(SOURCE_COLUMNS) if column.name == "sales")
PROFIT = next(i for i, column in enumerate(SOURCE_COLUMNS) if column.name == "profit")
