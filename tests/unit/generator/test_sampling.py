"""Bulk draws: the probabilities the weights ask for, within one table slot,
and the same draws for the same seed."""

import random
from collections import Counter
from itertools import accumulate

import pytest
from superstore_generator.sampling import DrawTable, random_hits, random_ints


def test_each_position_holds_its_share_of_slots_within_one():
    weights = [5, 1, 0.5, 3, 1e-9, 90.5]
    table = DrawTable(list(accumulate(weights)))

    slots = Counter(table.table)

    size = len(table.table)
    assert size == 2**16
    for position, weight in enumerate(weights):
        assert abs(slots[position] - weight / sum(weights) * size) <= 1, position
    assert slots[4] == 0  # lighter than half a slot: never drawn


def test_big_distributions_get_finer_tables():
    assert DrawTable([float(n) for n in range(1, 300)]).table.itemsize == 2
    assert len(DrawTable([float(n) for n in range(1, 6000)]).table) == 2**18


def test_draws_follow_the_weights_and_the_seed():
    table = DrawTable([1.0, 4.0, 10.0])  # weights 1, 3, 6

    draws = table.draw(random.Random(7), 100_000)

    shares = {position: count / len(draws) for position, count in Counter(draws).items()}
    assert shares == pytest.approx({0: 0.1, 1: 0.3, 2: 0.6}, abs=0.01)
    assert table.draw(random.Random(7), 1000) == draws[:1000]


@pytest.mark.parametrize("bits", [16, 20, 32])
def test_random_ints_use_all_their_bits(bits):
    ints = list(random_ints(random.Random(1), 10_000, bits))

    assert 0 <= min(ints) < 2 ** (bits - 4) and 2**bits - 2 ** (bits - 4) < max(ints) < 2**bits


def test_hits_come_at_their_share():
    hits = random_hits(random.Random(3), 200_000, 0.05)

    assert len(hits) / 200_000 == pytest.approx(0.05, rel=0.03)
    assert hits == sorted(set(hits)) and 0 <= hits[0] and hits[-1] < 200_000
    assert random_hits(random.Random(3), 200_000, 0.05) == hits


def test_no_share_no_hits_full_share_every_position():
    assert random_hits(random.Random(1), 50, 0.0) == []
    assert random_hits(random.Random(1), 50, 1.0) == list(range(50))


def test_more_values_than_a_table_holds_are_drawn_by_bisection():
    weights = [1.0] * 99_999 + [100_001.0]  # the last value: half of the weight
    table = DrawTable(list(accumulate(weights)))

    draws = table.draw(random.Random(5), 50_000)

    assert table.table is None
    assert sum(draw == 99_999 for draw in draws) / len(draws) == pytest.approx(0.5, abs=0.01)
    assert 0 <= min(draws) < 1_000 and 99_000 < max(filter((99_999).__ne__, draws)) < 99_999
    assert table.draw(random.Random(5), 100) == draws[:100]
    assert table.draw_one(random.Random(5)) == draws[0]
