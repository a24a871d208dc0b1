"""The load state machine: one load per source object version, its typed
state, and every transition. This module is the only writer of the ledger
(`<raw>.loads`, and its history `<raw>.load_transitions`); dbt and Soda
report verdicts, the steps call these transitions.

    received --> staged --> audited --> published
       |           |           |
       +--> rejected <---------+ (a data check failed; re-admitted on purpose -> received)
       +--> failed  (warehouse, S3, a killed or timed-out process: retryable)

A run takes over any load that is not finished (received, staged, audited,
failed): a killed step leaves its load in the state it had, and the retry
goes on from there. `raw_rows` is set when the object's rows are in the raw
layer: a retry never copies them twice. Writers call `lock()` first, in the
transaction that makes their change, so two runs at once serialise here."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from superstore_common.objects import S3Object
from superstore_common.step import StepError
from superstore_common.warehouse import Connection, quote_ident, quote_literal

REASON_MAX_BYTES = 1024


class LoadState(StrEnum):
    RECEIVED = "received"
    STAGED = "staged"
    AUDITED = "audited"
    PUBLISHED = "published"
    REJECTED = "rejected"
    FAILED = "failed"


S = LoadState
TRANSITIONS: dict[LoadState, frozenset[LoadState]] = {
    S.RECEIVED: frozenset({S.STAGED, S.REJECTED, S.FAILED}),
    S.STAGED: frozenset({S.STAGED, S.AUDITED, S.REJECTED, S.FAILED}),
    S.AUDITED: frozenset({S.STAGED, S.AUDITED, S.PUBLISHED, S.FAILED}),
    S.FAILED: frozenset({S.RECEIVED, S.STAGED, S.REJECTED, S.FAILED}),
    S.REJECTED: frozenset({S.RECEIVED}),  # re-admitted on purpose (readmit)
    S.PUBLISHED: frozenset(),
}
UNFINISHED = frozenset({S.RECEIVED, S.STAGED, S.AUDITED, S.FAILED})


class IllegalTransition(StepError):
    pass


@dataclass(frozen=True)
class Load:
    load_id: str
    bucket: str
    key: str
    etag: str
    state: LoadState
    source_rows: int | None
    raw_rows: int | None
    rejected_rows: int | None
    sales_sum: Decimal | None
    profit_sum: Decimal | None
    reason: str | None
    received_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @property
    def obj(self) -> S3Object:
        return S3Object(self.bucket, self.key, self.etag)

    @property
    def in_raw(self) -> bool:
        return self.raw_rows is not None


@dataclass(frozen=True)
class Counts:
    """What the loader found in an object."""

    source_rows: int
    raw_rows: int | None = None
    rejected_rows: int = 0
    sales_sum: Decimal | None = None
    profit_sum: Decimal | None = None


LOAD_COLUMNS = (
    "load_id", "bucket", "key", "etag", "state", "source_rows", "raw_rows", "rejected_rows",
    "sales_sum", "profit_sum", "reason", "received_at", "updated_at", "published_at",
)  # fmt: skip


class Ledger:
    def __init__(self, connection: Connection, schema: str):
        self.connection = connection
        self.table = f"{quote_ident(schema)}.loads"
        self.history = f"{quote_ident(schema)}.load_transitions"

    def ddl(self) -> list[str]:
        dialect = self.connection.dialect
        states = ", ".join(quote_literal(state) for state in LoadState)
        check = f" check (state in ({states}))" if dialect.check_constraints else ""
        return [
            f"""create table if not exists {self.table} (
  load_id varchar(32) not null primary key,
  bucket varchar(256) not null,
  key varchar(1024) not null,
  etag varchar(128) not null,
  state varchar(16) not null{check},
  source_rows bigint,
  raw_rows bigint,
  rejected_rows bigint,
  sales_sum numeric(38,4),
  profit_sum numeric(38,4),
  reason varchar({REASON_MAX_BYTES}),
  received_at timestamp not null default {dialect.now},
  updated_at timestamp not null default {dialect.now},
  -- when its rows became visible: the loaded_at of its lines in the marts
  published_at timestamp,
  unique (bucket, key, etag)
)""",
            f"""create table if not exists {self.history} (
  load_id varchar(32) not null,
  from_state varchar(16),
  to_state varchar(16) not null,
  changed_at timestamp not null default {dialect.now},
  changed_by varchar(256) not null,
  reason varchar({REASON_MAX_BYTES})
)""",
        ]

    def lock(self) -> None:
        """Serialise ledger writers until the end of the current transaction."""
        self.connection.execute(self.connection.dialect.lock.format(table=self.table))

    # --- reads

    def get(self, load_id: str) -> Load | None:
        loads = self.get_many([load_id])
        return loads[0] if loads else None

    def get_many(self, load_ids: Sequence[str]) -> list[Load]:
        if not load_ids:
            return []
        marks = ", ".join(["%s"] * len(load_ids))
        rows = self.connection.fetchall(
            f"select {', '.join(LOAD_COLUMNS)} from {self.table} where load_id in ({marks}) order by received_at, key",
            list(load_ids),
        )
        return [Load(*row[:4], LoadState(row[4]), *row[5:]) for row in rows]

    def load_ids_in(self, state: LoadState) -> list[str]:
        rows = self.connection.fetchall(
            f"select load_id from {self.table} where state = %s order by load_id", [state.value]
        )
        return [load_id for (load_id,) in rows]

    def published_count(self) -> int:
        """Loads published so far: it only grows (published is final)."""
        (count,) = self.connection.fetchone(f"select count(*) from {self.table} where state = %s", [S.PUBLISHED.value])
        return count

    # --- transitions (call inside a transaction, after lock())

    def receive(self, obj: S3Object, by: str) -> Load:
        """The load of this object version: recorded as received the first time."""
        if (load := self.get(obj.load_id)) is not None:
            return load
        self.connection.execute(
            f"insert into {self.table} (load_id, bucket, key, etag, state) values (%s, %s, %s, %s, %s)",
            [obj.load_id, obj.bucket, obj.key, obj.etag, S.RECEIVED.value],
        )
        self._record(obj.load_id, None, S.RECEIVED, by, None)
        return self.get(obj.load_id)

    def move(
        self,
        load_ids: Iterable[str],
        to: LoadState,
        by: str,
        reason: str | None = None,
        counts: Counts | None = None,
        published_at: datetime | None = None,
    ) -> list[Load]:
        """Move every load to `to`; refuses (IllegalTransition) unless each may.
        `published_at`: with `to` published, the time its rows carry as
        loaded_at (default: now)."""
        loads = self.get_many(list(dict.fromkeys(load_ids)))
        for load in loads:
            if to not in TRANSITIONS[load.state]:
                raise IllegalTransition(f"load {load.load_id} ({load.obj.uri}) is {load.state}, it cannot become {to}")
        reason = _fit(reason)
        for load in loads:
            assignments, params = (
                ["state = %s", "reason = %s", f"updated_at = {self.connection.dialect.now}"],
                [to.value, reason],
            )
            if to is S.PUBLISHED:
                assignments.append(f"published_at = coalesce(%s, {self.connection.dialect.now})")
                params.append(published_at)
            if counts is not None:
                for name in ("source_rows", "raw_rows", "rejected_rows", "sales_sum", "profit_sum"):
                    assignments.append(f"{name} = %s")
                    params.append(getattr(counts, name))
            self.connection.execute(
                f"update {self.table} set {', '.join(assignments)} where load_id = %s", [*params, load.load_id]
            )
            self._record(load.load_id, load.state, to, by, reason)
        return self.get_many([load.load_id for load in loads])

    def readmit(self, load_id: str, by: str, why: str) -> Load:
        """A rejected load, admitted again on purpose (who, when and why are kept)."""
        load = self.get(load_id)
        if load is None or load.state is not S.REJECTED:
            raise IllegalTransition(
                f"load {load_id} is {load.state if load else 'unknown'}, only a rejected load can be re-admitted"
            )
        if not why.strip():
            raise StepError("re-admitting a rejected load needs a reason")
        (moved,) = self.move([load_id], S.RECEIVED, by=by, reason=f"re-admitted: {why}")
        return moved

    def _record(self, load_id: str, from_state: LoadState | None, to: LoadState, by: str, reason: str | None) -> None:
        self.connection.execute(
            f"insert into {self.history} (load_id, from_state, to_state, changed_by, reason) values (%s, %s, %s, %s, %s)",
            [load_id, from_state and from_state.value, to.value, by, _fit(reason)],
        )


def _fit(reason: str | None) -> str | None:
    return reason and reason.encode()[:REASON_MAX_BYTES].decode(errors="ignore")
