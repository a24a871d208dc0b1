"""The load state machine (superstore_common.loads) on PostgreSQL, in a
schema of its own; its Redshift DDL by what it would send."""

import uuid
from collections import deque
from decimal import Decimal
from itertools import product

import pytest
from conftest import SCHEMA_PREFIX
from recording import RecordingConnection
from superstore_common.loads import (
    REASON_MAX_BYTES,
    TRANSITIONS,
    UNFINISHED,
    Counts,
    IllegalTransition,
    Ledger,
    LoadState,
)
from superstore_common.objects import LOAD_ID, S3Object, load_id
from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError
from superstore_common.warehouse import POSTGRES, REDSHIFT, Connection, connect

S = LoadState
# The machine as the design draws it: received -> staged -> audited -> published,
# rejected from received/staged/failed (re-admitted -> received), failed
# (retryable) from anything unfinished. Written out: a change must be deliberate.
ALLOWED = {
    (S.RECEIVED, S.STAGED), (S.RECEIVED, S.REJECTED), (S.RECEIVED, S.FAILED),
    (S.STAGED, S.STAGED), (S.STAGED, S.AUDITED), (S.STAGED, S.REJECTED), (S.STAGED, S.FAILED),
    (S.AUDITED, S.STAGED), (S.AUDITED, S.AUDITED), (S.AUDITED, S.PUBLISHED), (S.AUDITED, S.FAILED),
    (S.FAILED, S.RECEIVED), (S.FAILED, S.STAGED), (S.FAILED, S.REJECTED), (S.FAILED, S.FAILED),
    (S.REJECTED, S.RECEIVED),
}  # fmt: skip
SCHEMA = f"{SCHEMA_PREFIX}_ledger"


@pytest.fixture(scope="module")
def ledger(db):  # db: drops this session's schemas at the end
    with connect(WarehouseSettings(), "loader-tests") as connection:
        ledger = Ledger(connection, SCHEMA)
        with connection.transaction():
            connection.execute(f'create schema if not exists "{SCHEMA}"')
            for statement in ledger.ddl():
                connection.execute(statement)
        yield ledger


def new_object() -> S3Object:
    return S3Object("bucket", f"incoming/{uuid.uuid4().hex}.csv", uuid.uuid4().hex)


def history(ledger: Ledger, load_id: str) -> list[tuple]:
    return ledger.connection.fetchall(
        f"select from_state, to_state, changed_by, reason from {ledger.history} where load_id = %s"
        " order by changed_at, ctid",
        [load_id],
    )


def path_to(state: LoadState) -> list[LoadState]:
    """The shortest way from received to `state`."""
    paths, queue = {S.RECEIVED: []}, deque([S.RECEIVED])
    while queue:
        here = queue.popleft()
        for there in sorted(TRANSITIONS[here]):
            if there not in paths:
                paths[there] = [*paths[here], there]
                queue.append(there)
    return paths[state]


def load_in(ledger: Ledger, state: LoadState) -> str:
    """A new load, moved (legally) into `state`."""
    obj = new_object()
    with ledger.connection.transaction():
        ledger.lock()
        ledger.receive(obj, by="test")
        for step in path_to(state):
            ledger.move([obj.load_id], step, by="test")
    assert ledger.get(obj.load_id).state is state
    return obj.load_id


def test_the_transitions_are_the_designed_ones():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(TRANSITIONS) == set(LoadState)
    assert TRANSITIONS[S.PUBLISHED] == frozenset()  # published is final
    assert UNFINISHED == {S.RECEIVED, S.STAGED, S.AUDITED, S.FAILED}
    assert all(path_to(state) is not None for state in LoadState)  # every state is reachable


def test_receive_records_a_new_load_once(ledger):
    obj = new_object()
    with ledger.connection.transaction():
        ledger.lock()
        first = ledger.receive(obj, by="superstore-loader")
        again = ledger.receive(obj, by="someone else")

    assert first == again
    assert (first.load_id, first.obj, first.state) == (obj.load_id, obj, S.RECEIVED)
    assert (first.raw_rows, first.in_raw, first.reason) == (None, False, None)
    assert history(ledger, obj.load_id) == [(None, "received", "superstore-loader", None)]


