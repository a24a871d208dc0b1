"""A stand-in for a redshift_connector connection: records every statement
it is sent and answers the few queries a load asks (no Redshift is reachable
here, and redshift-connector cannot talk to PostgreSQL).

It keeps the ledger's rows the way the statements write them, so a load runs
through its real transitions and the test reads what was sent."""

import re
from datetime import datetime

from superstore_common.loads import LOAD_COLUMNS

_SET = re.compile(r"\bset (.*) where load_id = %s$", re.DOTALL)


class RecordingConnection:
    def __init__(self, copy_count: int = 0, loads: list[dict] | None = None):
        self.sent: list[tuple[str, list | tuple | None]] = []
        self.events: list[str] = []  # the first word of each statement, and commit/rollback
        self.copy_count = copy_count
        self.loads: dict[str, dict] = {}
        for load in loads or []:
            self.add_load(**load)

    def add_load(self, load_id: str, bucket: str, key: str, etag: str, state: str, **values) -> None:
        now = datetime(2026, 1, 1)
        row = dict.fromkeys(LOAD_COLUMNS)
        self.loads[load_id] = {**row, "load_id": load_id, "bucket": bucket, "key": key, "etag": etag,
                               "state": state, "received_at": now, "updated_at": now, **values}  # fmt: skip

    def cursor(self):
        return RecordingCursor(self)

    def commit(self):
        self.events.append("commit")

    def rollback(self):
        self.events.append("rollback")

    def close(self):
        pass

    def answer(self, sql: str, params) -> list[tuple]:
        self.sent.append((sql, params))
        self.events.append(sql.split()[0])
        if "pg_last_copy_count()" in sql:
            return [(self.copy_count,)]
        if sql.startswith("select") and ".loads where load_id in" in sql:
            return [tuple(self.loads[i][c] for c in LOAD_COLUMNS) for i in params if i in self.loads]
        if sql.startswith("insert into") and ".loads (" in sql:
            self.add_load(*params)
        if sql.startswith("update") and ".loads set" in sql:
            names = [a.split(" = ")[0] for a in _SET.search(sql)[1].split(", ") if a.endswith("%s")]
            self.loads[params[-1]].update(zip(names, params[:-1], strict=True))
        return []

    def statements(self, word: str) -> list[str]:
        return [sql for sql, _ in self.sent if sql.startswith(word)]


class RecordingCursor:
    def __init__(self, connection: RecordingConnection):
        self.connection = connection
        self.rows: list[tuple] = []
        self.rowcount = -1

    def execute(self, sql: str, params=None):
        self.rows = self.connection.answer(sql, params)

    def fetchall(self):
        return self.rows

    def close(self):
        pass
