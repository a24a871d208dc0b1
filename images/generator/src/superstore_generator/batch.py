"""One batch of new order lines, produced chunk by chunk (never held whole).

Per order: a customer (new, or existing: at their current place, or at a new
one for the share of them who moved), a ship mode and its shipping delay, an
order date. Per line: a product (existing or new) with a discount of its
sub-category, a quantity, and sales and profit by the source's pricing rule,
in exact integer arithmetic.

Speed comes from drawing many orders' and lines' attributes at once from
pre-built distributions whose values are CSV fragments rendered once (a
customer's fields, a product's, an order date with its ship mode and ship
date), and from a bounded cache of rendered (product, discount, quantity)
line tails.
"""

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import lru_cache, partial

from superstore_generator.new_entities import NewEntities
from superstore_generator.order_ids import OrderIds
from superstore_generator.profile import Customer, Product, Profile
from superstore_generator.reference import Reference
from superstore_generator.source_format import csv_fields, format_date, format_ten_thousandths

# Order dates rise through the batch from as-of minus 6 days to as-of, so a
# customer's latest order in the file is also their latest by date.
ORDER_WINDOW_DAYS = 7
# Orders whose attributes are drawn in one go (a few hundred KB of text).
ORDERS_PER_DRAW = 1024
TAIL_CACHE_SIZE = 1 << 16  # about 16 MB


@dataclass(frozen=True)
class BatchSpec:
    rows: int
    seed: int
    as_of: date
    reference: str
    new_customer_share: float = 0.05  # of orders
    new_product_share: float = 0.02  # of lines
    moved_customer_share: float = 0.05  # of the existing customers in the batch

    @property
    def batch_id(self) -> str:
        """Derived from everything that shapes the batch: same spec, same id."""
        digest = hashlib.sha256(json.dumps(asdict(self), default=str, sort_keys=True).encode()).hexdigest()
        return f"gen-{self.as_of:%Y%m%d}-{digest[:12]}"


def customer_fields(customer: Customer) -> str:
    """Customer ID .. Region, as a CSV fragment."""
    place = customer.location
    return csv_fields(
        (
            customer.customer_id,
            customer.name,
            customer.segment,
            place.country,
            place.city,
            place.state,
            place.postal_code,
            place.region,
        )
    )


def product_fields(product: Product) -> str:
    """Product ID .. Product Name, as a CSV fragment."""
    return csv_fields((product.product_id, product.category, product.sub_category, product.name))


def shipping_fields(order_date: date, mode_and_days: tuple[str, int]) -> str:
    """Order Date, Ship Date, Ship Mode, as a CSV fragment."""
    mode, days = mode_and_days
    return csv_fields((format_date(order_date), format_date(order_date + timedelta(days=days)), mode))


def line_tail(product: Product, product_csv: str, discount: int, quantity: int) -> tuple[int, int, str]:
    """(sales, profit) in 1/10,000 dollars, and Product ID .. Profit as a CSV fragment."""
    full_price = quantity * product.list_price_cents
    sales = full_price * (100 - discount)
    profit = full_price * (product.margin_percent - discount)
    amounts = (
        format_ten_thousandths(sales, min_places=2),
        str(quantity),
        format_ten_thousandths(discount * 100),  # percent -> 1/10,000
        format_ten_thousandths(profit),
    )
    return sales, profit, f"{product_csv},{','.join(amounts)}"


