"""What a batch is made of: its size, seed, day, reference and shares."""

import hashlib
import json
import random
from dataclasses import asdict, dataclass
from datetime import date


@dataclass(frozen=True)
class BatchSpec:
    rows: int
    seed: int
    as_of: date
    reference: str
    new_customer_share: float = 0.05  # of orders
    new_product_share: float = 0.02  # of lines
    moved_customer_share: float = 0.05  # of the reference's customers

    @property
    def batch_id(self) -> str:
        """Derived from everything that shapes the batch: same spec, same id."""
        digest = hashlib.sha256(json.dumps(asdict(self), default=str, sort_keys=True).encode()).hexdigest()
        return f"gen-{self.as_of:%Y%m%d}-{digest[:12]}"

    def random_stream(self, name: str) -> random.Random:
        """The seeded random stream `name` (lines, orders, new entities): each
        part of a batch draws from its own, the lines in a first pass, the
        orders and new entities in a second."""
        return random.Random(f"{self.seed}/{name}")
