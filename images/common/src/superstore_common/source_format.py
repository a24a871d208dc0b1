"""The Superstore source file's format, as the generator writes it and the
loader reads it: the header (the columns in file order) and the dates.

Dates come as M/D/YYYY without leading zeros (the source's 11/8/2016) or as
YYYY-MM-DD (2016-11-08, the ISO-dated public copy of the data set); both are
read, the source's way is written. Patterns use [0-9], not \\d: only ASCII
digits."""

import re
from datetime import date
from functools import cache

HEADER: tuple[str, ...] = tuple(
    (
        "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,Country,City,State,"
        "Postal Code,Region,Product ID,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit"
    ).split(",")
)


def column_name(header: str) -> str:
    """A source column's name in the warehouse: 'Sub-Category' -> 'sub_category'."""
    return header.lower().replace(" ", "_").replace("-", "_")


_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


@cache  # a file holds a few thousand distinct dates at most; invalid ones are not cached
def parse_date(text: str) -> date:
    """M/D/YYYY (the source's) or YYYY-MM-DD; ValueError, with the reason
    shown to users, for anything else."""
    if match := _US_DATE.fullmatch(text):
        month, day, year = map(int, match.groups())
    elif match := _ISO_DATE.fullmatch(text):
        year, month, day = map(int, match.groups())
    else:
        raise ValueError(f"unparseable date {text!r} (expected M/D/YYYY or YYYY-MM-DD)")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"unparseable date {text!r} (no such date)") from None


def format_date(day: date) -> str:
    """11/8/2016: month/day/year without leading zeros, as in the source."""
    return f"{day.month}/{day.day}/{day.year}"
