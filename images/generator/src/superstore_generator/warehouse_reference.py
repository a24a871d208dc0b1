"""Reference data from the warehouse's published star schema. Only small
aggregates travel (one row per product, customer, customer and ship-to place,
ship mode...), never the fact table; the SQL runs on PostgreSQL and Redshift
alike."""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from functools import cached_property

from superstore_common.settings import WarehouseSettings
from superstore_common.warehouse import Connection, connect, quote_ident

from superstore_generator.profile import Customer, Location, ProductLabel, ProductSales, Profile, ProfileCounts
from superstore_generator.reference import ORDER_ID_PREFIX

PUBLISHED_TABLES = ("fct_sales", "dim_customers", "dim_locations", "dim_products", "dim_orders")

# Date pairs, not date differences: date arithmetic differs between dialects.
SHIP_MODES = """
select ship_mode, order_date, ship_date, count(*)
from {schema}.dim_orders
where ship_date is not null
group by 1, 2, 3"""

LINES_PER_ORDER = """
select lines, count(*)
from (select order_key, count(*) as lines from {schema}.fct_sales group by order_key) as orders
group by 1"""

QUANTITIES = "select quantity, count(*) from {schema}.fct_sales group by 1"

DISCOUNTS = """
select p.sub_category, round(f.discount * 100), count(*)
from {schema}.fct_sales as f
join {schema}.dim_products as p on p.product_key = f.product_key
group by 1, 2"""

PRODUCTS = """
select p.product_id, p.product_name, p.category, p.sub_category,
       count(*), sum(f.sales), sum(f.quantity), sum(f.quantity * f.discount), sum(f.profit)
from {schema}.fct_sales as f
join {schema}.dim_products as p on p.product_key = f.product_key
group by 1, 2, 3, 4"""

# A customer's own attributes: their current version (SCD2 on name, segment).
CUSTOMERS = """
select customer_id, customer_name, segment
from {schema}.dim_customers
where is_current"""

# Orders per customer id (over all of the customer's versions) and ship-to
# place: where each customer ships to, and, summed, each customer's and each
# place's orders (an order has one customer and one place).
CUSTOMER_PLACES = """
select c.customer_id, l.country, l.city, l.state, l.postal_code, l.region, count(distinct f.order_key)
from {schema}.fct_sales as f
join {schema}.dim_customers as c on c.customer_key = f.customer_key
join {schema}.dim_locations as l on l.location_key = f.location_key
group by 1, 2, 3, 4, 5, 6"""

# A year's ids a page at a time (keyset pagination, on both dialects): they
# stream in without being held, however many orders the year has.
ORDER_IDS_LIKE = """
select order_id from {schema}.dim_orders
where order_id like %s and order_id > %s
order by order_id
limit %s"""
ORDER_IDS_PAGE = 50_000


class WarehouseReference:
    def __init__(self, settings: WarehouseSettings):
        self.settings = settings
        self.name = f"warehouse:{settings.published_schema}"

    def has_published_tables(self) -> bool:
        """True when the star schema exists and holds at least one sale."""
        with self._connect() as conn:
            tables = conn.fetchall(
                "select table_name from information_schema.tables where table_schema = %s",
                (self.settings.published_schema,),
            )
            if not set(PUBLISHED_TABLES) <= {name for (name,) in tables}:
                return False
            return conn.fetchone(self._sql("select 1 from {schema}.fct_sales limit 1")) is not None

    def profile(self) -> Profile:
        return self._profile

    def order_numbers_taken(self, year: int) -> Iterator[int]:
        prefix = f"{ORDER_ID_PREFIX}-{year}-"
        with self._connect() as conn:
            after = ""
            while page := conn.fetchall(self._sql(ORDER_IDS_LIKE), (prefix + "%", after, ORDER_IDS_PAGE)):
                for (order_id,) in page:
                    if order_id[len(prefix) :].isdigit():
                        yield int(order_id[len(prefix) :])
                if len(page) < ORDER_IDS_PAGE:
                    return
                after = page[-1][0]

    @cached_property
    def _profile(self) -> Profile:
        counts = ProfileCounts()
        with self._connect() as conn:
            run = lambda query: conn.fetchall(self._sql(query))  # noqa: E731
            for mode, order_date, ship_date, orders in run(SHIP_MODES):
                counts.shipping[mode, (ship_date - order_date).days] += orders
            counts.lines_per_order.update(dict(run(LINES_PER_ORDER)))
            counts.quantities.update({int(quantity): lines for quantity, lines in run(QUANTITIES)})
            for sub_category, discount_percent, lines in run(DISCOUNTS):
                counts.discounts[sub_category][int(discount_percent)] += lines
            for product_id, name, category, sub_category, lines, sales, quantity, discounted, profit in run(PRODUCTS):
                label = ProductLabel(product_id, name, category, sub_category)
                counts.product_sales[label] = ProductSales(lines, sales, quantity, discounted, profit)
            for customer_id, name, segment in run(CUSTOMERS):
                counts.customers[customer_id] = Customer(customer_id, name, segment)
            for customer_id, country, city, state, postal_code, region, orders in run(CUSTOMER_PLACES):
                counts.customer_places[customer_id, Location(country, city, state, postal_code, region)] += orders
        return counts.to_profile()

    def _sql(self, query: str) -> str:
        return query.format(schema=quote_ident(self.settings.published_schema))

    def _connect(self) -> AbstractContextManager[Connection]:
        """From the WAREHOUSE_* settings; unreachable: a one-line StepError
        ("warehouse unreachable: ..."), naming host and user, never the password."""
        return connect(self.settings, "superstore-generator")
