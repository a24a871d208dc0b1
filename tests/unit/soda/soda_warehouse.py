"""The star schema the Soda suite scans, built by the real pipeline steps
(superstore-loader, superstore-dbt, each from its own virtualenv) from a
small sample of the source file, and the means to spoil it for one test and
put it back exactly as dbt published it."""

import csv
import io
import json
import subprocess
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[3]
# The Kaggle copy beside the repository, else the public copy `make demo`
# fetches (scripts/fetch-data.sh).
SOURCES = (REPO.parent / "shared" / "data" / "superstore-kaggle.csv", REPO / "data" / "superstore.csv")
LOADER = REPO / ".venv" / "loader" / "bin" / "superstore-loader"
DBT = REPO / ".venv" / "dbt" / "bin" / "superstore-dbt"

SAMPLE_ROWS = 300  # the first lines of the source: enough for 4-character ZIP codes in the Kaggle file
CALENDAR = (date(2010, 1, 1), date(2035, 12, 31))  # dim_dates (the dbt model's bounds)
US = "United States"


class PipelineError(Exception):
    """A pipeline step failed while building the star schema."""


def source_file() -> Path | None:
    return next((path for path in SOURCES if path.is_file()), None)


def parse_source_date(text: str) -> date:
    if "-" in text:
        return date.fromisoformat(text)
    month, day, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


def us_zip_code(postal_code: str, country: str) -> str:
    """The cleaning rule dbt applies (macros/cleaning.sql): US ZIP codes
    that lost their leading zero get it back."""
    return postal_code.rjust(5, "0") if country == US and len(postal_code) < 5 else postal_code


@dataclass(frozen=True)
class Figures:
    """What the published tables must hold, derived from the source lines."""

    lines: int
    orders: int
    customers: int
    products: int
    locations: int
    sales: Decimal
    profit: Decimal

    @classmethod
    def of(cls, rows: list[dict[str, str]]) -> "Figures":
        return cls(
            lines=len(rows),
            orders=len({row["Order ID"] for row in rows}),
            customers=len({row["Customer ID"] for row in rows}),
            products=len({(row["Product ID"], row["Product Name"]) for row in rows}),
            locations=len({location(row) for row in rows}),
            sales=sum((Decimal(row["Sales"]) for row in rows), Decimal(0)),
            profit=sum((Decimal(row["Profit"]) for row in rows), Decimal(0)),
        )

    def tables(self, schema: str) -> dict[str, int]:
        """As superstore-dbt build reports them (its result's `tables`)."""
        days = (CALENDAR[1] - CALENDAR[0]).days + 1
        counts = {
            "fct_sales": self.lines,
            "dim_orders": self.orders,
            # one version per customer: Sample.read checks no name or segment changes
            "dim_customers": self.customers,
            "dim_products": self.products,
            "dim_locations": self.locations,
            "dim_dates": days,
        }
        return {f"{schema}.{table}": count for table, count in counts.items()}


def location(row: dict[str, str]) -> tuple[str, ...]:
    return (
        row["Country"],
        row["Region"],
        row["State"],
        row["City"],
        us_zip_code(row["Postal Code"], row["Country"]),
    )


@dataclass(frozen=True)
class SampleLoad:
    """One object of the sample: whole orders, in source order."""

    name: str
    rows: list[dict[str, str]]

    @property
    def order_ids(self) -> list[str]:
        return list(dict.fromkeys(row["Order ID"] for row in self.rows))


