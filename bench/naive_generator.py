"""Baseline for `generator_vs_naive`: one Faker call for every field of every
row, written with csv.writer. Runs in the generator's virtualenv (Faker and
superstore_common's source format live there):
`python naive_generator.py ROWS OUT.csv`; prints {"rows", "seconds"}."""

import csv
import json
import sys
import time
from datetime import date

from faker import Faker
from superstore_common.source_format import HEADER, format_date

SHIP_MODES = ("Standard Class", "Second Class", "First Class", "Same Day")
SEGMENTS = ("Consumer", "Corporate", "Home Office")
REGIONS = ("West", "East", "Central", "South")
CATEGORIES = ("Furniture", "Office Supplies", "Technology")
SUB_CATEGORIES = ("Binders", "Paper", "Phones", "Chairs", "Storage", "Art", "Tables", "Accessories")
DISCOUNTS = ("0", "0.1", "0.2", "0.3", "0.5", "0.7", "0.8")


def row(fake: Faker, row_id: int) -> list:
    order_date = fake.date_between(date(2024, 5, 26), date(2024, 6, 1))
    return [
        row_id,
        fake.bothify("CA-2024-######"),
        format_date(order_date),
        format_date(fake.date_between(order_date, date(2024, 6, 8))),
        fake.random_element(SHIP_MODES),
        fake.bothify("??-#####").upper(),
        fake.name(),
        fake.random_element(SEGMENTS),
        fake.current_country(),
        fake.city(),
        fake.state(),
        fake.postcode(),
        fake.random_element(REGIONS),
        fake.bothify("OFF-??-########").upper(),
        fake.random_element(CATEGORIES),
        fake.random_element(SUB_CATEGORIES),
        fake.catch_phrase(),
        fake.pydecimal(left_digits=4, right_digits=4, positive=True),
        fake.random_int(1, 14),
        fake.random_element(DISCOUNTS),
        fake.pydecimal(left_digits=3, right_digits=4),
    ]


def main(rows: int, out: str) -> None:
    started = time.perf_counter()
    fake = Faker("en_US")
    fake.seed_instance(1)
    with open(out, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        for row_id in range(1, rows + 1):
            writer.writerow(row(fake, row_id))
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
