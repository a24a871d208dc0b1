"""What the report shows, read from the warehouse: the run records
(superstore_common.ops), the load ledger (superstore_common.loads) and the
published star schema. Table names come from those modules; a table that
does not exist yet (no run recorded, nothing published) reads as empty."""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from superstore_common.loads import Ledger
from superstore_common.ops import RunRecords
from superstore_common.settings import WarehouseSettings
from superstore_common.warehouse import Connection, quote_ident

RUN_COLUMNS = ("dag_id", "run_id", "state", "run_type", "started_at", "ended_at", "seconds", "error", "recorded_at")
STEP_COLUMNS = (
    "dag_id", "run_id", "task_id", "state", "try_number", "started_at", "ended_at", "seconds", "rows", "rejected_rows",
    "error",
)  # fmt: skip
CHECK_COLUMNS = ("dag_id", "run_id", "check_name", "dataset", "status", "failing_rows", "load_id", "sample")
LOAD_COLUMNS = (
    "load_id", "key", "state", "source_rows", "raw_rows", "rejected_rows", "sales_sum", "profit_sum", "reason",
    "received_at", "updated_at", "published_at",
)  # fmt: skip
TRANSITION_COLUMNS = ("load_id", "from_state", "to_state", "changed_at", "changed_by", "reason")
FACT = "fct_sales"
DATES = "dim_dates"  # order_date_key -> date


@dataclass
class Freshness:
    lines: int = 0
    latest_loaded_at: datetime | None = None
    latest_order_date: date | None = None
    first_order_date: date | None = None

    def age_hours(self, now: datetime) -> float | None:
        if self.latest_loaded_at is None:
            return None
        return round((now - self.latest_loaded_at).total_seconds() / 3600, 2)

    def order_age_days(self, now: datetime) -> int | None:
        return None if self.latest_order_date is None else (now.date() - self.latest_order_date).days


@dataclass
class ReportData:
    database: str
    ops_schema: str
    raw_schema: str
    published_schema: str
    generated_at: datetime
    runs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    published_lines: dict[str, int] = field(default_factory=dict)  # load_id -> lines of the fact it published
    tables: dict[str, int] = field(default_factory=dict)  # published table -> rows
    freshness: Freshness = field(default_factory=Freshness)
    missing: list[str] = field(default_factory=list)  # tables not there (yet)


def _read(connection: Connection, table: str, schema: str, columns: tuple[str, ...], order: str) -> list[dict]:
    """Rows of a contract table as dicts; a column the table does not have
    (created by an older version) reads as null."""
    have = {
        name
        for (name,) in connection.fetchall(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            [schema, _bare(table)],
        )
    }
    select = ", ".join(name if name in have else f"null as {name}" for name in columns)
    rows = connection.fetchall(f"select {select} from {table} order by {order}")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _tables_in(connection: Connection, schema: str) -> list[str]:
    rows = connection.fetchall(
        "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'"
        " order by table_name",
        [schema],
    )
    return [name for (name,) in rows]


def _bare(qualified: str) -> str:
    """The table name of a quoted schema.table."""
    return qualified.rsplit(".", 1)[1].strip('"')


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _sample(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        rows = json.loads(text)
    except ValueError:
        return [{"sample": text}]
    return rows if isinstance(rows, list) else [rows]


def collect(connection: Connection, settings: WarehouseSettings, now: datetime | None = None) -> ReportData:
    data = ReportData(
        database=settings.db,
        ops_schema=settings.ops_schema,
        raw_schema=settings.raw_schema,
        published_schema=settings.published_schema,
        # the warehouse's timestamps are UTC without a zone
        generated_at=(now or datetime.now(UTC)).replace(tzinfo=None),
    )
    records = RunRecords(connection, settings.ops_schema)
    ledger = Ledger(connection, settings.raw_schema)
    ops, raw = settings.ops_schema, settings.raw_schema
    ops_tables, raw_tables = set(_tables_in(connection, ops)), set(_tables_in(connection, raw))

    def present(qualified: str, schema: str, existing: set[str]) -> bool:
        if _bare(qualified) in existing:
            return True
        data.missing.append(f"{schema}.{_bare(qualified)}")
        return False

    if present(records.runs, ops, ops_tables):
        data.runs = _read(connection, records.runs, ops, RUN_COLUMNS, "coalesce(started_at, recorded_at), run_id")
    if present(records.steps, ops, ops_tables):
        order = "dag_id, run_id, started_at nulls last, task_id"
        data.steps = _read(connection, records.steps, ops, STEP_COLUMNS, order)
    if present(records.checks, ops, ops_tables):
        order = "dag_id, run_id, dataset, check_name"
        data.checks = _read(connection, records.checks, ops, CHECK_COLUMNS, order)
        for check in data.checks:
            check["sample"] = _sample(check["sample"])
    if present(ledger.table, raw, raw_tables):
        data.loads = _read(connection, ledger.table, raw, LOAD_COLUMNS, "received_at, key")
        for load in data.loads:
            load["sales_sum"], load["profit_sum"] = _number(load["sales_sum"]), _number(load["profit_sum"])
    if present(ledger.history, raw, raw_tables):
        data.transitions = _read(connection, ledger.history, raw, TRANSITION_COLUMNS, "changed_at, load_id")

    published = _tables_in(connection, settings.published_schema)
    schema = quote_ident(settings.published_schema)
    for table in published:
        (data.tables[table],) = connection.fetchone(f"select count(*) from {schema}.{quote_ident(table)}")
    if FACT in published:
        fact = f"{schema}.{quote_ident(FACT)}"
        lines, loaded_at, first_key, last_key = connection.fetchone(
            f"select count(*), max(loaded_at), min(order_date_key), max(order_date_key) from {fact}"
        )
        dates = {}
        if DATES in published and last_key is not None:
            dates = dict(
                connection.fetchall(
                    f"select date_key, date from {schema}.{quote_ident(DATES)} where date_key in (%s, %s)",
                    [first_key, last_key],
                )
            )
        data.freshness = Freshness(
            lines=lines,
            latest_loaded_at=loaded_at,
            latest_order_date=dates.get(last_key),
            first_order_date=dates.get(first_key),
        )
        data.published_lines = dict(connection.fetchall(f"select load_id, count(*) from {fact} group by load_id"))
    else:
        data.missing.append(f"{settings.published_schema}.{FACT}")
    return data
