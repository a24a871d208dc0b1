"""New order ids: never one the reference holds, never twice, and a clear
error rather than an endless search when a year runs out of numbers."""

import random

import pytest
from superstore_common.step import StepError
from superstore_generator.order_ids import OrderIds


class CrowdedReference:
    """Holds every 'CA-2024-NNNNNN' below 'CA-2024-900000'."""

    name = "crowded"

    def order_numbers_taken(self, year: int) -> range:
        return range(100_000, 900_000) if year == 2024 else range(0)


def test_new_ids_avoid_taken_ones_and_never_repeat():
    ids = OrderIds(CrowdedReference(), random.Random(1))

    drawn = [ids.new(2024) for _ in range(1000)]

    assert len(set(drawn)) == 1000
    assert all(order_id.startswith("CA-2024-") and int(order_id[-6:]) >= 900_000 for order_id in drawn)
    assert ids.new(2025).startswith("CA-2025-")


def test_a_full_year_fails_clearly():
    ids = OrderIds(CrowdedReference(), random.Random(1))

    with pytest.raises(StepError, match="order ids for 2024 are running out"):
        for _ in range(100_000):
            ids.new(2024)
