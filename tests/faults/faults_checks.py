"""What the faults are judged by: the published tables (order-independent
checksums, without the columns that say when a run happened), the load
ledger and its history, and the raw layer's rows of each load."""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from faults_data import SourceFile
from faults_stack import MARTS, PUBLISHED, RAW, RUN_TIME_COLUMNS, Postgres

# The design's state machine (the brief of this suite; superstore_common.loads
# holds the product's copy). A test expects only these moves in the history.
LEGAL = {
    None: {"received"},
    "received": {"staged", "rejected", "failed"},
    "staged": {"staged", "audited", "rejected", "failed"},
    "audited": {"staged", "audited", "published", "failed"},
    "failed": {"received", "staged", "rejected", "failed"},
    "rejected": {"received"},
    "published": set(),
}
RETRYABLE = {"received", "staged", "audited", "failed"}


@dataclass(frozen=True)
class Load:
    state: str
    source_rows: int | None
    raw_rows: int | None
    sales_sum: Decimal | None
    profit_sum: Decimal | None
    reason: str | None


class Warehouse:
    """One database of the fault cluster."""

    def __init__(self, pg: Postgres, db: str):
        self.pg, self.db = pg, db

    def rows(self, sql: str, *params) -> list[tuple]:
        with self.pg.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, *params):
        return self.rows(sql, *params)[0][0]

    # --- published

    def published(self) -> dict[str, tuple[int, str]]:
        """Each published table: (rows, checksum of every column but the run-time ones)."""
        state = {}
        for table in MARTS:
            columns = [
                name
                for (name,) in self.rows(
                    "select column_name from information_schema.columns"
                    " where table_schema = %s and table_name = %s order by ordinal_position",
                    PUBLISHED,
                    table,
                )
                if name not in RUN_TIME_COLUMNS.get(table, ())
            ]
            if not columns:
                state[table] = (0, "missing")
                continue
            names = ", ".join(f'"{name}"' for name in columns)
            state[table] = self.rows(
                "select count(*), md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), ''))"
                f' from (select {names} from "{PUBLISHED}"."{table}") as t'
            )[0]
        return state

    def exact_published(self) -> dict[str, str]:
        """Each published table byte for byte, every column (loaded_at too)."""
        return {
            table: self.value(
                "select md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), ''))"
                f' from "{PUBLISHED}"."{table}" as t'
            )
            for table in MARTS
        }

    def facts(self, load_id: str) -> tuple[int, Decimal, Decimal]:
        return self.rows(
            f'select count(*), coalesce(sum(sales), 0), coalesce(sum(profit), 0) from "{PUBLISHED}".fct_sales'
            " where load_id = %s",
            load_id,
        )[0]

    # --- the ledger

    def loads(self) -> dict[str, Load]:
        return {
            load_id: Load(*rest)
            for load_id, *rest in self.rows(
                f'select load_id, state, source_rows, raw_rows, sales_sum, profit_sum, reason from "{RAW}".loads'
            )
        }

    def state(self, load_id: str) -> str | None:
        load = self.loads().get(load_id)
        return load and load.state

    def transitions(self, load_id: str) -> list[tuple[str | None, str]]:
        return self.rows(
            f'select from_state, to_state from "{RAW}".load_transitions where load_id = %s order by changed_at, ctid',
            load_id,
        )

    def assert_ledger_consistent(self) -> None:
        """Every load's history is legal and ends in its state; a published
        load was published once."""
        loads = self.loads()
        for load_id, load in loads.items():
            history = self.transitions(load_id)
            assert history, f"{load_id}: no history"
            assert history[-1][1] == load.state, (load_id, load.state, history)
            previous = None
            for from_state, to_state in history:
                assert from_state == previous, (load_id, history)
                assert to_state in LEGAL[from_state], (load_id, from_state, to_state, history)
                previous = to_state
            assert Counter(to for _, to in history)["published"] == (load.state == "published"), history

    # --- the raw layer

    def raw(self, load_id: str) -> tuple[int, Decimal, Decimal]:
        return self.rows(
            f'select count(*), coalesce(sum(sales), 0), coalesce(sum(profit), 0) from "{RAW}".order_lines'
            " where _load_id = %s",
            load_id,
        )[0]

    def raw_checksum(self, load_id: str) -> str:
        return self.value(
            "select md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), ''))"
            f' from "{RAW}".order_lines as t where _load_id = %s',
            load_id,
        )

    def raw_loads(self) -> dict[str, int]:
        return dict(self.rows(f'select _load_id, count(*) from "{RAW}".order_lines group by _load_id'))

    def schemas(self) -> set[str]:
        return {name for (name,) in self.rows("select schema_name from information_schema.schemata")}

    # --- the judgement of a case

    def assert_published_once(self, load_id: str, source: SourceFile) -> None:
        """Published, its rows in the raw layer and in the fact exactly once."""
        load = self.loads()[load_id]
        assert load.state == "published", load
        assert (load.source_rows, load.raw_rows) == (source.rows, source.rows), load
        assert (load.sales_sum, load.profit_sum) == (source.sales, source.profit), load
        assert self.raw(load_id) == (source.rows, source.sales, source.profit)
        assert self.facts(load_id) == (source.rows, source.sales, source.profit)
