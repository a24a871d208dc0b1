"""One batch of new order lines, produced row by row (never held whole).

Per order: a customer (existing, existing but moved, or new), a place, a
ship mode and its shipping delay, an order date. Per line: a product
(existing or new), a quantity, the sub-category's discount, and sales and
profit by the source's pricing rule, in exact integer arithmetic.
"""

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import lru_cache

from superstore_generator.new_entities import NewEntities
from superstore_generator.order_ids import OrderIds
from superstore_generator.profile import Customer, Product, Profile
from superstore_generator.source_format import format_date, format_ten_thousandths

# Order dates rise through the batch from as-of minus 6 days to as-of, so a
# customer's latest order in the file is also their latest by date.
ORDER_WINDOW_DAYS = 7


@dataclass(frozen=True)
class BatchSpec:
    rows: int
    seed: int
    as_of: date
    reference: str
    new_customer_share: float = 0.05
    new_product_share: float = 0.02
    moved_customer_share: float = 0.05

    @property
    def batch_id(self) -> str:
        """Derived from everything that shapes the batch: same spec, same id."""
        digest = hashlib.sha256(json.dumps(asdict(self), default=str, sort_keys=True).encode()).hexdigest()
        return f"gen-{self.as_of:%Y%m%d}-{digest[:12]}"


@lru_cache(maxsize=64)
def _us_date(day: date) -> str:
    return format_date(day)


class Batch:
    def __init__(self, spec: BatchSpec, profile: Profile, order_ids: OrderIds, rng: random.Random, new: NewEntities):
        self.spec = spec
        self.profile = profile
        self.order_ids = order_ids
        self.rng = rng
        self.new = new
        self.relocated: dict[str, Customer] = {}  # customer id -> where they moved in this batch
        # running totals in 1/10,000 dollars
        self.sales = 0
        self.profit = 0

    def rows(self) -> Iterator[list[str]]:
        """The CSV rows (without header), Row ID 1..rows."""
        spec, profile, rng = self.spec, self.profile, self.rng
        row_id = 0
        while row_id < spec.rows:
            lines = min(profile.lines_per_order.sample(rng), spec.rows - row_id)
            order = self._order(self._order_date(row_id))
            quantities = profile.quantities.sample_many(rng, lines)
            for product, quantity in zip(self._products(lines), quantities):
                discount = profile.discounts[product.sub_category].sample(rng)  # percent
                full_price = quantity * product.list_price_cents
                sales = full_price * (100 - discount)
                profit = full_price * (product.margin_percent - discount)
                self.sales += sales
                self.profit += profit
                row_id += 1
                yield [
                    str(row_id),
                    *order,
                    product.product_id,
                    product.category,
                    product.sub_category,
                    product.name,
                    format_ten_thousandths(sales, min_places=2),
                    str(quantity),
                    format_ten_thousandths(discount * 100),
                    format_ten_thousandths(profit),
                ]

    def _order_date(self, row_id: int) -> date:
        days_before = ORDER_WINDOW_DAYS - 1 - row_id * ORDER_WINDOW_DAYS // self.spec.rows
        return self.spec.as_of - timedelta(days=days_before)

    def _order(self, order_date: date) -> list[str]:
        """Order ID .. Region: the fields every line of the order shares."""
        ship_mode = self.profile.ship_modes.sample(self.rng)
        ship_date = order_date + timedelta(days=self.profile.ship_days[ship_mode].sample(self.rng))
        customer = self._customer()
        place = customer.location
        return [
            self.order_ids.new(order_date.year),
            _us_date(order_date),
            _us_date(ship_date),
            ship_mode,
            customer.customer_id,
            customer.name,
            customer.segment,
            place.country,
            place.city,
            place.state,
            place.postal_code,
            place.region,
        ]

    def _customer(self) -> Customer:
        draw = self.rng.random()
        if draw < self.spec.new_customer_share:
            return self.new.customer()
        customer = self.profile.customers.sample(self.rng)
        if customer.customer_id in self.relocated:
            return self.relocated[customer.customer_id]  # moves at most once a batch
        if draw < self.spec.new_customer_share + self.spec.moved_customer_share:
            customer = self.relocated[customer.customer_id] = self.new.moved(customer)
        return customer

    def _products(self, lines: int) -> list[Product]:
        products = self.profile.products.sample_many(self.rng, lines)
        share = self.spec.new_product_share
        return [self.new.product(like=product) if self.rng.random() < share else product for product in products]
