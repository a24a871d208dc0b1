"""Where the generator learns what Superstore data looks like: one interface,
two implementations (the warehouse's published star schema, or a CSV file in
the source format on S3)."""

from collections.abc import Iterable
from typing import Protocol

from superstore_generator.profile import Profile

# The generator writes order ids 'CA-<year>-<6 digits>', like most of the source.
ORDER_ID_PREFIX = "CA"


class Reference(Protocol):
    @property
    def name(self) -> str:
        """Identifies the reference in the batch id (never holds a secret)."""

    def profile(self) -> Profile:
        """The catalogue and distributions learned from the reference."""

    def order_numbers_taken(self, year: int) -> Iterable[int]:
        """The numbers of the existing 'CA-<year>-NNNNNN' order ids."""


def order_number(order_id: str, year: int) -> int | None:
    """123456 for 'CA-<year>-123456', None for any other id."""
    prefix, _, rest = order_id.partition("-")
    order_year, _, number = rest.partition("-")
    if prefix != ORDER_ID_PREFIX or order_year != str(year) or not number.isdigit():
        return None
    return int(number)