@pytest.mark.parametrize(
    "source, target", list(product(LoadState, LoadState)), ids=lambda state: state.value
)  # fmt: skip
def test_every_allowed_transition_moves_and_every_other_one_raises(ledger, source, target):
    load_id = load_in(ledger, source)
    before = history(ledger, load_id)

    if (source, target) in ALLOWED:
        with ledger.connection.transaction():
            ledger.lock()
            (moved,) = ledger.move([load_id], target, by="mover", reason="why not")
        assert moved.state is target and ledger.get(load_id).state is target
        assert history(ledger, load_id) == [*before, (source.value, target.value, "mover", "why not")]
    else:
        with pytest.raises(IllegalTransition, match=f"load {load_id} .* is {source}, it cannot become {target}"):
            with ledger.connection.transaction():
                ledger.move([load_id], target, by="mover")
        assert ledger.get(load_id).state is source
        assert history(ledger, load_id) == before


def test_a_move_of_several_loads_moves_all_or_none(ledger):
    staged, published = load_in(ledger, S.STAGED), load_in(ledger, S.PUBLISHED)

    with pytest.raises(IllegalTransition, match=published):
        with ledger.connection.transaction():
            ledger.move([staged, published], S.FAILED, by="test")

    assert [load.state for load in ledger.get_many([staged, published])] == [S.STAGED, S.PUBLISHED]


def test_counts_are_kept_until_a_move_brings_new_ones(ledger):
    load_id = load_in(ledger, S.RECEIVED)
    counts = Counts(source_rows=10, raw_rows=10, rejected_rows=0, sales_sum=Decimal("12.5"), profit_sum=Decimal("-1"))

    with ledger.connection.transaction():
        ledger.move([load_id], S.STAGED, by="test", counts=counts)
        ledger.move([load_id], S.AUDITED, by="test")

    load = ledger.get(load_id)
    assert (load.source_rows, load.raw_rows, load.rejected_rows, load.in_raw) == (10, 10, 0, True)
    assert (load.sales_sum, load.profit_sum) == (Decimal("12.5"), Decimal("-1"))


