"""One batch of new order lines, produced a block at a time (never held
whole): lines (lines.py) joined to the orders they belong to (orders.py).

The batch's totals are stored with the object, so they are needed before
its upload starts: a first pass draws the lines and adds up their amounts,
keeping the draws (about 4 bytes a line) in a temporary file; the second
pass reads them back and writes the text, in parts that go up while the
next are made. Each part of the batch draws from a random stream of its own
(spec.py)."""

import pickle
import tempfile
from collections.abc import Iterator
from itertools import islice
from typing import IO

from superstore_generator.csv_output import format_ten_thousandths
from superstore_generator.lines import LINES_PER_BLOCK, LineBlock, LineKinds, line_blocks
from superstore_generator.new_entities import NewEntities
from superstore_generator.order_ids import OrderIds
from superstore_generator.orders import Orders
from superstore_generator.reference import Reference
from superstore_generator.spec import BatchSpec

__all__ = ["Batch", "BatchSpec"]

SPOOL_BUFFER_BYTES = 1024 * 1024


class Batch:
    def __init__(self, spec: BatchSpec, reference: Reference):
        self.spec = spec
        self.reference = reference
        self.profile = reference.profile()
        self.kinds = LineKinds(self.profile)
        self._totals: dict[str, str] | None = None
        self._drawn_lines: IO[bytes] | None = None

    def totals(self) -> dict[str, str]:
        """Rows and exact sums, as stored with the object."""
        if self._totals is None:
            self._totals = self._draw_lines()
        return self._totals

    def chunks(self) -> Iterator[bytes]:
        """The CSV lines after the header (Row ID 1..rows), UTF-8, a few
        thousand lines per chunk."""
        spec = self.spec
        new = NewEntities(self.profile, spec.random_stream("new entities"), faker_seed=spec.seed)
        orders_rng = spec.random_stream("orders")
        orders = Orders(spec, self.profile, orders_rng, OrderIds(self.reference, orders_rng), new)
        order_parts, row = orders.per_line(), 0
        for block in self._drawn_blocks():
            tails = self.kinds.tails(block, new)
            count = len(tails)
            # Row ID, the order's fields, the line's: output text already
            # (one character per byte), put in place by slices.
            fragments = [""] * (3 * count)
            fragments[0::3] = map(str, range(row + 1, row + count + 1))
            fragments[1::3] = islice(order_parts, count)
            fragments[2::3] = tails
            row += count
            yield "".join(fragments).encode("latin-1")

    def _draw_lines(self) -> dict[str, str]:
        spec = self.spec
        # Read back in few system calls: each lets the upload threads take the GIL.
        self._drawn_lines = tempfile.TemporaryFile(buffering=SPOOL_BUFFER_BYTES)
        sales = profit = 0
        for block in line_blocks(self.kinds, spec.random_stream("lines"), spec.rows, spec.new_product_share):
            block_sales, block_profit = self.kinds.amounts(block)
            sales += block_sales
            profit += block_profit
            pickle.dump(block, self._drawn_lines, protocol=pickle.HIGHEST_PROTOCOL)
        return {
            "rows": str(spec.rows),
            "sales-sum": format_ten_thousandths(sales, min_places=4),
            "profit-sum": format_ten_thousandths(profit, min_places=4),
        }

    def _drawn_blocks(self) -> Iterator[LineBlock]:
        """The lines drawn by totals(), once."""
        self.totals()
        drawn, self._drawn_lines = self._drawn_lines, None
        if drawn is None:
            raise RuntimeError("a batch's lines are written once")
        with drawn:
            drawn.seek(0)
            for _ in range(0, self.spec.rows, LINES_PER_BLOCK):
                yield pickle.load(drawn)
