"""What the generator learns from reference data: the Superstore catalogue
(customers, products, ship-to places) and the distributions of an order's
attributes.

Both reference implementations fill the same `ProfileCounts` (plain counters,
weighted by orders or by lines) and turn it into a `Profile` of samplers, so
generated batches look alike whichever reference they were learned from.

A customer is their own attributes (id, name, segment); where an order ships
to is the order's, not the customer's: in Superstore 780 of 793 customers
ship to several places. So the orders are counted per (customer, ship-to
place), and a customer's weight and a place's weight are sums of those.

Money is kept in integers (cents, percents) so that every generated amount
is an exact decimal: sales = quantity x list price x (1 - discount) and
profit = quantity x list price x (margin - discount), the rule the source
data follows exactly (each product has one list price and one margin at list
price, whatever the discount).
"""

import random
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Generic, NamedTuple, TypeVar

from superstore_common.step import StepError

T = TypeVar("T", bound=Hashable)


# Catalogue entries are named tuples: hashed, compared and sorted by C code
# (Counter keys, sorted distributions of thousands of (customer, place) pairs).


class Location(NamedTuple):
    """A ship-to place, as dim_locations holds it (5-character US ZIP codes)."""

    country: str
    city: str
    state: str
    postal_code: str
    region: str


class Customer(NamedTuple):
    """A customer's own attributes, as their current version holds them."""

    customer_id: str
    name: str
    segment: str


class Product(NamedTuple):
    product_id: str
    name: str
    category: str
    sub_category: str
    list_price_cents: int
    # profit / sales when sold without discount, in percent
    margin_percent: int


class ProductLabel(NamedTuple):
    product_id: str
    name: str
    category: str
    sub_category: str


@dataclass
class ProductSales:
    """Sums over one product's lines: enough to recover its list price and
    margin, exactly when the lines follow the pricing rule, on average if not."""

    lines: int = 0
    sales: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    discounted_quantity: Decimal = Decimal(0)  # sum of quantity x discount
    profit: Decimal = Decimal(0)

    def add_line(self, sales: Decimal, quantity: int, discount: Decimal, profit: Decimal) -> None:
        self.lines += 1
        self.sales += sales
        self.quantity += quantity
        self.discounted_quantity += quantity * discount
        self.profit += profit

    def product(self, label: ProductLabel) -> Product | None:
        # sales = list price x (quantity - discounted quantity)
        # profit = list price x (margin x quantity - discounted quantity)
        full_price_units = self.quantity - self.discounted_quantity
        if full_price_units <= 0 or self.sales <= 0:
            return None
        list_price = self.sales / full_price_units
        margin = (self.profit / list_price + self.discounted_quantity) / self.quantity
        return Product(
            **label._asdict(),
            list_price_cents=int((list_price * 100).to_integral_value()),
            margin_percent=int((margin * 100).to_integral_value()),
        )


class Distribution(Generic[T]):
    """Values with their observed weights. Batches draw from them in bulk
    (`sampling.DrawTable` over `cum_weights`); `sample` draws one value, by
    bisecting the cumulative weights like `random.choices`."""

    def __init__(self, counts: Counter[T]):
        if not counts:
            raise ValueError("a distribution needs at least one value")
        # Sorted, so that the same counts give the same draws whatever order
        # the reference delivered them in.
        self.values = sorted(counts)
        self.cum_weights = [float(weight) for weight in accumulate(counts[value] for value in self.values)]
        self.total = self.cum_weights[-1]

    def sample(self, rng: random.Random) -> T:
        return self.values[bisect_right(self.cum_weights, rng.random() * self.total, 0, len(self.values) - 1)]


@dataclass
class ProfileCounts:
    """Raw observations, filled by a reference implementation."""

    # per order
    shipping: Counter[tuple[str, int]] = field(default_factory=Counter)  # (ship mode, days to ship)
    lines_per_order: Counter[int] = field(default_factory=Counter)
    # orders per (customer id, ship-to place)
    customer_places: Counter[tuple[str, Location]] = field(default_factory=Counter)
    # per customer id: their current attributes
    customers: dict[str, Customer] = field(default_factory=dict)
    # per line
    product_sales: defaultdict[ProductLabel, ProductSales] = field(default_factory=lambda: defaultdict(ProductSales))
    quantities: Counter[int] = field(default_factory=Counter)
    discounts: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def to_profile(self) -> "Profile":
        missing = [name for name, counter in vars(self).items() if not counter]
        if missing:
            raise StepError(f"reference data has no {', '.join(missing)}")
        products = self._products()
        if not products:
            raise StepError("reference data has no product with a positive price")
        customer_places = self._customer_places()
        customers, locations = Counter(), Counter()
        for (customer, location), orders in customer_places.items():
            customers[customer] += orders
            locations[location] += orders
        return Profile(
            shipping=Distribution(self.shipping),
            lines_per_order=Distribution(self.lines_per_order),
            customer_places=Distribution(customer_places),
            customers=Distribution(customers),
            locations=Distribution(locations),
            segments=Distribution(Counter(customer.segment for customer in customers)),
            products=Distribution(products),
            discounted_products=Distribution(self._discounted(products)),
            quantities=Distribution(self.quantities),
        )

    def _customer_places(self) -> Counter[tuple[Customer, Location]]:
        places = Counter()
        for (customer_id, location), orders in self.customer_places.items():
            if customer_id not in self.customers:
                raise StepError(f"reference data: customer {customer_id} has orders but no current version")
            places[self.customers[customer_id], location] += orders
        return places

    def _products(self) -> Counter[Product]:
        products = Counter()
        for label, sales in self.product_sales.items():
            if product := sales.product(label):
                products[product] += sales.lines
        return products

    def _discounted(self, products: Counter[Product]) -> Counter[tuple[Product, int]]:
        """(product, discount) pairs weighted by P(product) x P(discount | its
        sub-category), so that one draw picks both."""
        pairs = Counter()
        for product, weight in products.items():
            discounts = self.discounts[product.sub_category]
            lines = discounts.total()
            for discount, times in discounts.items():
                pairs[product, discount] = weight * times / lines
        return pairs


@dataclass(frozen=True)
class Profile:
    # per order
    shipping: Distribution[tuple[str, int]]  # (ship mode, ship date - order date in days)
    lines_per_order: Distribution[int]
    # existing customers and where they ship to: one draw picks both
    customer_places: Distribution[tuple[Customer, Location]]
    customers: Distribution[Customer]  # the sums over their places
    locations: Distribution[Location]  # the sums over their customers: for new places
    segments: Distribution[str]  # per customer, for new customers
    # per line
    products: Distribution[Product]
    discounted_products: Distribution[tuple[Product, int]]  # (product, discount percent)
    quantities: Distribution[int]
