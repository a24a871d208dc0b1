"""Order lines: a product with a discount of its sub-category, a quantity,
and sales and profit by the source's pricing rule, in exact integers; drawn
a block of lines at a time, as kinds of line (numbers) whose amounts and text
are made once."""

import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import filterfalse
from operator import add
from typing import NamedTuple

from superstore_generator.csv_output import as_bytes_text, csv_fields, format_ten_thousandths
from superstore_generator.new_entities import NewEntities
from superstore_generator.profile import Product, Profile
from superstore_generator.sampling import DrawTable, random_hits

LINES_PER_BLOCK = 4096
# A new product costs about what similar products of its sub-category cost.
PRICE_SPREAD = (0.8, 1.25)


def product_fields(product: Product) -> str:
    """Product ID .. Product Name, as a CSV fragment."""
    return csv_fields((product.product_id, product.category, product.sub_category, product.name))


def line_amounts(list_price_cents: int, margin_percent: int, discount: int, quantity: int) -> tuple[int, int]:
    """(sales, profit) in 1/10,000 dollars: quantity x price x (1 - discount)
    and quantity x price x (margin - discount)."""
    full_price = quantity * list_price_cents
    return full_price * (100 - discount), full_price * (margin_percent - discount)


def line_tail(fields: str, discount: int, quantity: int, sales: int, profit: int) -> str:
    """Product ID .. Profit with the line end, from the product's fields."""
    sales_text, profit_text = format_ten_thousandths(sales, min_places=2), format_ten_thousandths(profit)
    return f"{fields},{sales_text},{quantity},{_discount_text(discount)},{profit_text}\n"


@cache  # a dozen discounts
def _discount_text(percent: int) -> str:
    return format_ten_thousandths(percent * 100)  # percent -> 1/10,000


class NewProductLine(NamedTuple):
    """A line selling a new product: it stands in for the line drawn at
    `position` (sub-category, margin, discount, quantity) at another price."""

    position: int
    list_price_cents: int


@dataclass(frozen=True)
class LineBlock:
    kinds: array  # of unsigned ints, per line: see LineKinds
    new_products: list[NewProductLine]


class LineKinds:
    """Every line the reference's products allow: a (product, discount) pair
    and a quantity, numbered quantity x pairs + pair (their positions in the
    profile's distributions). Amounts and text of a kind are made when it is
    first drawn, then kept in lists indexed by kind: at most pairs x
    quantities of them (~80,000 from the Superstore file, ~15 MB), however
    many lines a batch holds."""

    def __init__(self, profile: Profile):
        pairs, quantities = profile.discounted_products, profile.quantities
        self.pairs = pairs.values
        self.quantities = quantities.values
        self.pair_draws = DrawTable(pairs.cum_weights)
        self.quantity_draws = DrawTable(quantities.cum_weights)
        # the first kind of each quantity
        self.quantity_kinds = list(range(0, len(self.quantities) * len(self.pairs), len(self.pairs)))
        kinds = len(self.pairs) * len(self.quantities)
        self.known = bytearray(kinds)
        self.sales = array("q", bytes(8 * kinds))
        self.profit = array("q", bytes(8 * kinds))
        self.tail = [""] * kinds
        self.pair_fields: dict[int, str] = {}

    def draw(self, rng: random.Random, count: int) -> list[int]:
        quantity_kinds = map(self.quantity_kinds.__getitem__, self.quantity_draws.draw(rng, count))
        return list(map(add, quantity_kinds, self.pair_draws.draw(rng, count)))

    def describe(self, kind: int) -> tuple[Product, int, int]:
        """(product, discount percent, quantity)"""
        quantity, pair = divmod(kind, len(self.pairs))
        product, discount = self.pairs[pair]
        return product, discount, self.quantities[quantity]

    def amounts(self, block: LineBlock) -> tuple[int, int]:
        """The block's (sales, profit) in 1/10,000 dollars; learns the kinds
        of line met for the first time."""
        self._learn(block.kinds)
        sales = sum(map(self.sales.__getitem__, block.kinds))
        profit = sum(map(self.profit.__getitem__, block.kinds))
        for line in block.new_products:
            kind = block.kinds[line.position]
            like, discount, quantity = self.describe(kind)
            new_sales, new_profit = line_amounts(line.list_price_cents, like.margin_percent, discount, quantity)
            sales += new_sales - self.sales[kind]
            profit += new_profit - self.profit[kind]
        return sales, profit

    def tails(self, block: LineBlock, new: NewEntities) -> list[str]:
        """Product ID .. Profit of each line of the block with its line end,
        as output text (`as_bytes_text`). The block's amounts come first:
        they learn its kinds of line."""
        tails = list(map(self.tail.__getitem__, block.kinds))
        for line in block.new_products:
            like, discount, quantity = self.describe(block.kinds[line.position])
            product = new.product(like, line.list_price_cents)
            amounts = line_amounts(product.list_price_cents, product.margin_percent, discount, quantity)
            tails[line.position] = line_tail(as_bytes_text(product_fields(product)), discount, quantity, *amounts)
        return tails

    def _learn(self, kinds: array) -> None:
        """Makes the amounts and text of the kinds not met before."""
        if all(map(self.known.__getitem__, kinds)):
            return  # the rule once a batch is under way
        for kind in filterfalse(self.known.__getitem__, set(kinds)):
            product, discount, quantity = self.describe(kind)
            sales, profit = line_amounts(product.list_price_cents, product.margin_percent, discount, quantity)
            fields = self._fields(kind % len(self.pairs))
            self.sales[kind], self.profit[kind] = sales, profit
            self.tail[kind] = line_tail(fields, discount, quantity, sales, profit)
            self.known[kind] = 1

    def _fields(self, pair: int) -> str:
        """The pair's product fields as output text, made once per pair."""
        if pair not in self.pair_fields:
            self.pair_fields[pair] = as_bytes_text(product_fields(self.pairs[pair][0]))
        return self.pair_fields[pair]


def line_blocks(kinds: LineKinds, rng: random.Random, rows: int, new_product_share: float) -> Iterator[LineBlock]:
    """The batch's `rows` lines, LINES_PER_BLOCK at a time."""
    for start in range(0, rows, LINES_PER_BLOCK):
        count = min(LINES_PER_BLOCK, rows - start)
        drawn = array("I", kinds.draw(rng, count))
        new_products = [
            NewProductLine(position, _new_price(kinds.describe(drawn[position])[0], rng))
            for position in random_hits(rng, count, new_product_share)
        ]
        yield LineBlock(drawn, new_products)


def _new_price(like: Product, rng: random.Random) -> int:
    return max(1, round(like.list_price_cents * rng.uniform(*PRICE_SPREAD)))
