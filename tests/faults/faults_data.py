"""Source files for the faults, made from the data set under test
(stack.source_csv()): a small initial history, then batches of new orders
(new order ids, dated after the history, so that dbt's checks accept them)
and one file of a million lines. Each file knows its row count and sums."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache

from stack import source_csv
from superstore_common.source_format import HEADER, parse_date

HISTORY_ORDERS = 150
BATCH_ORDERS = 60
# Batches are dated this much after the history's orders (it ends in 2017).
SHIFT = timedelta(days=4 * 365)
ORDER_ID, ORDER_DATE, SHIP_DATE, SALES, PROFIT = map(
    HEADER.index, ("Order ID", "Order Date", "Ship Date", "Sales", "Profit")
)


@dataclass(frozen=True)
class SourceFile:
    body: bytes
    rows: int
    sales: Decimal
    profit: Decimal


@cache
def _source() -> tuple[list[str], list[list[list[str]]]]:
    """The header and the source's orders (their lines, in file order)."""
    with source_csv().open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        orders: dict[str, list[list[str]]] = {}
        for row in reader:
            orders.setdefault(row[ORDER_ID], []).append(row)
    return header, list(orders.values())


def _file(header: list[str], rows: list[list[str]]) -> SourceFile:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return SourceFile(
        out.getvalue().encode(),
        len(rows),
        sum((Decimal(r[SALES]) for r in rows), Decimal(0)),
        sum((Decimal(r[PROFIT]) for r in rows), Decimal(0)),
    )


def history() -> SourceFile:
    """The first orders of the source, as they are: what the initial load publishes."""
    header, orders = _source()
    return _file(header, [line for order in orders[:HISTORY_ORDERS] for line in order])


def _renamed(order: list[list[str]], order_id: str) -> Iterator[list[str]]:
    for line in order:
        new = list(line)
        new[ORDER_ID] = order_id
        new[ORDER_DATE] = (parse_date(line[ORDER_DATE]) + SHIFT).isoformat()
        new[SHIP_DATE] = (parse_date(line[SHIP_DATE]) + SHIFT).isoformat()
        yield new


def batch(number: int, orders: int = BATCH_ORDERS) -> SourceFile:
    """New orders (ids CA-2099-<batch><n>) by the source's customers, of its
    products, dated after the history. Different numbers: different orders."""
    header, source = _source()
    pool = source[HISTORY_ORDERS:]
    start = (number * orders) % (len(pool) - orders)
    rows = [
        line
        for n, order in enumerate(pool[start : start + orders])
        for line in _renamed(order, f"CA-2099-{number:03d}{n:05d}")
    ]
    for row_id, row in enumerate(rows, 1):
        row[0] = str(row_id)
    return _file(header, rows)


@cache
def million() -> SourceFile:
    """1,000,000 lines: the source's orders over and over, each copy with new
    order ids (M<copy>-<id>) and dated after the history (row ids repeat per
    copy: the raw layer keeps them, nothing downstream reads them)."""
    header, source = _source()
    lines = [line for order in source for line in _renamed(order, f"M{MARK}-{order[0][ORDER_ID]}")]
    copy_sums = [sum((Decimal(line[column]) for line in lines), Decimal(0)) for column in (SALES, PROFIT)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(lines)
    template = out.getvalue().encode()
    total = 1_000_000
    copies, rest = divmod(total, len(lines))
    last = template[: _nth_line_end(template, rest)]
    mark = MARK.encode()
    body = b"".join(
        [(",".join(header) + "\n").encode(), *(template.replace(mark, b"%03d" % copy) for copy in range(copies))]
        + [last.replace(mark, b"%03d" % copies)]
    )
    rest_sums = [sum((Decimal(line[column]) for line in lines[:rest]), Decimal(0)) for column in (SALES, PROFIT)]
    sales, profit = (copies * whole + part for whole, part in zip(copy_sums, rest_sums, strict=True))
    return SourceFile(body, total, sales, profit)


MARK = "\x00"


def _nth_line_end(text: bytes, n: int) -> int:
    end = 0
    for _ in range(n):
        end = text.index(b"\n", end) + 1
    return end
