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

    drawn = [number for _ in range(10) for number in ids.new(2024, 100)]

    assert len(set(drawn)) == 1000
    assert all(900_000 <= number <= 999_999 for number in drawn)
    assert 100_000 <= ids.new(2025, 1)[0] <= 999_999


def test_new_ids_spread_over_the_numbers():
    ids = OrderIds(CrowdedReference(), random.Random(1))

    numbers = ids.new(2025, 9000)

    assert min(numbers) < 110_000 and max(numbers) > 990_000
    assert sum(numbers) / len(numbers) == pytest.approx(550_000, rel=0.02)


def test_a_full_year_fails_clearly():
    ids = OrderIds(CrowdedReference(), random.Random(1))
    ids.new(2024, 9_000)  # 809,000 of 900,000 in use

    with pytest.raises(StepError, match="order ids for 2024 are running out"):
        ids.new(2024, 2_000)
