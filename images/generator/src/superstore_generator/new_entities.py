"""Customers and products the reference has never seen, and customers whose
own attributes changed (a new last name, another segment). Faker is asked
once for small pools of names; each new entity then combines pool entries
with the batch's random generator (calling Faker per row would be the
slowest part of the generator by far)."""

import random
from collections.abc import Callable

from faker import Faker
from superstore_common.step import StepError

from superstore_generator.profile import Customer, Product, Profile

POOL_SIZE = 300
CUSTOMER_NUMBERS = range(10_000, 100_000)  # 'CG-12520'
PRODUCT_NUMBERS = range(10_000_000, 11_000_000)  # 'FUR-BO-10001798'
NAME_ATTEMPTS = 20
ID_ATTEMPTS = 1_000


def _pool(make: Callable[[], str]) -> list[str]:
    return list(dict.fromkeys(make() for _ in range(POOL_SIZE)))


def _singular(sub_category: str) -> str:
    """'Binders' -> 'Binder', 'Accessories' -> 'Accessory', 'Paper' -> 'Paper'."""
    if sub_category.endswith("ies"):
        return sub_category[:-3] + "y"
    return sub_category.removesuffix("s")


class NewEntities:
    def __init__(self, profile: Profile, rng: random.Random, faker_seed: int):
        self.profile = profile
        self.rng = rng
        fake = Faker("en_US")
        fake.seed_instance(faker_seed)
        self.first_names = _pool(fake.first_name)
        self.last_names = _pool(fake.last_name)
        self.brands = _pool(fake.last_name)
        self.styles = _pool(fake.color_name)
        # Ids already in use: the reference's, then every one issued here.
        self.customer_ids = {customer.customer_id for customer in profile.customers.values}
        self.product_ids = {product.product_id for product in profile.products.values}

    def customer(self) -> Customer:
        first, last = self.rng.choice(self.first_names), self.rng.choice(self.last_names)
        customer_id = self._new_id(f"{first[0]}{last[0]}".upper(), CUSTOMER_NUMBERS, self.customer_ids)
        return Customer(customer_id, f"{first} {last}", self.profile.segments.sample(self.rng))

    def changed(self, customer: Customer) -> Customer:
        """The same customer (same id) with one of their own attributes
        changed, half the time each: another segment, or a new last name."""
        segments = [segment for segment in self.profile.segments.values if segment != customer.segment]
        if segments and self.rng.random() < 0.5:
            return customer._replace(segment=self.rng.choice(segments))
        first = customer.name.split(" ", 1)[0]
        for _ in range(NAME_ATTEMPTS):
            name = f"{first} {self.rng.choice(self.last_names)}"
            if name != customer.name:
                return customer._replace(name=name)
        return customer._replace(segment=self.rng.choice(segments)) if segments else customer

    def product(self, like: Product, list_price_cents: int) -> Product:
        """A new product of the same sub-category and margin as `like`."""
        prefix = like.product_id.rsplit("-", 1)[0]  # 'OFF-PA'
        name = f"{self.rng.choice(self.brands)} {self.rng.choice(self.styles)} {_singular(like.sub_category)}"
        return Product(
            product_id=self._new_id(prefix, PRODUCT_NUMBERS, self.product_ids),
            name=name,
            category=like.category,
            sub_category=like.sub_category,
            list_price_cents=list_price_cents,
            margin_percent=like.margin_percent,
        )

    def _new_id(self, prefix: str, numbers: range, taken: set[str]) -> str:
        for _ in range(ID_ATTEMPTS):
            new_id = f"{prefix}-{self.rng.randrange(numbers.start, numbers.stop)}"
            if new_id not in taken:
                taken.add(new_id)
                return new_id
        raise StepError(f"no free id left like {prefix}-{numbers.start}")
