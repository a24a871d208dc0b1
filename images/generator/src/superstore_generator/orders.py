"""Orders: a customer and a ship-to place, a ship mode with its shipping
delay, an order date, a new order id and a number of lines; drawn a few
thousand orders at a time from the batch's "orders" random stream, each
rendered once as the header its lines share: ',Order ID,Order Date, .. ,Region,'.

An existing customer ships to one of the places they have used, drawn with
their own weights (one draw picks the customer and the place), or, for
`new_place_share` of their orders, to a place they never used, drawn from
all the orders' places. `changed_customer_share` of the reference's
customers have a new last name or another segment in this batch, chosen once,
so every order of theirs carries the new value. A new customer ships to a
place drawn from all the orders' places."""

import random
from bisect import bisect_left
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import accumulate, chain, repeat

from superstore_common.source_format import format_date

from superstore_generator.csv_output import as_bytes_text, csv_fields
from superstore_generator.new_entities import NewEntities
from superstore_generator.order_ids import OrderIds
from superstore_generator.profile import Customer, Location, Profile
from superstore_generator.reference import ORDER_ID_PREFIX
from superstore_generator.sampling import DrawTable, random_hits
from superstore_generator.spec import BatchSpec

# Order dates rise through the batch from as-of minus 6 days to as-of, so a
# customer's latest order in the file is also their latest by date.
ORDER_WINDOW_DAYS = 7
ORDERS_PER_DRAW = 2048
# Draws of a place a customer never used, before settling for a known one.
NEW_PLACE_ATTEMPTS = 20


def customer_fields(customer: Customer) -> str:
    """Customer ID, Customer Name, Segment and a comma, as output text."""
    return as_bytes_text(csv_fields((customer.customer_id, customer.name, customer.segment))) + ","


def location_fields(place: Location) -> str:
    """Country .. Region and a comma, as output text (5-digit US ZIP codes)."""
    return as_bytes_text(csv_fields((place.country, place.city, place.state, place.postal_code, place.region))) + ","


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
        self._learn_customers(profile)

    def _learn_customers(self, profile: Profile) -> None:
        """Fragments of the reference's customers (with the batch's changes)
        and places, and of each (customer, place) pair they ordered to."""
        customers, locations = profile.customers.values, profile.locations.values
        self.location_draws = DrawTable(profile.locations.cum_weights)
        self.location_text = list(map(location_fields, locations))
        self.customer_text = list(map(customer_fields, self._with_changes(customers)))
        customer_position = {customer: position for position, customer in enumerate(customers)}
        location_position = {location: position for position, location in enumerate(locations)}
        pairs = [
            (customer_position[customer], location_position[place])
            for customer, place in profile.customer_places.values
        ]
        self.pair_draws = DrawTable(profile.customer_places.cum_weights)
        self.pair_customer = [customer for customer, _ in pairs]
        self.pair_text = [self.customer_text[customer] + self.location_text[place] for customer, place in pairs]
        self.known_places: list[set[int]] = [set() for _ in customers]
        for customer, place in pairs:
            self.known_places[customer].add(place)

    def _with_changes(self, customers: list[Customer]) -> list[Customer]:
        """The reference's customers as this batch has them: the share whose
        name or segment changed is chosen once, so that all of a changed
        customer's orders carry the new value."""
        changed = self.rng.sample(range(len(customers)), round(self.spec.changed_customer_share * len(customers)))
        now = list(customers)
        for position in changed:
            now[position] = self.new.changed(customers[position])
        return now

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
        """Customer ID .. Region of the next `orders` orders."""
        pairs = self.pair_draws.draw(self.rng, orders)
        fields = list(map(self.pair_text.__getitem__, pairs))
        new_customers = random_hits(self.rng, orders, self.spec.new_customer_share)
        skipped = set(new_customers)
        new_places = [hit for hit in random_hits(self.rng, orders, self.spec.new_place_share) if hit not in skipped]
        places = self._place_draws(len(new_customers) + 2 * len(new_places))
        for position in new_customers:
            fields[position] = customer_fields(self.new.customer()) + self.location_text[next(places)]
        for position in new_places:
            customer = self.pair_customer[pairs[position]]
            fields[position] = self.customer_text[customer] + self.location_text[self._new_place(customer, places)]
        return fields

    def _place_draws(self, expected: int) -> Iterator[int]:
        """Places drawn from all the orders' places, `expected` (and a few
        more) at a time."""
        while True:
            yield from self.location_draws.draw(self.rng, expected + 16)

    def _new_place(self, customer: int, places: Iterator[int]) -> int:
        """A place the customer never ordered to (a known one, should every
        draw hit one)."""
        known = self.known_places[customer]
        for _ in range(NEW_PLACE_ATTEMPTS):
            place = next(places)
            if place not in known:
                return place
        return place
