"""New order ids in the source format 'CA-<year>-<6 digits>': never one the
reference already holds, never twice in a batch."""

import random

from superstore_common.step import StepError

from superstore_generator.reference import ORDER_ID_PREFIX, Reference

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

    def new(self, year: int) -> str:
        taken = self._taken.get(year) or self._load(year)
        if self._count[year] >= MAX_FILL * len(ORDER_NUMBERS):
            raise StepError(f"order ids for {year} are running out ({self._count[year]} in use)")
        start, span, draw = ORDER_NUMBERS.start, len(ORDER_NUMBERS), self.rng.random
        while True:
            number = start + int(draw() * span)  # randrange, minus its argument checks
            if not taken[number]:
                taken[number] = 1
                self._count[year] += 1
                return f"{ORDER_ID_PREFIX}-{year}-{number}"

    def _load(self, year: int) -> bytearray:
        taken = bytearray(ORDER_NUMBERS.stop)
        for number in self.reference.order_numbers_taken(year):
            if number in ORDER_NUMBERS:
                taken[number] = 1
        self._taken[year] = taken
        self._count[year] = taken.count(1)
        return taken
