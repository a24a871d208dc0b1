"""How the generator writes values of the source format (the header and the
dates are superstore_common.source_format's): CSV fragments, UTF-8 bytes as
text, decimal amounts, published postal codes."""

import csv
import io
import re
from collections.abc import Sequence

_QUOTE_OR_LINE_BREAK = re.compile(r'["\r\n]')
US = "United States"
ZIP_DIGITS = 5


def csv_fields(values: Sequence[str]) -> str:
    """Values as one CSV fragment (quoted where needed, no line end), to be
    joined with other fragments into a line."""
    joined = ",".join(values)
    if joined.count(",") == len(values) - 1 and not _QUOTE_OR_LINE_BREAK.search(joined):
        return joined  # the rule: no value holds a comma, a quote or a line break
    buffer = io.StringIO()
    # Values holding a character of the line terminator get quoted.
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().removesuffix("\r\n")


def as_bytes_text(text: str) -> str:
    """`text`'s UTF-8 bytes, one character per byte (latin-1). Output is built
    from fragments in this form: joined, they stay one byte per character
    even when a product name holds a U+FFFD, and encode to the UTF-8 file
    with `.encode("latin-1")`, a plain copy (a real UTF-8 encode of such
    text costs about as much as generating it)."""
    return text.encode("utf-8").decode("latin-1")


def published_postal_code(country: str, postal_code: str) -> str:
    """The postal code as the star schema publishes it (dim_locations), and as
    the generator writes it: a US ZIP code is 5 characters. The source lost
    the leading zero of 438 New England and New Jersey codes (2149 for 02149,
    while 05408 kept its own); restored like dbt's `us_zip_code`: lpad to 5
    with '0'."""
    if country == US and len(postal_code) < ZIP_DIGITS:
        return postal_code.rjust(ZIP_DIGITS, "0")
    return postal_code


def format_ten_thousandths(value: int, min_places: int = 0) -> str:
    """An amount held in 1/10,000 units as a decimal string without trailing
    zeros beyond `min_places`: (2619600, 2) -> '261.96', (419136) -> '41.9136',
    (22972008603, 4) -> '2297200.8603'."""
    whole, fraction = divmod(abs(value), 10_000)
    places = f"{fraction:04d}".rstrip("0").ljust(min_places, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{places}" if places else f"{sign}{whole}"
