"""Orders: a customer (new, or existing: at their current place or, for the
share of them who moved, at a new one), a ship mode with its shipping delay,
an order date, a new order id and a number of lines; drawn a few thousand
orders at a time from the batch's "orders" random stream, each rendered once
as the part its lines share: ',Order ID,Order Date, .. ,Region,'."""

import random
from bisect import bisect_left
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import accumulate, chain, repeat

from superstore_generator.new_entities import NewEntities
from superstore_generator.order_ids import OrderIds
from superstore_generator.profile import Customer, Profile
from superstore_generator.reference import ORDER_ID_PREFIX
from superstore_generator.sampling import DrawTable, random_hits
from superstore_generator.source_format import as_bytes_text, csv_fields, format_date
from superstore_generator.spec import BatchSpec

# Order dates rise through the batch from as-of minus 6 days to as-of, so a
# customer's latest order in the file is also their latest by date.
ORDER_WINDOW_DAYS = 7
ORDERS_PER_DRAW = 2048


def customer_fields(customer: Customer) -> str:
    """Customer ID .. Region and a comma, as output text."""
    place = customer.location
    fields = (
        customer.customer_id,
        customer.name,
        customer.segment,
        place.country,
        place.city,
        place.state,
        place.postal_code,
        place.region,
    )
    return as_bytes_text(csv_fields(fields)) + ","


def shipping_fields(order_date: date, mode: str, days: int) -> str:
    """Order Date, Ship Date, Ship Mode between commas, as output text."""
    fields = (format_date(order_date), format_date(order_date + timedelta(days=days)), mode)
    return f",{as_bytes_text(csv_fields(fields))},"


class Orders:
    def __init__(self, spec: BatchSpec, profile: Profile, rng: random.Random, order_ids: OrderIds, new: NewEntities):
        self.spec = spec
        self.rng = rng
        self.order_ids = order_ids
        self.new = new
        self.line_counts = profile.lines_per_order.values
        self.line_count_draws = DrawTable(profile.lines_per_order.cum_weights)
        shipping = profile.shipping
        self.shipping_draws = DrawTable(shipping.cum_weights)
        self.days = [spec.as_of - timedelta(days=ORDER_WINDOW_DAYS - 1 - day) for day in range(ORDER_WINDOW_DAYS)]
        # per day, per (ship mode, delay): ',order date,ship date,ship mode,'
        self.shipping_fields = [[shipping_fields(day, *mode) for mode in shipping.values] for day in self.days]
        self.customer_draws = DrawTable(profile.customers.cum_weights)
        self.customers = self._existing_customers(profile.customers.values)

    def per_line(self) -> Iterator[str]:
        """The order part of every line of the batch, in row order: each
        order's, once for each of its lines."""
        return chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[Iterator[str]]:
        rows, row = self.spec.rows, 0
        while row < rows:
            # An order is dated by its first row; a block keeps to one day.
            day = row * ORDER_WINDOW_DAYS // rows
            next_day_row = -(-(day + 1) * rows // ORDER_WINDOW_DAYS)  # ceiling division
            line_counts = self._line_counts(row, next_day_row)
            row += sum(line_counts)
            yield chain.from_iterable(map(repeat, self._order_parts(day, len(line_counts)), line_counts))

    def _order_parts(self, day: int, orders: int) -> Iterator[str]:
        """',Order ID,Order Date, .. ,Region,' of the next `orders` orders,
        dated `day`."""
        year = self.days[day].year
        numbers = self.order_ids.new(year, orders)
        shipping = map(self.shipping_fields[day].__getitem__, self.shipping_draws.draw(self.rng, orders))
        with_order_id = f",{ORDER_ID_PREFIX}-{year}-{{}}{{}}{{}}".format
        return map(with_order_id, numbers, shipping, self._customers(orders))

    def _line_counts(self, row: int, next_day_row: int) -> list[int]:
        """Lines per order of the next orders that start before
        `next_day_row`, the batch's last order cut to fit."""
        counts = list(map(self.line_counts.__getitem__, self.line_count_draws.draw(self.rng, ORDERS_PER_DRAW)))
        starts = list(accumulate(counts, initial=row))
        counts = counts[: bisect_left(starts, next_day_row, hi=len(counts))]
        overflow = row + sum(counts) - self.spec.rows
        if overflow > 0:
            counts[-1] -= overflow
        return counts

    def _customers(self, orders: int) -> list[str]:
        fields = list(map(self.customers.__getitem__, self.customer_draws.draw(self.rng, orders)))
        for position in random_hits(self.rng, orders, self.spec.new_customer_share):
            fields[position] = customer_fields(self.new.customer())
        return fields

    def _existing_customers(self, customers: list[Customer]) -> list[str]:
        """The fields of the reference's customers in this batch: the share
        of them who moved is chosen once, so that all of a mover's orders go
        to the new place."""
        movers = set(self.rng.sample(range(len(customers)), round(self.spec.moved_customer_share * len(customers))))
        return [
            customer_fields(self.new.moved(customer) if position in movers else customer)
            for position, customer in enumerate(customers)
        ]