@dataclass(frozen=True)
class Sample:
    """The first SAMPLE_ROWS lines of the source, split into two loads at an
    order boundary (an order lives in one load: stg_orders_order_in_one_load),
    about two thirds in the first."""

    source: Path
    header: list[str]
    loads: tuple[SampleLoad, SampleLoad]

    @classmethod
    def read(cls, source: Path, rows: int = SAMPLE_ROWS) -> "Sample":
        data = source.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        lines = [row for _, row in zip(range(rows), reader, strict=False)]
        orders: dict[str, list[dict[str, str]]] = {}
        for row in lines:
            orders.setdefault(row["Order ID"], []).append(row)
        first: list[dict[str, str]] = []
        second: list[dict[str, str]] = []
        for order_lines in orders.values():
            (first if len(first) < len(lines) * 2 // 3 else second).extend(order_lines)
        sample = cls(source, list(reader.fieldnames or []), (SampleLoad("first", first), SampleLoad("second", second)))
        described = {}
        for row in lines:
            described.setdefault(row["Customer ID"], set()).add((row["Customer Name"], row["Segment"]))
        changing = sorted(customer for customer, versions in described.items() if len(versions) > 1)
        assert not changing, f"customers changing name or segment in the sample (Figures assumes none): {changing}"
        assert first and second, f"{source}: too few orders in the first {rows} lines for two loads"
        return sample

    @property
    def rows(self) -> list[dict[str, str]]:
        return [row for load in self.loads for row in load.rows]

    @property
    def figures(self) -> Figures:
        return Figures.of(self.rows)

    @property
    def order_dates(self) -> set[date]:
        """The lines' order dates: ISO (the public copy) or US month/day/year (Kaggle's)."""
        return {parse_source_date(row["Order Date"]) for row in self.rows}

    def write(self, directory: Path) -> list[Path]:
        """Each load as a UTF-8 CSV file with the source's header."""
        paths = []
        for load in self.loads:
            path = directory / f"{load.name}.csv"
            with path.open("w", encoding="utf-8", newline="") as file:
                writer = csv.DictWriter(file, self.header)
                writer.writeheader()
                writer.writerows(load.rows)
            paths.append(path)
        return paths


@dataclass
class Pipeline:
    """The pipeline's entrypoints run as processes with one environment."""

    env: dict[str, str]
    scratch: Path
    results: dict[str, dict] = field(default_factory=dict)

    def run(self, entrypoint: Path, command: str, *args: str) -> dict:
        if not entrypoint.is_file():
            raise PipelineError(f"{entrypoint.relative_to(REPO)} missing: `make setup` installs it")
        result_path = self.scratch / f"{entrypoint.name}-{command}-{len(self.results)}.json"
        done = subprocess.run(
            [str(entrypoint), command, *args],
            env={**self.env, "XCOM_RETURN_PATH": str(result_path)},
            cwd=self.scratch,  # dbt writes its logs beside it
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            raise PipelineError(f"{entrypoint.name} {command} failed: {last[0]}")
        result = json.loads(result_path.read_text())
        self.results[f"{entrypoint.name} {command}"] = result
        return result

    def build(self, sample: Sample, run_id: str) -> "Built":
        """create-schemas, put-source (each load's file), load, dbt build
        (initial: rebuild and publish), drop-staging: the initial DAG's steps."""
        self.run(LOADER, "create-schemas")
        objects = []
        for path in sample.write(self.scratch):
            stored = self.run(LOADER, "put-source", "--source", str(path))
            objects.append({name: stored[name] for name in ("bucket", "key", "etag")})
        loaded = self.run(LOADER, "load", "--objects", json.dumps(objects))
        load_ids = loaded["load_ids"]
        if len(load_ids) != len(sample.loads):
            raise PipelineError(f"superstore-loader load staged {load_ids}, expected {len(sample.loads)} loads")
        built = self.run(DBT, "build", "--mode", "initial", "--load-ids", json.dumps(load_ids), "--run-id", run_id)
        if built["published"] != load_ids or built["rejected"]:
            raise PipelineError(f"superstore-dbt build published {built['published']}, rejected {built['rejected']}")
        self.run(LOADER, "drop-staging", "--run-id", run_id)
        return Built(load_ids=tuple(load_ids), loaded=loaded, built=built)


@dataclass(frozen=True)
class Built:
    load_ids: tuple[str, ...]  # in sample order: first, second
    loaded: dict  # superstore-loader load's result
    built: dict  # superstore-dbt build's result


# Keys tests spoil by: of a line of each load, and, for the first load, keys
# no line of the second load points at (so the second load's scan does not
# read them). Placeholders {first_line} ... in the spoiling SQL.
KEYS_OF_A_LINE = """
select
    sales.order_line_key, sales.order_key, sales.customer_key, sales.product_key, sales.location_key
from {schema}.fct_sales as sales
join {schema}.dim_locations as locations on locations.location_key = sales.location_key
where sales.load_id = %(load_id)s
  and locations.country = %(us)s
  and (not %(own)s or not exists (
      select 1 from {schema}.fct_sales as other
      where other.load_id <> sales.load_id
        and (other.customer_key = sales.customer_key
             or other.product_key = sales.product_key
             or other.location_key = sales.location_key)
  ))
order by sales.order_line_key
limit 1
"""


@dataclass
class Published:
    """The published schema as dbt left it, kept in a schema of its own so
    that a test can spoil the tables (data, indexes, whole tables) and have
    them rebuilt exactly, indexes included, afterwards."""

    conninfo: str
    schema: str
    pristine: str
    tables: list[str] = field(default_factory=list)
    indexes: dict[str, list[str]] = field(default_factory=dict)
    fingerprint: dict = field(default_factory=dict)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True)

    def keep(self) -> None:
        published, pristine = sql.Identifier(self.schema), sql.Identifier(self.pristine)
        with self.connect() as conn, conn.transaction():
            self.tables = [
                name
                for (name,) in conn.execute(
                    "select table_name from information_schema.tables where table_schema = %s order by 1",
                    (self.schema,),
                )
            ]
            self.indexes = {table: self._index_definitions(conn, table) for table in self.tables}
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(pristine))
            conn.execute(sql.SQL("create schema {}").format(pristine))
            for table in map(sql.Identifier, self.tables):
                conn.execute(sql.SQL("create table {}.{} (like {}.{})").format(pristine, table, published, table))
                conn.execute(sql.SQL("insert into {}.{} select * from {}.{}").format(pristine, table, published, table))
            self.fingerprint = self._fingerprint(conn)

    def restore(self) -> None:
        published, pristine = sql.Identifier(self.schema), sql.Identifier(self.pristine)
        with self.connect() as conn:
            with conn.transaction():
                present = [
                    name
                    for (name,) in conn.execute(
                        "select table_name from information_schema.tables where table_schema = %s", (self.schema,)
                    )
                ]
                for table in present:
                    conn.execute(sql.SQL("drop table {}.{} cascade").format(published, sql.Identifier(table)))
                for name in self.tables:
                    table = sql.Identifier(name)
                    conn.execute(sql.SQL("create table {}.{} (like {}.{})").format(published, table, pristine, table))
                    conn.execute(
                        sql.SQL("insert into {}.{} select * from {}.{}").format(published, table, pristine, table)
                    )
                    for definition in self.indexes[name]:
                        conn.execute(definition)
            after = self._fingerprint(conn)
        assert after == self.fingerprint, "the published tables were not restored as dbt built them"

    def drop_unique_indexes(self, conn: psycopg.Connection) -> None:
        """dbt's unique indexes would refuse the duplicates Soda must find."""
        for (name,) in conn.execute(
            "select index_class.relname from pg_index"
            " join pg_class as index_class on index_class.oid = pg_index.indexrelid"
            " join pg_namespace on pg_namespace.oid = index_class.relnamespace"
            " where pg_namespace.nspname = %s and pg_index.indisunique",
            (self.schema,),
        ):
            conn.execute(sql.SQL("drop index {}.{}").format(sql.Identifier(self.schema), sql.Identifier(name)))

    def keys(self, load_id: str, *, own: bool) -> dict[str, str]:
        """The keys of one line of the load (of a US location); own: whose
        customer, product and location no other load's line points at."""
        query = sql.SQL(KEYS_OF_A_LINE).format(schema=sql.Identifier(self.schema))
        with self.connect() as conn:
            row = conn.execute(query, {"load_id": load_id, "us": US, "own": own}).fetchone()
        assert row is not None, f"no line of {load_id} fit for spoiling (own={own})"
        return dict(zip(("line", "order", "customer", "product", "location"), row, strict=True))

    def _index_definitions(self, conn: psycopg.Connection, table: str) -> list[str]:
        return [
            definition
            for (definition,) in conn.execute(
                "select indexdef from pg_indexes where schemaname = %s and tablename = %s order by indexname",
                (self.schema, table),
            )
        ]

    def _fingerprint(self, conn: psycopg.Connection) -> dict:
        published = sql.Identifier(self.schema)
        fingerprint = {}
        for name in self.tables:
            query = sql.SQL(
                "select count(*), md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) from {}.{} as t"
            ).format(published, sql.Identifier(name))
            fingerprint[name] = (conn.execute(query).fetchone(), self._index_definitions(conn, name))
        return fingerprint
