"""What a batch is made of: its size, seed, day, reference and shares; and
where it is written. The object's key is derived from the spec (same spec,
same key, same bytes); the load id of the batch is the object's, known once
it is uploaded (superstore_common.objects.load_id)."""

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from datetime import date

# Part of every digest: raise it when the same spec would make other bytes,
# so that an object of an older generator is never taken for a new batch.
OUTPUT_VERSION = 2
DIGEST_HEX_DIGITS = 20


@dataclass(frozen=True)
class BatchSpec:
    rows: int
    seed: int
    as_of: date
    reference: str
    new_customer_share: float = 0.05  # of orders
    new_product_share: float = 0.02  # of lines
    new_place_share: float = 0.1  # of the existing customers' orders
    changed_customer_share: float = 0.02  # of the reference's customers

    @property
    def digest(self) -> str:
        """Derived from everything that shapes the batch: same spec, same digest."""
        shape = {**asdict(self), "output_version": OUTPUT_VERSION}
        return hashlib.sha256(json.dumps(shape, default=str, sort_keys=True).encode()).hexdigest()[:DIGEST_HEX_DIGITS]

    def object_key(self, prefix: str) -> str:
        """'<prefix>YYYY/MM/DD/<digest>.csv', the day being the as-of date."""
        folder = prefix.strip("/") + "/" if prefix.strip("/") else ""
        return f"{folder}{self.as_of:%Y/%m/%d}/{self.digest}.csv"

    def random_stream(self, name: str) -> random.Random:
        """The seeded random stream `name` (lines, orders, new entities): each
        part of a batch draws from its own, the lines in a first pass, the
        orders and new entities in a second."""
        return random.Random(f"{self.seed}/{name}")