def test_reasons_are_cut_to_the_column_without_breaking_a_character(ledger):
    load_id = load_in(ledger, S.RECEIVED)
    reason = "é" * REASON_MAX_BYTES  # two bytes each

    with ledger.connection.transaction():
        (load,) = ledger.move([load_id], S.REJECTED, by="test", reason=reason)

    assert load.reason == "é" * (REASON_MAX_BYTES // 2)
    assert history(ledger, load_id)[-1][3] == load.reason


def test_readmit_moves_a_rejected_load_back_to_received_with_who_and_why(ledger):
    load_id = load_in(ledger, S.REJECTED)

    with ledger.connection.transaction():
        load = ledger.readmit(load_id, by="alice", why="the check was wrong")

    assert load.state is S.RECEIVED
    assert history(ledger, load_id)[-1] == ("rejected", "received", "alice", "re-admitted: the check was wrong")


@pytest.mark.parametrize("state", [s for s in LoadState if s is not S.REJECTED], ids=lambda state: state.value)
def test_only_a_rejected_load_can_be_re_admitted(ledger, state):
    load_id = load_in(ledger, state)

    with pytest.raises(IllegalTransition, match=f"is {state}, only a rejected load can be re-admitted"):
        ledger.readmit(load_id, by="alice", why="because")

    assert ledger.get(load_id).state is state


def test_readmit_needs_a_known_load_and_a_reason(ledger):
    with pytest.raises(IllegalTransition, match="is unknown"):
        ledger.readmit("load-" + "f" * 20, by="alice", why="because")
    load_id = load_in(ledger, S.REJECTED)
    with pytest.raises(StepError, match="needs a reason"):
        ledger.readmit(load_id, by="alice", why="  ")
    assert ledger.get(load_id).state is S.REJECTED


def test_reads(ledger):
    first, second = load_in(ledger, S.PUBLISHED), load_in(ledger, S.PUBLISHED)
    published = ledger.published_count()

    assert [load.load_id for load in ledger.get_many([second, first])] == [first, second]  # in the order received
    assert {first, second} <= set(ledger.load_ids_in(S.PUBLISHED))
    assert ledger.get("load-" + "0" * 20) is None and ledger.get_many([]) == []
    load_in(ledger, S.PUBLISHED)
    assert ledger.published_count() == published + 1


def test_postgres_refuses_a_state_outside_the_machine(ledger):
    import psycopg

    obj = new_object()
    with pytest.raises(psycopg.errors.CheckViolation):
        ledger.connection.execute(
            f"insert into {ledger.table} (load_id, bucket, key, etag, state) values (%s, %s, %s, %s, 'lost')",
            [obj.load_id, obj.bucket, obj.key, obj.etag],
        )


def test_one_load_per_object_version(ledger):
    import psycopg

    obj = new_object()
    with ledger.connection.transaction():
        ledger.receive(obj, by="test")
    with pytest.raises(psycopg.errors.UniqueViolation):
        ledger.connection.execute(
            f"insert into {ledger.table} (load_id, bucket, key, etag, state) values (%s, %s, %s, %s, 'received')",
            ["load-other", obj.bucket, obj.key, obj.etag],
        )


def test_the_ddl_per_dialect():
    postgres = Ledger(Connection(None, POSTGRES), "raw").ddl()
    redshift = Ledger(Connection(None, REDSHIFT), "raw").ddl()

    states = ", ".join(f"'{state}'" for state in LoadState)
    assert f"state varchar(16) not null check (state in ({states}))" in postgres[0]
    assert not any("check" in statement for statement in redshift)  # Redshift accepts no CHECK constraints
    for loads, transitions in (postgres, redshift):
        assert loads.startswith('create table if not exists "raw".loads (')
        assert "load_id varchar(32) not null primary key" in loads
        assert "unique (bucket, key, etag)" in loads
        assert f"reason varchar({REASON_MAX_BYTES})" in loads and f"reason varchar({REASON_MAX_BYTES})" in transitions
        assert transitions.startswith('create table if not exists "raw".load_transitions (')
        assert "changed_by varchar(256) not null" in transitions
    # clock time: the transitions of one transaction keep their order
    assert "updated_at timestamp not null default clock_timestamp()" in postgres[0]
    assert "updated_at timestamp not null default getdate()" in redshift[0]
    assert "changed_at timestamp not null default getdate()" in redshift[1]
    assert [s.replace("getdate()", "clock_timestamp()") for s in redshift] == [
        postgres[0].replace(f" check (state in ({states}))", ""),
        postgres[1],
    ]  # the only differences


def test_the_lock_per_dialect():
    for dialect, sql in (
        (REDSHIFT, 'lock "raw".loads'),
        (POSTGRES, 'lock table "raw".loads in share row exclusive mode'),
    ):
        recording = RecordingConnection()
        Ledger(Connection(recording, dialect), "raw").lock()
        assert recording.sent == [(sql, None)]


def test_a_load_id_is_derived_from_the_object_version_alone():
    obj = S3Object("b", "incoming/x.csv", "0123abcd", origin="/tmp/x.csv")

    assert obj.load_id == load_id("b", "incoming/x.csv", "0123abcd") == load_id("b", "incoming/x.csv", '"0123abcd"')
    assert LOAD_ID.fullmatch(obj.load_id) and len(obj.load_id) <= 32  # the ledger's varchar(32)
    assert obj == S3Object("b", "incoming/x.csv", "0123abcd")  # the origin is not part of the identity
    assert obj.identity() == {"bucket": "b", "key": "incoming/x.csv", "etag": "0123abcd"}
    others = {load_id("c", "incoming/x.csv", "0123abcd"), load_id("b", "incoming/y.csv", "0123abcd"),
              load_id("b", "incoming/x.csv", "0123abce")}  # fmt: skip
    assert obj.load_id not in others and len(others) == 3
