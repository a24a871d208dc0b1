"""A small published star schema built from Superstore source rows, shaped
like the one dbt publishes (surrogate keys, customers as SCD type 2): enough
for the generator to learn from the warehouse."""

from collections import defaultdict
from datetime import datetime

import psycopg
from psycopg import sql

TABLES = {
    "dim_customers": "customer_key int, customer_id text, customer_name text, segment text, country text, city text,"
    " state text, postal_code text, region text, valid_from date, valid_to date, is_current boolean",
    "dim_products": "product_key int, product_id text, product_name text, category text, sub_category text",
    "dim_orders": "order_key int, order_id text, order_date date, ship_date date, ship_mode text",
    "fct_sales": "order_line_key int, order_key int, customer_key int, product_key int, order_date_key int,"
    " sales numeric(14,4), quantity int, discount numeric(4,2), profit numeric(14,4)",
}


def _date(text: str):
    return datetime.strptime(text, "%m/%d/%Y").date()


def _customer_versions(rows: list[dict]) -> tuple[list[tuple], dict[int, int]]:
    """SCD2 versions (a new one each time a customer's place changes, in
    order-date order) and the version of each row (by index)."""
    by_customer = defaultdict(list)
    for index, row in enumerate(rows):
        by_customer[row["Customer ID"]].append(index)
    versions, version_of_row = [], {}
    for customer_id, indexes in by_customer.items():
        indexes.sort(key=lambda i: (_date(rows[i]["Order Date"]), i))
        place = None
        for i in indexes:
            row = rows[i]
            row_place = (row["Country"], row["City"], row["State"], row["Postal Code"], row["Region"])
            if row_place != place:
                place = row_place
                versions.append(
                    [
                        len(versions) + 1,
                        customer_id,
                        row["Customer Name"],
                        row["Segment"],
                        *place,
                        _date(row["Order Date"]),
                        None,
                        False,
                    ]
                )
            version_of_row[i] = versions[-1][0]
    current = {}
    for version in versions:
        previous = current.get(version[1])
        if previous:
            previous[10] = version[9]
        current[version[1]] = version
    for version in current.values():
        version[11] = True
    return [tuple(version) for version in versions], version_of_row


def build(conn: psycopg.Connection, schema: str, rows: list[dict]) -> None:
    """(Re)create `schema` with the star schema of `rows`."""
    customers, customer_of_row = _customer_versions(rows)
    products, orders = {}, {}
    for row in rows:
        products.setdefault((row["Product ID"], row["Product Name"]), (row["Category"], row["Sub-Category"]))
        orders.setdefault(row["Order ID"], (_date(row["Order Date"]), _date(row["Ship Date"]), row["Ship Mode"]))
    product_keys = {product: key for key, product in enumerate(products, start=1)}
    order_keys = {order: key for key, order in enumerate(orders, start=1)}

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
    copy("dim_products", ((key, *product, *products[product]) for product, key in product_keys.items()))
    copy("dim_orders", ((key, order, *orders[order]) for order, key in order_keys.items()))
    copy(
        "fct_sales",
        (
            (
                index + 1,
                order_keys[row["Order ID"]],
                customer_of_row[index],
                product_keys[row["Product ID"], row["Product Name"]],
                int(_date(row["Order Date"]).strftime("%Y%m%d")),
                row["Sales"],
                row["Quantity"],
                row["Discount"],
                row["Profit"],
            )
            for index, row in enumerate(rows)
        ),
    )
