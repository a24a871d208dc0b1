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
    "dag_id",
    "run_id",
    "task_id",
    "state",
    "try_number",
    "started_at",
    "ended_at",
    "seconds",
    "rows",
    "error",
)
CHECK_COLUMNS = ("dag_id", "run_id", "check_name", "dataset", "status", "failing_rows", "load_id", "sample")
LOAD_COLUMNS = (
    "load_id", "key", "state", "source_rows", "raw_rows", "rejected_rows", "sales_sum", "profit_sum", "reason",
    "received_at", "updated_at", "published_at",
)  # fmt: skip
TRANSITION_COLUMNS = ("load_id", "from_state", "to_state", "changed_at", "changed_by", "reason")
FACT = "fct_sales"


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


def _rows(connection: Connection, columns: tuple[str, ...], sql: str, params=None) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in connection.fetchall(sql, params)]


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


def _order_date(key: int | None) -> date | None:
    """fct_sales.order_date_key is the date as yyyymmdd (dim_dates.date_key)."""
    if key is None:
        return None
    return date(key // 10000, key // 100 % 100, key % 100)


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
    ops_tables = set(_tables_in(connection, settings.ops_schema))
    raw_tables = set(_tables_in(connection, settings.raw_schema))

    def present(qualified: str, schema: str, existing: set[str]) -> bool:
        if _bare(qualified) in existing:
            return True
        data.missing.append(f"{schema}.{_bare(qualified)}")
        return False

    if present(records.runs, settings.ops_schema, ops_tables):
        data.runs = _rows(
            connection,
            RUN_COLUMNS,
            f"select {', '.join(RUN_COLUMNS)} from {records.runs} order by coalesce(started_at, recorded_at), run_id",
        )
    if present(records.steps, settings.ops_schema, ops_tables):
        data.steps = _rows(
            connection,
            STEP_COLUMNS,
            f"select {', '.join(STEP_COLUMNS)} from {records.steps}"
            " order by dag_id, run_id, started_at nulls last, task_id",
        )
    if present(records.checks, settings.ops_schema, ops_tables):
        data.checks = _rows(
            connection,
            CHECK_COLUMNS,
            f"select {', '.join(CHECK_COLUMNS)} from {records.checks} order by dag_id, run_id, dataset, check_name",
        )
        for check in data.checks:
            check["sample"] = _sample(check["sample"])
    if present(ledger.table, settings.raw_schema, raw_tables):
        data.loads = _rows(
            connection, LOAD_COLUMNS, f"select {', '.join(LOAD_COLUMNS)} from {ledger.table} order by received_at, key"
        )
        for load in data.loads:
            load["sales_sum"], load["profit_sum"] = _number(load["sales_sum"]), _number(load["profit_sum"])
    if present(ledger.history, settings.raw_schema, raw_tables):
        data.transitions = _rows(
            connection,
            TRANSITION_COLUMNS,
            f"select {', '.join(TRANSITION_COLUMNS)} from {ledger.history} order by changed_at, load_id",
        )

    published = _tables_in(connection, settings.published_schema)
    schema = quote_ident(settings.published_schema)
    for table in published:
        (data.tables[table],) = connection.fetchone(f"select count(*) from {schema}.{quote_ident(table)}")
    if FACT in published:
        fact = f"{schema}.{quote_ident(FACT)}"
        lines, loaded_at, first_key, last_key = connection.fetchone(
            f"select count(*), max(loaded_at), min(order_date_key), max(order_date_key) from {fact}"
        )
        data.freshness = Freshness(lines, loaded_at, _order_date(first_key), _order_date(last_key))
        data.published_lines = dict(connection.fetchall(f"select load_id, count(*) from {fact} group by load_id"))
    else:
        data.missing.append(f"{settings.published_schema}.{FACT}")
    return data
