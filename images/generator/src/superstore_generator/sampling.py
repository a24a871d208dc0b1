"""Random draws by the thousand: each call draws a whole block, and the
per-value work runs in C loops (random bytes viewed as integers, `map` over
a lookup table), not in Python code, where drawing one value at a time costs
several times more.

Random integers are read from `Random.randbytes` in the machine's byte order:
the same seed gives the same draws on every little-endian machine (x86-64,
arm64)."""

import math
import random
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import partial
from itertools import chain, repeat
from operator import rshift, sub

# Lookup tables get at least 2**6 slots per value on average, within these
# bounds: 2**16 slots are drawn fastest (from 16-bit integers); at two bytes
# a slot, 2**18 slots (512 KB) still stay in the CPU's cache.
MIN_TABLE_BITS, MAX_TABLE_BITS = 16, 18
SLOTS_PER_VALUE_BITS = 6
# Slots hold positions in at most two bytes; more values are drawn by bisection.
MAX_TABLE_VALUES = 1 << 16


def random_ints(rng: random.Random, count: int, bits: int) -> Iterable[int]:
    """`count` uniform random integers of `bits` bits (1 to 32)."""
    if bits == 16:
        return memoryview(rng.randbytes(2 * count)).cast("H")
    words = memoryview(rng.randbytes(4 * count)).cast("I")
    return words if bits == 32 else map(rshift, words, repeat(32 - bits))


class DrawTable:
    """Draws positions in a list of weighted values, through a lookup table:
    each position fills a run of slots in proportion to its weight, and a
    draw is a random slot. Run ends are cumulative weights rounded to whole
    slots, so every position's probability is exact to within one slot
    (2**-16 to 2**-18); one lighter than half a slot is never drawn. Slots
    hold positions in one or two bytes, so that the table stays in the CPU's
    cache among the data the draws then index.

    Beyond 65,536 values (a warehouse that has taken in many batches of new
    customers and places) a draw bisects the cumulative weights with a
    32-bit random number instead (`table` is None): a few times slower, still
    a loop in C, exact to 2**-32."""

    def __init__(self, cum_weights: Sequence[float]):
        values = len(cum_weights)
        if not values:
            raise ValueError("a draw table needs at least one value")
        if values > MAX_TABLE_VALUES:
            self.bits, self.table = 32, None
            self._bisect = partial(bisect_right, list(cum_weights), hi=values - 1)
            self._scale = cum_weights[-1] / (1 << 32)
            return
        self.bits = min(MAX_TABLE_BITS, max(MIN_TABLE_BITS, values.bit_length() + SLOTS_PER_VALUE_BITS))
        size, total = 1 << self.bits, cum_weights[-1]
        run_ends = [round(cum_weight * size / total) for cum_weight in cum_weights]
        run_lengths = map(sub, run_ends, [0, *run_ends[:-1]])
        positions = chain.from_iterable(map(repeat, range(values), run_lengths))
        self.table = array("B" if values <= 1 << 8 else "H", positions)

    def draw(self, rng: random.Random, count: int) -> list[int]:
        if self.table is None:
            return list(map(self._bisect, map(self._scale.__mul__, random_ints(rng, count, 32))))
        return list(map(self.table.__getitem__, random_ints(rng, count, self.bits)))

    def draw_one(self, rng: random.Random) -> int:
        return self.draw(rng, 1)[0]


def random_hits(rng: random.Random, count: int, share: float) -> list[int]:
    """The positions in range(count) hit by independent events of probability
    `share`, in order. Drawn as geometric gaps between hits: one draw per
    hit, not one per position."""
    if share <= 0:
        return []
    if share >= 1:
        return list(range(count))
    log_miss = math.log1p(-share)
    hits, position = [], -1
    while True:
        position += 1 + int(math.log(1.0 - rng.random()) / log_miss)
        if position >= count:
            return hits
        hits.append(position)
