"""Publish: the audited marts into the published schema, ALL in one
transaction together with the ledger's move to `published`. A failure at
any point (a statement, a lost connection, a killed process) rolls back the
whole of it: the published tables stay as they were.

| | PostgreSQL | Redshift |
|---|---|---|
| rebuild | drop the published table, move the audit table in (`alter table ... set schema`) | `drop`, `create table ... (like audit)`, `insert ... select` |
| incremental | `delete ... using` the audit table's keys, then `insert ... select` | the same |

Both run inside one `BEGIN ... COMMIT` (DDL is transactional in both)."""

from dataclasses import dataclass
from datetime import datetime

from superstore_common.loads import Ledger, LoadState
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError
from superstore_common.warehouse import POSTGRES, Connection, quote_ident

from superstore_dbt.runner import Mart

ACTOR = "superstore-dbt"


class PublishConflict(StepError):
    """Another run published meanwhile: what this run audited is stale, a retry audits again."""


@dataclass(frozen=True)
class Publisher:
    connection: Connection
    settings: WarehouseSettings
    audit_schema: str
    marts: list[Mart]

    def audit_table(self, mart: Mart) -> str:
        return f"{quote_ident(self.audit_schema)}.{quote_ident(mart.name)}"

    def published_table(self, mart: Mart) -> str:
        return f"{quote_ident(self.settings.published_schema)}.{quote_ident(mart.name)}"

    def published_tables_exist(self) -> bool:
        names = [mart.name for mart in self.marts]
        marks = ", ".join(["%s"] * len(names))
        (count,) = self.connection.fetchone(
            f"select count(*) from information_schema.tables where table_schema = %s and table_name in ({marks})",
            [self.settings.published_schema, *names],
        )
        return count == len(names)

    def columns(self, schema: str, table: str) -> list[str]:
        rows = self.connection.fetchall(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            [schema, table],
        )
        return [name for (name,) in rows]

    # --- statements (plain strings: what a dialect sends is testable without a connection)

    def rebuild_statements(self, mart: Mart) -> list[str]:
        published, audit = self.published_table(mart), self.audit_table(mart)
        # No cascade: a view on the published table would be dropped silently.
        drop = f"drop table if exists {published}"
        if self.connection.dialect is POSTGRES:
            # The audit table, with its indexes, becomes the published one: no copy.
            return [drop, f"alter table {audit} set schema {quote_ident(self.settings.published_schema)}"]
        return [drop, f"create table {published} (like {audit})", f"insert into {published} select * from {audit}"]

    def merge_statements(self, mart: Mart, columns: list[str]) -> list[str]:
        published, audit = self.published_table(mart), self.audit_table(mart)
        key = quote_ident(mart.unique_key)
        names = ", ".join(map(quote_ident, columns))
        return [
            f"delete from {published} using {audit} where {published}.{key} = {audit}.{key}",
            f"insert into {published} ({names}) select {names} from {audit}",
        ]

    def statements(self, rebuild: bool) -> list[str]:
        statements = []
        for mart in self.marts:
            if rebuild:
                statements += self.rebuild_statements(mart)
                continue
            columns = self.columns(self.audit_schema, mart.name)
            if columns != self.columns(self.settings.published_schema, mart.name):
                raise StepError(
                    f"{self.published_table(mart)} has other columns than the model builds:"
                    " rebuild the published tables (the initial DAG) after a change of the model"
                )
            statements += self.merge_statements(mart, columns)
        return statements

    # --- the transaction

    def publish(
        self, ledger: Ledger, load_ids: list[str], rebuild: bool, published_before: int, published_at: datetime
    ) -> None:
        """All marts and the ledger at once. `published_before`: how many
        loads were published when the audit began; if that changed, the audit
        read a state that is gone. `published_at`: the loaded_at the audit
        gave the loads' lines."""
        with self.connection.transaction():
            ledger.lock()
            if ledger.published_count() != published_before:
                raise PublishConflict("another run published while this one audited: retry to audit again")
            not_audited = [load for load in ledger.get_many(load_ids) if load.state is not LoadState.AUDITED]
            if not_audited:
                raise PublishConflict(f"load {not_audited[0].load_id} is {not_audited[0].state}, not audited")
            for statement in self.statements(rebuild):
                self.connection.execute(statement)
            ledger.move(load_ids, LoadState.PUBLISHED, by=ACTOR, published_at=published_at)

    def row_counts(self) -> dict[str, int]:
        counts = {}
        for mart in self.marts:
            (counts[f"{self.settings.published_schema}.{mart.name}"],) = self.connection.fetchone(
                f"select count(*) from {self.published_table(mart)}"
            )
        return counts
