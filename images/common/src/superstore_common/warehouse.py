"""The warehouse connection every step uses: PostgreSQL locally (psycopg 3),
Redshift on AWS (redshift-connector), from the WAREHOUSE_* settings. Both
drivers take `%s` parameters; what else differs between the two dialects
for the shared tables is in `Dialect`."""

from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass

from superstore_common.settings import WarehouseSettings
from superstore_common.step import StepError


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Dialect:
    name: str
    now: str
    # Takes the table's lock for the rest of the transaction, excluding other writers.
    lock: str
    check_constraints: bool  # Redshift accepts no CHECK constraints


# clock_timestamp(), not now(): the transitions of one transaction keep their order.
POSTGRES = Dialect(
    "postgres", "clock_timestamp()", "lock table {table} in share row exclusive mode", check_constraints=True
)
REDSHIFT = Dialect("redshift", "getdate()", "lock {table}", check_constraints=False)


class Connection:
    """A DB-API connection, the dialect it speaks, and explicit transactions
    (nested ones are savepoints on PostgreSQL, part of the outer one on Redshift)."""

    def __init__(self, raw, dialect: Dialect):
        self.raw = raw
        self.dialect = dialect
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.dialect is POSTGRES:
            with self.raw.transaction():
                yield
            return
        self._depth += 1
        try:
            yield
        except BaseException:
            if self._depth == 1:
                self.raw.rollback()
            raise
        else:
            if self._depth == 1:
                self.raw.commit()
        finally:
            self._depth -= 1

    def execute(self, sql: str, params: Sequence | None = None) -> int:
        with closing(self.raw.cursor()) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def fetchall(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        with closing(self.raw.cursor()) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def fetchone(self, sql: str, params: Sequence | None = None) -> tuple | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        self.raw.close()


@contextmanager
def connect(settings: WarehouseSettings, application: str) -> Iterator[Connection]:
    """A connection to the warehouse; the error names host and user, never the password."""
    password = settings.password.get_secret_value()
    # Drivers imported on use: each takes a noticeable time to import.
    if settings.kind == "postgres":
        import psycopg

        try:
            raw = psycopg.connect(
                host=settings.host, port=settings.port, dbname=settings.db, user=settings.user, password=password,
                autocommit=True, application_name=application, connect_timeout=30,
            )  # fmt: skip
        except psycopg.OperationalError as error:
            raise WarehouseUnavailable(f"warehouse unreachable: {' '.join(str(error).split())}") from None
        connection = Connection(raw, POSTGRES)
    else:
        import redshift_connector

        try:
            raw = redshift_connector.connect(
                host=settings.host, port=settings.port, database=settings.db, user=settings.user, password=password
            )
        except redshift_connector.InterfaceError as error:
            raise WarehouseUnavailable(f"warehouse unreachable: {' '.join(str(error).split())}") from None
        connection = Connection(raw, REDSHIFT)
    with closing(connection):
        yield connection


class WarehouseUnavailable(StepError):
    """The warehouse could not be reached: a transient failure, worth a retry."""
