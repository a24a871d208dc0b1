"""Reference data from a CSV file in the source format on S3 (e.g. the
initial source file raw/initial/<sha256>.csv), streamed in one pass."""

import csv
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import cached_property

from superstore_common.s3 import parse_s3_uri, s3_client
from superstore_common.source_format import HEADER, parse_date
from superstore_common.step import StepError

from superstore_generator.csv_output import published_postal_code
from superstore_generator.profile import Customer, Location, ProductLabel, Profile, ProfileCounts
from superstore_generator.reference import order_number


class CsvReference:
    def __init__(self, uri: str):
        self.bucket, self.key = parse_s3_uri(uri)
        self.name = uri

    def profile(self) -> Profile:
        return self._learned[0]

    def order_numbers_taken(self, year: int) -> list[int]:
        order_ids = self._learned[1]
        return [number for order_id in order_ids if (number := order_number(order_id, year)) is not None]

    @cached_property
    def _learned(self) -> tuple[Profile, set[str]]:
        """(profile, every order id in the file), from one pass over it."""
        with self._open() as reader:
            try:
                return self._learn(reader)
            except (ValueError, ArithmeticError) as exc:
                raise StepError(f"reference {self.name}: bad row at line {reader.line_num}: {exc}") from None

    def _learn(self, rows) -> tuple[Profile, set[str]]:
        counts = ProfileCounts()
        lines_per_order: Counter[str] = Counter()
        # per customer id: (date of their latest order, their attributes on it)
        latest: dict[str, tuple[date, Customer]] = {}
        for row in rows:
            order_id = row["Order ID"]
            lines_per_order[order_id] += 1
            if lines_per_order[order_id] == 1:
                order_date = parse_date(row["Order Date"])
                counts.shipping[row["Ship Mode"], (parse_date(row["Ship Date"]) - order_date).days] += 1
                country = row["Country"]
                postal_code = published_postal_code(country, row["Postal Code"])
                location = Location(country, row["City"], row["State"], postal_code, row["Region"])
                customer = Customer(row["Customer ID"], row["Customer Name"], row["Segment"])
                counts.customer_places[customer.customer_id, location] += 1
                # A customer's current attributes: those of their latest
                # order (the last in the file of that day), like SCD2.
                known = latest.get(customer.customer_id)
                if known is None or known[0] <= order_date:
                    latest[customer.customer_id] = (order_date, customer)
            self._add_line(counts, row)
        counts.customers.update({customer_id: customer for customer_id, (_, customer) in latest.items()})
        counts.lines_per_order.update(lines_per_order.values())
        return counts.to_profile(), set(lines_per_order)

    @staticmethod
    def _add_line(counts: ProfileCounts, row: dict[str, str]) -> None:
        quantity, discount = int(row["Quantity"]), Decimal(row["Discount"])
        counts.quantities[quantity] += 1
        counts.discounts[row["Sub-Category"]][int(discount * 100)] += 1
        label = ProductLabel(row["Product ID"], row["Product Name"], row["Category"], row["Sub-Category"])
        counts.product_sales[label].add_line(Decimal(row["Sales"]), quantity, discount, Decimal(row["Profit"]))

    @contextmanager
    def _open(self) -> Iterator[csv.DictReader]:
        try:
            body = s3_client().get_object(Bucket=self.bucket, Key=self.key)["Body"]
        except s3_client().exceptions.NoSuchKey:
            raise StepError(f"reference {self.name} does not exist") from None
        with io.TextIOWrapper(body, encoding="utf-8", newline="") as text:
            reader = csv.DictReader(text)
            if tuple(reader.fieldnames or ()) != HEADER:
                raise StepError(f"reference {self.name} is not in the Superstore source format")
            yield reader
