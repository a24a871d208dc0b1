"""A small published star schema built by hand from Superstore source rows,
shaped like the one dbt publishes: surrogate keys, ship-to places as their
own dimension (5-character ZIP codes), customers as SCD type 2 on their own
attributes (name, segment), one fact row per order line pointing at the
version its order belongs to and at the place the order ships to. Enough
for the generator to learn from the warehouse."""

import hashlib
from collections import defaultdict
from datetime import datetime

import psycopg
from psycopg import sql
from superstore_common.source_format import parse_date
from superstore_generator.csv_output import published_postal_code

LOAD_ID = "load-0123456789abcdef0123"
TABLES = {
    "dim_customers": "customer_key text, customer_id text, customer_name text, segment text, version_number int,"
    " valid_from date, valid_to date, is_current boolean, load_id text",
    "dim_locations": "location_key text, country text, region text, state text, city text, postal_code text",
    "dim_products": "product_key text, product_id text, product_name text, category text, sub_category text",
    "dim_orders": "order_key text, order_id text, order_date date, ship_date date, ship_mode text",
    "fct_sales": "order_line_key text, order_key text, customer_key text, product_key text, location_key text,"
    " order_date_key int, ship_date_key int, sales numeric(14,4), quantity int, discount numeric(4,2),"
    " profit numeric(14,4), load_id text, loaded_at timestamptz",
}


def surrogate_key(*values) -> str:
    return hashlib.md5("|".join(map(str, values)).encode()).hexdigest()


def _date_key(text: str) -> int:
    return int(parse_date(text).strftime("%Y%m%d"))


def _location(row: dict) -> tuple:
    """(country, region, state, city, postal_code), the ZIP code restored."""
    postal_code = published_postal_code(row["Country"], row["Postal Code"])
    return row["Country"], row["Region"], row["State"], row["City"], postal_code


def _customer_versions(rows: list[dict]) -> tuple[list[tuple], dict[int, str]]:
    """SCD2 versions (a new one each time a customer's name or segment
    differs from their previous order's, in order-date order, file order
    within a day) and the version key of each row (by index)."""
    by_customer = defaultdict(list)
    for index, row in enumerate(rows):
        by_customer[row["Customer ID"]].append(index)
    versions, version_of_row = [], {}
    for customer_id, indexes in by_customer.items():
        indexes.sort(key=lambda i: (parse_date(rows[i]["Order Date"]), i))
        own = mine = None
        for i in indexes:
            row = rows[i]
            if (row["Customer Name"], row["Segment"]) != own:
                own = (row["Customer Name"], row["Segment"])
                number = mine[4] + 1 if mine else 1
                if mine:
                    mine[6] = parse_date(row["Order Date"])  # valid_to
                mine = [surrogate_key(customer_id, number), customer_id, *own, number]
                mine += [parse_date(row["Order Date"]), None, False, LOAD_ID]
                versions.append(mine)
            version_of_row[i] = mine[0]
        mine[7] = True  # is_current
    return [tuple(version) for version in versions], version_of_row


def build(conn: psycopg.Connection, schema: str, rows: list[dict]) -> None:
    """(Re)create `schema` with the star schema of `rows`."""
    customers, customer_of_row = _customer_versions(rows)
    products, orders, locations = {}, {}, {}
    for row in rows:
        products.setdefault((row["Product ID"], row["Product Name"]), (row["Category"], row["Sub-Category"]))
        orders.setdefault(
            row["Order ID"], (parse_date(row["Order Date"]), parse_date(row["Ship Date"]), row["Ship Mode"])
        )
        locations.setdefault(_location(row), surrogate_key(*_location(row)))

    schema_id = sql.Identifier(schema)
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(schema_id))
    conn.execute(sql.SQL("create schema {}").format(schema_id))
    for table, columns in TABLES.items():
        conn.execute(sql.SQL("create table {}.{} ({})").format(schema_id, sql.Identifier(table), sql.SQL(columns)))

    def copy(table: str, records) -> None:
        with conn.cursor().copy(sql.SQL("copy {}.{} from stdin").format(schema_id, sql.Identifier(table))) as copy:
            for record in records:
                copy.write_row(record)

    copy("dim_customers", customers)
    copy("dim_locations", ((key, *location) for location, key in locations.items()))
    copy("dim_products", ((surrogate_key(*product), *product, *products[product]) for product in products))
    copy("dim_orders", ((surrogate_key(order), order, *orders[order]) for order in orders))
    line_numbers = defaultdict(int)
    loaded_at = datetime(2024, 1, 1, 12, 0)

    def fact(index: int, row: dict) -> tuple:
        line_numbers[row["Order ID"]] += 1
        return (
            surrogate_key(row["Order ID"], line_numbers[row["Order ID"]]),
            surrogate_key(row["Order ID"]),
            customer_of_row[index],
            surrogate_key(row["Product ID"], row["Product Name"]),
            locations[_location(row)],
            _date_key(row["Order Date"]),
            _date_key(row["Ship Date"]),
            row["Sales"],
            row["Quantity"],
            row["Discount"],
            row["Profit"],
            LOAD_ID,
            loaded_at,
        )

    copy("fct_sales", (fact(index, row) for index, row in enumerate(rows)))
