"""The Superstore source CSV format: header, US dates, decimal amounts."""

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

HEADER = (
    "Row ID,Order ID,Order Date,Ship Date,Ship Mode,Customer ID,Customer Name,Segment,Country,City,State,"
    "Postal Code,Region,Product ID,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit"
).split(",")


def csv_fields(values: Iterable[str]) -> str:
    """Values as one CSV fragment (quoted where needed, no line end), to be
    joined with other fragments into a line."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


def format_date(day: date) -> str:
    """11/8/2016: month/day/year without leading zeros, as in the source."""
    return f"{day.month}/{day.day}/{day.year}"


def parse_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def format_ten_thousandths(value: int, min_places: int = 0) -> str:
    """An amount held in 1/10,000 units as a decimal string without trailing
    zeros beyond `min_places`: (2619600, 2) -> '261.96', (419136) -> '41.9136',
    (22972008603, 4) -> '2297200.8603'."""
    whole, fraction = divmod(abs(value), 10_000)
    places = f"{fraction:04d}".rstrip("0").ljust(min_places, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole}.{places}" if places else f"{sign}{whole}"
