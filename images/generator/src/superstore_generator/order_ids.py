"""New order ids in the source format 'CA-<year>-<6 digits>': never one the
reference already holds, never twice in a batch."""

import random
from itertools import filterfalse, islice

from superstore_common.step import StepError

from superstore_generator.reference import Reference
from superstore_generator.sampling import random_ints

ORDER_NUMBERS = range(100_000, 1_000_000)
# Random draws slow down as a year fills up; stop well before.
MAX_FILL = 0.9


class OrderIds:
    def __init__(self, reference: Reference, rng: random.Random):
        self.reference = reference
        self.rng = rng
        # One byte per possible number and year (900 KB) rather than a set of
        # ids: memory stays flat however many orders a batch holds.
        self._taken: dict[int, bytearray] = {}
        self._count: dict[int, int] = {}

    def new(self, year: int, count: int) -> list[int]:
        """The numbers of `count` new ids 'CA-<year>-<number>', in random order."""
        taken = self._taken.get(year) or self._load(year)
        if self._count[year] + count > MAX_FILL * len(ORDER_NUMBERS):
            raise StepError(f"order ids for {year} are running out ({self._count[year]} in use)")
        start, span = ORDER_NUMBERS.start, len(ORDER_NUMBERS)
        numbers: list[int] = []
        while len(numbers) < count:
            # Drawn in bulk: 20-bit integers, those within the span kept,
            # duplicates and taken numbers left out; enough of them, most of
            # the time, for the share of numbers still free.
            missing = count - len(numbers)
            free_share = (span - self._count[year] - len(numbers)) / (1 << 20)
            candidates = random_ints(self.rng, int(missing / free_share * 1.05) + 16, bits=20)
            drawn = map(start.__add__, filter(span.__gt__, candidates))
            fresh = list(dict.fromkeys(islice(filterfalse(taken.__getitem__, drawn), missing)))
            for number in fresh:
                taken[number] = 1
            numbers += fresh
        self._count[year] += count
        return numbers

    def _load(self, year: int) -> bytearray:
        taken = bytearray(ORDER_NUMBERS.stop)
        for number in self.reference.order_numbers_taken(year):
            if number in ORDER_NUMBERS:
                taken[number] = 1
        self._taken[year] = taken
        self._count[year] = taken.count(1)
        return taken
