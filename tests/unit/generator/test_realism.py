"""Generated batches look like the real data set they learned from, and add
what an incremental load must handle: new customers, existing customers
shipping to places they used and to new ones, customers whose name or
segment changed, new products, new orders."""

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from superstore_common.source_format import HEADER
from superstore_common.source_format import parse_date as source_date
from superstore_generator.batch import Batch, BatchSpec
from superstore_generator.csv_output import csv_fields
from superstore_generator.csv_reference import CsvReference

ROWS = 20_000
AS_OF = date(2024, 1, 3)  # the order window spans a new year


def parse_date(text: str) -> date:
    """The batches' US dates, or the reference's (US in the Kaggle copy, ISO in the public one)."""
    return source_date(text)


@pytest.fixture(scope="module")
def reference(reference_uri: str) -> CsvReference:
    return CsvReference(reference_uri)


@pytest.fixture(scope="module")
def batch_rows(reference: CsvReference) -> list[dict[str, str]]:
    spec = BatchSpec(rows=ROWS, seed=2024, as_of=AS_OF, reference=reference.name)
    text = csv_fields(HEADER) + "\n" + b"".join(Batch(spec, reference).chunks()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def shares(rows: list[dict[str, str]], field: str) -> dict[str, float]:
    counts = Counter(row[field] for row in rows)
    return {value: count / len(rows) for value, count in counts.items()}


def orders(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    by_order = defaultdict(list)
    for row in rows:
        by_order[row["Order ID"]].append(row)
    return by_order


PLACE = ("Country", "City", "State", "Postal Code", "Region")


def place(row: dict[str, str]) -> tuple[str, ...]:
    """Where an order ships, its ZIP code with 5 digits (the source lost
    some leading zeros; the star schema and the generator have them)."""
    return (*(row[field] for field in PLACE[:3]), row["Postal Code"].rjust(5, "0"), row["Region"])


def known_places(source_rows) -> dict[str, set[tuple[str, ...]]]:
    """customer id -> the places their orders in the source shipped to"""
    places = defaultdict(set)
    for row in source_rows:
        places[row["Customer ID"]].add(place(row))
    return places


def own_attributes(source_rows) -> dict[str, tuple[str, str]]:
    """customer id -> (name, segment) of their latest order in the source"""
    return {
        row["Customer ID"]: (row["Customer Name"], row["Segment"])
        for row in sorted(source_rows, key=lambda row: parse_date(row["Order Date"]))
    }


def existing_orders(batch_rows, source_rows) -> list[dict[str, str]]:
    """The first line of each order of a customer the source knows."""
    known = {row["Customer ID"] for row in source_rows}
    return [lines[0] for lines in orders(batch_rows).values() if lines[0]["Customer ID"] in known]


def list_price_and_margin(row: dict[str, str]) -> tuple[Decimal, Decimal]:
    sales, quantity, discount, profit = (Decimal(row[f]) for f in ("Sales", "Quantity", "Discount", "Profit"))
    list_price = (sales / quantity / (1 - discount)).quantize(Decimal("0.01"))
    margin = (profit / sales * (1 - discount) + discount).quantize(Decimal("0.01"))
    return list_price, margin


@pytest.mark.parametrize("field", ["Ship Mode", "Segment", "Region", "Category", "Sub-Category", "Discount"])
def test_shares_match_the_reference(batch_rows, source_rows, field):
    generated, real = shares(batch_rows, field), shares(source_rows, field)

    assert set(generated) <= set(real) | ({"Consumer", "Corporate", "Home Office"} if field == "Segment" else set())
    for value, share in real.items():
        assert generated.get(value, 0) == pytest.approx(share, abs=0.03), value


def test_quantities_and_order_sizes_match_the_reference(batch_rows, source_rows):
    mean_quantity = lambda rows: sum(int(row["Quantity"]) for row in rows) / len(rows)  # noqa: E731
    assert mean_quantity(batch_rows) == pytest.approx(mean_quantity(source_rows), rel=0.05)
    lines_per_order = lambda rows: len(rows) / len(orders(rows))  # noqa: E731
    assert lines_per_order(batch_rows) == pytest.approx(lines_per_order(source_rows), rel=0.05)


def test_shipping_delays_are_those_of_the_ship_mode(batch_rows, source_rows):
    delays = lambda rows: {  # noqa: E731
        (row["Ship Mode"], (parse_date(row["Ship Date"]) - parse_date(row["Order Date"])).days) for row in rows
    }
    assert delays(batch_rows) <= delays(source_rows)


def test_existing_products_keep_their_price_and_margin(batch_rows, source_rows):
    known = {(row["Product ID"], row["Product Name"]): list_price_and_margin(row) for row in source_rows}
    existing = [row for row in batch_rows if (row["Product ID"], row["Product Name"]) in known]

    assert len(existing) > 0.95 * ROWS
    for row in existing:
        assert list_price_and_margin(row) == known[row["Product ID"], row["Product Name"]], row


def test_orders_are_new_well_formed_and_whole(batch_rows, source_rows):
    existing_ids = {row["Order ID"] for row in source_rows}
    # one header per order: dates, ship mode, customer, ship-to place
    order_level = ("Order Date", "Ship Date", "Ship Mode", "Customer ID", "Customer Name", "Segment", *PLACE)

    for order_id, lines in orders(batch_rows).items():
        assert re.fullmatch(r"CA-\d{4}-\d{6}", order_id)
        assert order_id not in existing_ids
        order_date = parse_date(lines[0]["Order Date"])
        assert order_id[3:7] == str(order_date.year)
        assert AS_OF - timedelta(days=6) <= order_date <= AS_OF
        assert parse_date(lines[0]["Ship Date"]) >= order_date
        assert len({tuple(line[field] for field in order_level) for line in lines}) == 1
        # every line of an order is in this batch, one after the other
        row_ids = [int(line["Row ID"]) for line in lines]
        assert row_ids == list(range(row_ids[0], row_ids[0] + len(lines)))


def test_new_customers_come_at_the_configured_share(batch_rows, source_rows):
    known = {row["Customer ID"] for row in source_rows}
    order_customers = {lines[0]["Customer ID"]: lines[0] for lines in orders(batch_rows).values()}
    new = [row for row in order_customers.values() if row["Customer ID"] not in known]

    assert len(new) / len(orders(batch_rows)) == pytest.approx(0.05, abs=0.01)
    for row in new:
        assert re.fullmatch(r"[A-Z]{2}-\d{5}", row["Customer ID"])
        first, last = row["Customer Name"].split(" ", 1)
        assert row["Customer ID"][:2] == (first[0] + last[0]).upper()
        assert row["Segment"] in {"Consumer", "Corporate", "Home Office"}


def test_existing_customers_ship_to_their_places_and_sometimes_to_new_ones(batch_rows, source_rows):
    used = known_places(source_rows)
    all_places = {place(row) for row in source_rows}
    existing = existing_orders(batch_rows, source_rows)
    to_new_places = [row for row in existing if place(row) not in used[row["Customer ID"]]]

    assert len(to_new_places) / len(existing) == pytest.approx(0.1, abs=0.015)
    # new to the customer, not to the data set: a real place, whole
    assert {place(row) for row in to_new_places} <= all_places
    # a customer with several places and many orders uses several of them
    by_customer = defaultdict(list)
    for row in existing:
        by_customer[row["Customer ID"]].append(place(row))
    regulars = [customer for customer, places in by_customer.items() if len(places) >= 10 and len(used[customer]) >= 3]
    assert len(regulars) > 100
    for customer in regulars:
        assert len({place for place in by_customer[customer] if place in used[customer]}) > 1, customer


def test_places_keep_their_weight(batch_rows, source_rows):
    """Where the existing customers' orders go follows the source's orders,
    per place: the busiest places keep their shares."""
    real = Counter(place(lines[0]) for lines in orders(source_rows).values())
    generated = Counter(place(row) for row in existing_orders(batch_rows, source_rows))
    share = lambda counts, places: sum(map(counts.__getitem__, places)) / counts.total()  # noqa: E731

    busiest = [busy for busy, _ in real.most_common(50)]
    assert share(generated, busiest) == pytest.approx(share(real, busiest), rel=0.1)
    for busy in busiest[:10]:
        assert share(generated, [busy]) == pytest.approx(share(real, [busy]), rel=0.35), busy


def test_changed_customers_carry_one_new_name_or_segment(batch_rows, source_rows):
    attributes = own_attributes(source_rows)
    existing = existing_orders(batch_rows, source_rows)
    seen = defaultdict(set)
    for row in existing:
        seen[row["Customer ID"]].add((row["Customer Name"], row["Segment"]))
    changed = {customer: now for customer, now in seen.items() if now != {attributes[customer]}}

    assert len(changed) / len(seen) == pytest.approx(0.02, abs=0.01)
    segments = {row["Segment"] for row in source_rows}
    for customer, now in changed.items():
        assert len(now) == 1, customer  # every order of theirs in the batch carries the change
        ((name, segment),) = now
        old_name, old_segment = attributes[customer]
        # one attribute changed: the segment, or the last name
        if segment != old_segment:
            assert name == old_name and segment in segments
        else:
            assert name.split(" ", 1)[0] == old_name.split(" ", 1)[0] and name != old_name


def test_zip_codes_have_five_digits(batch_rows, source_rows):
    """With the leading zero the source lost in places (as the star schema
    publishes them)."""
    assert {len(row["Postal Code"]) for row in batch_rows} == {5}
    assert any(row["Postal Code"].startswith("0") for row in batch_rows)
    assert {place(row) for row in batch_rows} <= {place(row) for row in source_rows}


def test_new_products_come_at_the_configured_share(batch_rows, source_rows):
    known = {row["Product ID"] for row in source_rows}
    prefixes = {row["Sub-Category"]: row["Product ID"][:6] for row in source_rows}
    new = [row for row in batch_rows if row["Product ID"] not in known]

    assert len(new) / ROWS == pytest.approx(0.02, abs=0.005)
    for row in new:
        assert re.fullmatch(r"[A-Z]{3}-[A-Z]{2}-\d{8}", row["Product ID"])
        assert row["Product ID"][:6] == prefixes[row["Sub-Category"]]
        assert row["Product Name"].strip() and Decimal(row["Sales"]) > 0