class Batch:
    @classmethod
    def from_reference(cls, spec: BatchSpec, reference: Reference) -> "Batch":
        """A batch of `spec` learned from `reference`; one seeded generator
        drives every draw, so the same spec gives the same lines."""
        profile = reference.profile()
        rng = random.Random(spec.seed)
        return cls(spec, profile, OrderIds(reference, rng), rng, NewEntities(profile, rng, faker_seed=spec.seed))

    def __init__(self, spec: BatchSpec, profile: Profile, order_ids: OrderIds, rng: random.Random, new: NewEntities):
        self.spec = spec
        self.profile = profile
        self.order_ids = order_ids
        self.rng = rng
        self.new = new
        # Distributions whose values are rendered CSV fragments:
        # (product, discount, product fields) per line
        self.product_lines = profile.discounted_products.map(lambda pair: (*pair, product_fields(pair[0])))
        # Popular products sell the same quantity over and over: keep the
        # tails of (product line, quantity) pairs, boundedly so memory stays flat.
        self.known_tail = lru_cache(maxsize=TAIL_CACHE_SIZE)(self._known_tail)
        # (customer, customer fields) per order
        self.customers = profile.customers.map(lambda customer: (customer, customer_fields(customer)))
        # 'order date,ship date,ship mode' per order, one distribution per day before as-of
        self.order_dates = [spec.as_of - timedelta(days=days) for days in range(ORDER_WINDOW_DAYS)]
        self.shipping = [profile.shipping.map(partial(shipping_fields, day)) for day in self.order_dates]
        # customer id -> fields, for the existing customers met so far (bounded
        # by the reference's customers)
        self.met: dict[str, str] = {}
        # totals in 1/10,000 dollars, complete once chunks() is exhausted
        self.sales = 0
        self.profit = 0

    def totals(self) -> dict[str, str]:
        """Rows and exact sums, as stored with the object (complete once
        chunks() is exhausted)."""
        return {
            "rows": str(self.spec.rows),
            "sales-sum": format_ten_thousandths(self.sales, min_places=4),
            "profit-sum": format_ten_thousandths(self.profit, min_places=4),
        }

    def chunks(self) -> Iterator[str]:
        """The CSV lines after the header (Row ID 1..rows), a few thousand
        lines per string."""
        rows, row_id = self.spec.rows, 0
        while row_id < rows:
            # Draw the attributes of many orders and lines at once: far
            # fewer calls than drawing field by field.
            line_counts = self._line_counts(rows - row_id)
            customers = self._customers(len(line_counts))
            line_tails = self._line_tails(sum(line_counts))
            lines, first = [], 0
            for line_count, customer in zip(line_counts, customers, strict=True):
                days_before = ORDER_WINDOW_DAYS - 1 - row_id * ORDER_WINDOW_DAYS // rows
                order_id = self.order_ids.new(self.order_dates[days_before].year)
                order = f"{order_id},{self.shipping[days_before].sample(self.rng)},{customer}"
                for tail in line_tails[first : first + line_count]:
                    row_id += 1
                    lines.append(f"{row_id},{order},{tail}\n")
                first += line_count
            yield "".join(lines)

    def _line_counts(self, rows_left: int) -> list[int]:
        """Lines per order for the next orders, the last one cut to fit."""
        counts = []
        for count in self.profile.lines_per_order.sample_many(self.rng, ORDERS_PER_DRAW):
            counts.append(min(count, rows_left))
            rows_left -= counts[-1]
            if not rows_left:
                break
        return counts

    def _customers(self, orders: int) -> list[str]:
        """Customer ID .. Region per order: a new customer, or an existing one
        at their current place or, for those who moved, at their new one."""
        new_share, moved_share = self.spec.new_customer_share, self.spec.moved_customer_share
        kinds = [self.rng.random() for _ in range(orders)]
        fields = []
        for kind, (customer, current) in zip(kinds, self.customers.sample_many(self.rng, orders), strict=True):
            if kind < new_share:
                fields.append(customer_fields(self.new.customer()))
                continue
            if customer.customer_id not in self.met:
                # Decided when first met: a mover's orders all go to the new place.
                moved = self.rng.random() < moved_share
                self.met[customer.customer_id] = customer_fields(self.new.moved(customer)) if moved else current
            fields.append(self.met[customer.customer_id])
        return fields

    def _line_tails(self, lines: int) -> list[str]:
        """Product ID .. Profit per line, adding each line to the totals. A new
        product stands in for a drawn one: its sub-category, price, discount."""
        new_share, draw = self.spec.new_product_share, self.rng.random
        quantities = self.profile.quantities.sample_many(self.rng, lines)
        tails = []
        sales_total = profit_total = 0
        for position, quantity in zip(self.product_lines.sample_positions(self.rng, lines), quantities, strict=True):
            if draw() < new_share:
                product, discount, _ = self.product_lines.values[position]
                product = self.new.product(like=product)
                sales, profit, tail = line_tail(product, product_fields(product), discount, quantity)
            else:
                sales, profit, tail = self.known_tail(position, quantity)
            sales_total += sales
            profit_total += profit
            tails.append(tail)
        self.sales += sales_total
        self.profit += profit_total
        return tails

    def _known_tail(self, position: int, quantity: int) -> tuple[int, int, str]:
        product, discount, product_csv = self.product_lines.values[position]
        return line_tail(product, product_csv, discount, quantity)
