"""`superstore-loader load` as a process: exit code, one-line errors, XCom
result, and what it leaves in the raw layer, the load ledger and S3."""

import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from conftest import (
    BUCKET,
    LOADER_ACTOR,
    SHARED_SOURCE,
    SOURCE,
    Run,
    announce,
    file_sums,
    load_id_of,
    move,
    parse_date,
    put,
    put_object,
    run_load,
    run_loader,
    shown,
    small_file,
    source_row_count,
    source_rows,
    to_csv,
    unique_key,
)
from superstore_common.loads import LoadState
from superstore_loader.columns import SOURCE_COLUMNS, Date, Integer, Number, Text

TEXT_COLUMNS = {c.name for c in SOURCE_COLUMNS if isinstance(c.kind, Text)}
DATA_COLUMNS = ", ".join(c.name for c in SOURCE_COLUMNS)
PRODUCT_NAME, POSTAL_CODE, CUSTOMER_NAME = 16, 11, 6  # columns of the source file
# A row: `line N, column "X": reason (N rows rejected, ...)`; the whole file
# (not CSV text, no rows): `line N: reason (file rejected, ...)`.
ERROR = re.compile(
    r'(?:error: )?s3://(?P<bucket>[^/]+)/(?P<key>\S+) line (?P<line>\d+)(?:, column "(?P<column>[^"]*)")?: (?P<reason>.*) '
    r"\((?:(?P<rows>\d+) rows? rejected|file rejected), see s3://(?P<rejects>\S+)\)$"
)
RECEIVED = (None, "received", LOADER_ACTOR, None)
STAGED = ("received", "staged", LOADER_ACTOR, None)


def result_object(obj: dict, status: str, rows: int, rejected_rows: int = 0, **error) -> dict:
    """One entry of the result's `objects`."""
    return {**obj, "load_id": load_id_of(obj), "status": status, "rows": rows, "rejected_rows": rejected_rows, **error}


def good_object(s3, rows: int = 40, name: str = "good.csv") -> tuple[dict, list[list[str]]]:
    header, data = small_file(rows)
    return put_object(s3, name, to_csv(header, data).encode()), data


def source_lines() -> list[int]:
    """The line each row of the data set starts on, as the csv module counts."""
    with SOURCE.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader)
        lines, last = [], reader.line_num
        for _ in reader:
            lines.append(last + 1)
            last = reader.line_num
    return lines


# --- the real file


@dataclass(frozen=True)
class SourceLoaded:
    """The real file's load, and its ledger entry right after it (later
    tests load the same object again: one more staged -> staged move)."""

    run: Run
    load: dict
    transitions: list


@pytest.fixture(scope="module")
def source_loaded(schemas, source_object, db) -> SourceLoaded:
    run = run_load(source_object)
    load_id = load_id_of(source_object)
    return SourceLoaded(run, db.load(load_id), db.transitions(load_id))


def test_the_real_file_is_staged_in_the_raw_layer(source_loaded, db, source_object):
    run = source_loaded.run
    assert run.returncode == 0, run.stderr
    assert "row by row" not in run.stderr  # the fast path vouched for the real file
    _, rows = source_rows()
    count, (sales, profit) = len(rows), file_sums(rows)
    load_id = load_id_of(source_object)

    assert run.json == {
        "load_ids": [load_id],
        "objects": [result_object(source_object, "staged", count)],
        "source_rows": count,
        "loaded_rows": count,
        "rejected_rows": 0,
        "sales_sum": shown(sales),
        "profit_sum": shown(profit),
        "errors": [],
    }
    raw = db.one(f"select count(*), sum(sales), sum(profit) from {db.raw} where _load_id = %s", (load_id,))
    assert raw == (count, sales, profit)


def test_the_ledger_records_the_load_as_staged(source_loaded, source_object):
    _, rows = source_rows()
    sales, profit = file_sums(rows)
    load = source_loaded.load

    assert {k: load[k] for k in ("bucket", "key", "etag")} == source_object
    assert (load["state"], load["source_rows"], load["raw_rows"], load["rejected_rows"]) == (
        "staged", len(rows), len(rows), 0,
    )  # fmt: skip
    assert (load["sales_sum"], load["profit_sum"], load["reason"]) == (sales, profit, None)
    assert source_loaded.transitions == [RECEIVED, STAGED]


def expected_value(kind, value: str):
    """A source value as the raw layer must hold it."""
    if isinstance(kind, Text):
        return value or None  # empty fields load as NULL
    if isinstance(kind, Integer):
        return int(value)
    if isinstance(kind, Number):
        return Decimal(value)
    assert isinstance(kind, Date)
    return parse_date(value)


def test_values_arrive_exactly_as_in_the_file(source_loaded, db, source_object):
    """Every value of every row: text as written (replacement characters
    included, postal codes as text), exact decimals, dates, line numbers."""
    _, rows = source_rows()
    loaded = db.all(
        f"select {DATA_COLUMNS}, _source_line from {db.raw} where _load_id = %s order by _source_line",
        (load_id_of(source_object),),
    )
    expected = [
        (*(expected_value(c.kind, v) for c, v in zip(SOURCE_COLUMNS, row, strict=True)), line)
        for row, line in zip(rows, source_lines(), strict=True)
    ]
    assert loaded == expected

    # The values the tests are about, named: nothing above may normalise them.
    names_with_fffd = [row[PRODUCT_NAME] for row in rows if "\ufffd" in row[PRODUCT_NAME]]
    if SOURCE == SHARED_SOURCE:  # the real data set carries them; the public copy does not
        assert len(names_with_fffd) > 10
    assert [v[PRODUCT_NAME] for v in loaded if "\ufffd" in v[PRODUCT_NAME]] == names_with_fffd
    four_digit_zips = [row[POSTAL_CODE] for row in rows if len(row[POSTAL_CODE]) == 4]
    assert four_digit_zips  # the source lost their leading zero; the raw layer keeps the source value
    assert [v[POSTAL_CODE] for v in loaded if len(v[POSTAL_CODE]) == 4] == four_digit_zips


def test_every_raw_row_carries_its_load_id_and_line_and_no_default_is_left(source_loaded, db, source_object):
    """PostgreSQL gets the load id as a column default for the COPY only."""
    count = source_row_count()
    lines = source_lines()

    assert db.one(f"select count(*) from {db.raw} where _load_id is null or _source_line is null") == (0,)
    assert db.one(f"select count(*) from {db.raw} where _load_id !~ '^load-[0-9a-f]{{20}}$'") == (0,)
    assert db.one(
        f"select count(*), count(distinct _source_line), min(_source_line), max(_source_line) from {db.raw}"
        " where _load_id = %s",
        (load_id_of(source_object),),
    ) == (count, count, lines[0], lines[-1])
    defaults = db.one(
        "select count(*) from information_schema.columns"
        " where table_schema = %s and table_name = 'order_lines' and column_default is not null",
        (db.raw_schema,),
    )
    assert defaults == (0,)


def _other_date_format(value: str) -> str:
    day = parse_date(value)
    return day.isoformat() if "/" in value else f"{day.month}/{day.day}/{day.year}"


def test_windows_1252_crlf_and_the_other_date_format_load_identically(source_loaded, db, source_object, s3):
    # U+FFFD has no Windows-1252 byte: the variant carries an en dash (0x96) there.
    header, rows = source_rows()
    sales, profit = file_sums(rows)
    for row in rows:
        row[2], row[3] = map(_other_date_format, row[2:4])
        row[:] = [field.replace("\ufffd", "\u2013") for field in row]
    variant = put_object(s3, "cp1252-crlf.csv", to_csv(header, rows, line_terminator="\r\n").encode("cp1252"))

    run = run_load(source_object, variant)  # the real file is staged already: in raw once

    assert run.returncode == 0, run.stderr
    assert [o["status"] for o in run.json["objects"]] == ["staged", "staged"]
    assert (run.json["sales_sum"], run.json["profit_sum"]) == (shown(2 * sales), shown(2 * profit))
    original = ", ".join(
        f"replace({c}, chr(65533), chr(8211))" if c in TEXT_COLUMNS else c for c in DATA_COLUMNS.split(", ")
    )
    columns = f"{DATA_COLUMNS}, _source_line"
    differences = db.one(
        f"select count(*) from ((select {original}, _source_line from {db.raw} where _load_id = %s"
        f" except select {columns} from {db.raw} where _load_id = %s)"
        f" union all (select {columns} from {db.raw} where _load_id = %s"
        f" except select {original}, _source_line from {db.raw} where _load_id = %s)) d",
        (load_id_of(source_object), load_id_of(variant), load_id_of(variant), load_id_of(source_object)),
    )[0]
    assert differences == 0
    assert (db.raw_rows(load_id_of(variant)), db.raw_rows(load_id_of(source_object))) == (len(rows), len(rows))


# --- bad objects


def _bad_date():
    header, rows = small_file()
    rows[15][2] = "13/45/2016"  # line 17
    rows[20][3] = "2016-02-30"
    rows[30][2] = ""
    return to_csv(header, rows).encode(), (17, "Order Date", "unparseable date '13/45/2016'", 3)


def _bad_number():
    header, rows = small_file()
    rows[3][17] = "12,5"  # line 5
    return to_csv(header, rows).encode(), (5, "Sales", "not a number", 1)


def _missing_column():
    header, rows = small_file()
    drop = header.index("Postal Code")
    return to_csv(header[:drop] + header[drop + 1 :], [r[:drop] + r[drop + 1 :] for r in rows]).encode(), (
        1, "Postal Code", "missing column", 1,
    )  # fmt: skip


def _empty_file():
    return b"", (1, "", "empty file: no header row", 0)


def _undecodable_bytes():
    # 0x81 is neither UTF-8 (a lone continuation byte) nor Windows-1252 (unassigned).
    header, rows = small_file()
    rows[7][16] = "Eldon BYTE Base"  # line 9
    body = to_csv(header, rows).encode().replace(b"BYTE", b"\x81")
    # A file with UTF-8 text elsewhere is UTF-8: its bad byte is not read as Windows-1252.
    utf_8 = any(not field.isascii() for row in rows for field in row)
    return body, (9, "Product Name", f"undecodable bytes 81 (not UTF-8{'' if utf_8 else ' or Windows-1252'})", 1)


def _nul_character():
    # Passes the column-wise checks; PostgreSQL refuses it, then every row is checked.
    header, rows = small_file()
    rows[5][6] = "Claire\x00Gute"
    return to_csv(header, rows).encode(), (7, "Customer Name", "contains a NUL character", 1)


@pytest.mark.parametrize(
    "make_file",
    [_bad_date, _bad_number, _missing_column, _empty_file, _undecodable_bytes, _nul_character],
    ids=["bad-date", "bad-number", "missing-column", "empty-file", "undecodable-bytes", "nul-character"],
)
def test_a_bad_object_is_rejected_with_one_line_naming_file_line_and_column(schemas, db, s3, make_file):
    body, (line, column, reason, rejected_rows) = make_file()
    obj = put_object(s3, "bad.csv", body)
    before = db.snapshot()

    run = run_load(obj)

    assert (run.returncode, run.json) == (1, None)
    assert len(run.error_lines) == 1, run.stderr
    error = ERROR.match(run.error_lines[0])
    assert error and run.error_lines[0].startswith("error: "), run.error_lines[0]
    assert (error["bucket"], error["key"], int(error["line"]), error["column"] or "") == (
        BUCKET,
        obj["key"],
        line,
        column,
    )
    assert error["reason"].startswith(reason)
    assert int(error["rows"] or 0) == rejected_rows
    assert error["rejects"] == f"{BUCKET}/rejected/{obj['key']}.rejected.csv"
    assert db.snapshot() == before, "a rejected load must leave the raw layer as it was"

    rejects_file = s3.get_object(Bucket=BUCKET, Key=f"rejected/{obj['key']}.rejected.csv")["Body"].read().decode()
    rejects = list(csv.reader(io.StringIO(rejects_file)))
    assert rejects[0][:3] == ["line", "column", "reason"]
    assert rejects[1][:2] == [str(line), column] and rejects[1][2].startswith(reason)
    assert len({r[0] for r in rejects[1:]}) == max(rejected_rows, 1)  # a whole file: its one reason

    load = db.load(load_id_of(obj))
    assert (load["state"], load["raw_rows"], load["rejected_rows"]) == ("rejected", None, rejected_rows)
    assert load["reason"] == run.error_lines[0].removeprefix("error: ")
    assert db.transitions(load_id_of(obj)) == [RECEIVED, ("received", "rejected", LOADER_ACTOR, load["reason"])]


def test_a_rejected_load_is_refused_next_time(schemas, db, s3):
    obj = put_object(s3, "bad-again.csv", _bad_number()[0])
    assert run_load(obj).returncode == 1
    reason = db.load(load_id_of(obj))["reason"]

    run = run_load(obj)

    assert (run.returncode, run.json) == (1, None)
    assert run.error_lines == [
        f"error: s3://{BUCKET}/{obj['key']} was rejected before, not loading it again"
        f" (admit it again with --readmit={load_id_of(obj)}): {reason}"
    ]
    assert len(db.transitions(load_id_of(obj))) == 2  # received, rejected: nothing since
    assert db.raw_rows(load_id_of(obj)) == 0


def test_a_bad_object_is_rejected_alone_and_the_good_one_is_staged(schemas, db, s3):
    bad = put_object(s3, "bad.csv", _bad_number()[0])
    good, rows = good_object(s3)
    sales, profit = file_sums(rows)
    before = db.snapshot()

    run = run_load(bad, good)  # the bad one first: the run goes on after it

    assert run.returncode == 0, run.stderr
    (error,) = run.json["errors"]
    assert ERROR.match(error) and f"s3://{BUCKET}/{bad['key']} line 5" in error
    assert run.json == {
        "load_ids": [load_id_of(good)],
        "objects": [result_object(bad, "rejected", 0, 1, error=error), result_object(good, "staged", len(rows))],
        "source_rows": len(rows),
        "loaded_rows": len(rows),
        "rejected_rows": 1,
        "sales_sum": shown(sales),
        "profit_sum": shown(profit),
        "errors": [error],
    }
    assert (db.raw_rows(load_id_of(good)), db.raw_rows(load_id_of(bad))) == (len(rows), 0)
    assert db.snapshot()[0] == before[0] + len(rows)
    assert (db.load(load_id_of(good))["state"], db.load(load_id_of(bad))["state"]) == ("staged", "rejected")
    assert db.load(load_id_of(bad))["reason"] == error


def test_only_bad_objects_fail_the_step_with_one_line(schemas, db, s3):
    first = put_object(s3, "bad-1.csv", _bad_number()[0])
    second = put_object(s3, "bad-2.csv", _bad_date()[0])
    before = db.snapshot()

    run = run_load(first, second)

    assert (run.returncode, run.json) == (1, None)
    assert len(run.error_lines) == 1, run.stderr
    errors = run.error_lines[0].removeprefix("error: ").split("; ")
    assert [ERROR.match(e)["key"] for e in errors] == [first["key"], second["key"]]
    assert db.snapshot() == before


# --- loaded again, published, failed


def test_loading_again_copies_nothing_and_a_published_load_is_skipped(schemas, db, s3):
    obj, rows = good_object(s3, 25, "batch.csv")
    load_id = load_id_of(obj)

    first = run_load(obj)
    again = run_load(obj)  # a redelivered event, a retry: staged again, its rows in raw once

    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert "not copying them again" in again.stderr
    assert again.json["objects"] == [result_object(obj, "staged", 25)]
    assert (again.json["load_ids"], again.json["loaded_rows"]) == ([load_id], 25)
    assert again.json["sales_sum"] == shown(file_sums(rows)[0])
    assert db.raw_rows(load_id) == 25
    assert db.transitions(load_id) == [RECEIVED, STAGED, ("staged", "staged", LOADER_ACTOR, None)]

    move(load_id, LoadState.AUDITED, LoadState.PUBLISHED)  # as dbt does
    before = db.snapshot()
    skipped = run_load(obj)

    assert skipped.returncode == 0, skipped.stderr
    assert "already published, skipping" in skipped.stderr
    assert skipped.json == {
        "load_ids": [],
        "objects": [result_object(obj, "published", 25)],
        "source_rows": 0,
        "loaded_rows": 0,
        "rejected_rows": 0,
        "sales_sum": "0.0000",
        "profit_sum": "0.0000",
        "errors": [],
    }
    assert db.snapshot() == before
    assert db.load(load_id)["state"] == "published"
    assert db.transitions(load_id)[-1] == ("audited", "published", "superstore-dbt", None)


def test_a_failed_load_is_taken_over_without_copying_its_rows_again(schemas, db, s3):
    obj, rows = good_object(s3, 12, "failed-build.csv")
    load_id = load_id_of(obj)
    assert run_load(obj).returncode == 0
    move(
        load_id, LoadState.FAILED, reason="OperationalError: server closed the connection"
    )  # the build lost the warehouse

    run = run_load(obj)

    assert run.returncode == 0, run.stderr
    assert run.json["objects"] == [result_object(obj, "staged", len(rows))]
    assert db.raw_rows(load_id) == len(rows)
    assert db.transitions(load_id)[-1] == ("failed", "staged", LOADER_ACTOR, None)


# --- the object changed since its event


def test_an_object_overwritten_after_its_event_is_not_loaded(schemas, db, s3):
    header, rows = small_file(10)
    key = put(s3, unique_key("overwritten.csv"), to_csv(header, rows).encode())
    announced = announce(s3, key)
    put(s3, key, to_csv(header, rows[:5]).encode())  # a new version under the same key
    now = announce(s3, key)["etag"]
    assert now != announced["etag"]
    before = db.snapshot()

    run = run_load(announced)

    assert (run.returncode, run.json) == (1, None)
    assert run.error_lines == [
        f"error: s3://{BUCKET}/{key} changed since its event (ETag {announced['etag']} announced, {now} now):"
        " not loading it; the newer version's own event brings it"
    ]
    assert db.snapshot() == before
    assert db.load(load_id_of(announced)) is None
    assert db.load(load_id_of({**announced, "etag": now})) is None


def test_a_changed_object_does_not_hold_back_the_others(schemas, db, s3):
    header, rows = small_file(10)
    key = put(s3, unique_key("overwritten.csv"), to_csv(header, rows).encode())
    announced = announce(s3, key)
    put(s3, key, to_csv(header, rows[:5]).encode())
    good, good_rows = good_object(s3, 7)

    run = run_load(announced, good)

    assert run.returncode == 0, run.stderr
    changed, staged = run.json["objects"]
    assert (changed["status"], changed["load_id"], changed["rows"]) == ("changed", load_id_of(announced), 0)
    assert changed["error"].startswith(f"s3://{BUCKET}/{key} changed since its event (ETag {announced['etag']} ")
    assert run.json["errors"] == [changed["error"]]
    assert staged == result_object(good, "staged", len(good_rows))
    assert run.json["load_ids"] == [load_id_of(good)]
    assert db.raw_rows(load_id_of(announced)) == 0


def test_an_object_deleted_after_its_event_does_not_hold_back_the_others(schemas, db, s3):
    gone, _ = good_object(s3, 5, "deleted.csv")
    s3.delete_object(Bucket=BUCKET, Key=gone["key"])
    good, good_rows = good_object(s3, 6)

    alone = run_load(gone)
    run = run_load(gone, good)

    message = f"s3://{BUCKET}/{gone['key']}: no such object (ETag {gone['etag']} announced, deleted since its event?)"
    assert alone.returncode == 1 and len(alone.error_lines) == 1
    assert alone.error_lines[0].startswith(f"error: {message}")
    assert run.returncode == 0, run.stderr
    assert [o["status"] for o in run.json["objects"]] == ["changed", "staged"]
    assert run.json["errors"][0].startswith(message)
    assert db.raw_rows(load_id_of(good)) == len(good_rows)
    assert db.load(load_id_of(gone)) is None


# --- re-admitting a rejected load


def _windows_1252_file() -> tuple[bytes, list[list[str]]]:
    header, rows = small_file(10)
    rows[4][CUSTOMER_NAME] = "Zoë Ångström"
    return to_csv(header, rows).encode("cp1252"), rows


def test_forced_utf_8_rejects_a_windows_1252_file(schemas, s3):
    obj = put_object(s3, "latin.csv", _windows_1252_file()[0])

    run = run_load(obj, args=("--encoding", "utf-8"))

    assert run.returncode == 1
    assert len(run.error_lines) == 1
    assert '.csv line 6, column "Customer Name": undecodable bytes eb (not UTF-8)' in run.error_lines[0]


def test_a_rejected_load_is_loaded_again_only_when_re_admitted_on_purpose(schemas, db, s3):
    body, rows = _windows_1252_file()
    obj = put_object(s3, "latin.csv", body)
    load_id = load_id_of(obj)
    assert run_load(obj, args=("--encoding", "utf-8")).returncode == 1  # told the wrong encoding
    rejection = db.load(load_id)["reason"]

    refused = run_load(obj)  # the right encoding is not enough: the load is rejected
    why = "loaded as UTF-8 by mistake, it is Windows-1252"
    readmitted = run_load(obj, args=("--readmit", load_id, "--why", why, "--by", "alice"))

    assert refused.returncode == 1 and "was rejected before" in refused.error_lines[0]
    assert readmitted.returncode == 0, readmitted.stderr
    assert readmitted.json["objects"] == [result_object(obj, "staged", len(rows))]
    assert readmitted.json["load_ids"] == [load_id]
    assert db.raw_rows(load_id) == len(rows)
    assert db.one(f"select customer_name from {db.raw} where _load_id = %s and _source_line = 6", (load_id,)) == (
        "Zoë Ångström",
    )
    assert db.transitions(load_id) == [
        RECEIVED,
        ("received", "rejected", LOADER_ACTOR, rejection),
        ("rejected", "received", "alice", f"re-admitted: {why}"),
        STAGED,
    ]

    again = run_load(obj, args=("--readmit", load_id, "--why", why, "--by", "alice"))  # a retry of the same command

    assert again.returncode == 0, again.stderr
    assert again.json["objects"] == [result_object(obj, "staged", len(rows))]
    assert db.raw_rows(load_id) == len(rows)
    assert [t[1] for t in db.transitions(load_id)].count("received") == 2  # re-admitted once


def test_a_load_rejected_by_the_build_is_re_admitted_without_copying_its_rows_again(schemas, db, s3):
    obj, rows = good_object(s3, 9, "rejected-by-dbt.csv")
    load_id = load_id_of(obj)
    assert run_load(obj).returncode == 0
    move(load_id, LoadState.REJECTED, reason="stg_orders_order_ids_not_yet_published failed")
    other, other_rows = good_object(s3, 3, "other.csv")

    # The re-admitted object need not be among --objects: the ledger knows it.
    run = run_load(other, args=("--readmit", load_id, "--why", "the order ids were a false alarm", "--by", "bob"))

    assert run.returncode == 0, run.stderr
    assert run.json["objects"] == [
        result_object(other, "staged", len(other_rows)), result_object(obj, "staged", len(rows)),
    ]  # fmt: skip
    assert run.json["load_ids"] == [load_id_of(other), load_id]
    assert db.raw_rows(load_id) == len(rows)
    assert db.transitions(load_id)[-2:] == [
        ("rejected", "received", "bob", "re-admitted: the order ids were a false alarm"),
        STAGED,
    ]


def test_a_re_admission_alone_needs_no_objects(schemas, db, s3):
    """The incremental DAG re-admits with no event waited for: `--objects '[]'`."""
    obj, rows = good_object(s3, 4, "readmit-alone.csv")
    load_id = load_id_of(obj)
    assert run_load(obj).returncode == 0
    move(load_id, LoadState.REJECTED, reason="a check failed")

    run = run_load(args=("--readmit", load_id, "--why", "the check was wrong", "--by", "carol"))

    assert run.returncode == 0, run.stderr
    assert (run.json["load_ids"], run.json["objects"]) == ([load_id], [result_object(obj, "staged", len(rows))])
    assert db.raw_rows(load_id) == len(rows)
    assert db.transitions(load_id)[-2][:3] == ("rejected", "received", "carol")


def test_an_empty_readmit_is_no_re_admission(schemas, db, s3):
    """The DAG always passes the re-admission options, empty when its param is not set."""
    obj, rows = good_object(s3, 3, "no-readmit.csv")

    run = run_load(obj, args=("--readmit=", "--why=", "--by=airflow"))

    assert run.returncode == 0, run.stderr
    assert run.json["objects"] == [result_object(obj, "staged", len(rows))]
    assert run_loader("load", "--objects", "[]", "--readmit=", "--why=", "--by=airflow").returncode == 1


@pytest.mark.parametrize(
    "extra",
    [(), ("--why", "because"), ("--by", "alice"), ("--why", "  ", "--by", "alice"), ("--why", "because", "--by", "")],
    ids=["neither", "no-by", "no-why", "blank-why", "blank-by"],
)
def test_readmit_without_why_and_by_is_a_one_line_usage_error(schemas, db, s3, extra):
    obj = put_object(s3, "bad.csv", _bad_number()[0])
    load_id = load_id_of(obj)
    assert run_load(obj).returncode == 1

    run = run_load(obj, args=("--readmit", load_id, *extra))

    assert (run.returncode, run.json) == (1, None)
    assert run.error_lines == ["error: --readmit needs --why and --by: who admits the load again, and why"]
    assert db.load(load_id)["state"] == "rejected" and len(db.transitions(load_id)) == 2


def test_readmit_of_an_unknown_load_is_a_one_line_error(schemas, s3):
    obj, _ = good_object(s3, 3)
    unknown = "load-" + "0" * 20

    run = run_load(obj, args=("--readmit", unknown, "--why", "w", "--by", "b"))

    assert (run.returncode, run.error_lines) == (1, [f"error: --readmit {unknown}: no such load"])


# --- arguments


@pytest.mark.parametrize(
    "objects",
    [
        "incoming/x.csv",
        "[]",
        '["incoming/x.csv"]',  # the old --keys form
        '[{"bucket": "b", "key": "incoming/x.csv"}]',
        '[{"bucket": "b", "key": "incoming/x.csv", "etag": 5}]',
        '[{"bucket": "", "key": "incoming/x.csv", "etag": "e"}]',
        '{"bucket": "b", "key": "incoming/x.csv", "etag": "e"}',
        '[{"bucket": "b", "key": "incoming/x.csv", "etag": "e"}',
    ],
    ids=["not-json", "empty", "keys", "no-etag", "etag-not-text", "empty-bucket", "not-a-list", "truncated"],
)
def test_malformed_objects_are_a_one_line_error(schemas, objects):
    run = run_loader("load", "--objects", objects)

    assert (run.returncode, run.json) == (1, None)
    assert len(run.error_lines) == 1, run.stderr
    assert run.error_lines[0].startswith(
        "error: --objects must be a non-empty JSON list of {bucket, key, etag}, got "
    ), run.error_lines[0]


def test_missing_objects_are_a_one_line_usage_error(schemas):
    run = run_loader("load")

    assert run.returncode != 0 and run.json is None
    assert len(run.error_lines) == 1 and "--objects" in run.error_lines[0], run.stderr


# --- values that are hard to carry


@pytest.mark.parametrize("line_terminator", ["\n", "\r\n"])
def test_values_with_copy_escapes_and_line_breaks_arrive_exactly(schemas, db, s3, line_terminator):
    header, rows = small_file(8)
    names = {
        2: "back\\slash \\N, tab\there",
        3: "Eldon \ufffd Base \ufffd",
        4: 'Chair, "deluxe"\r\nsecond line',
        5: "a\nb\rc",
    }
    for index, name in names.items():
        rows[index][PRODUCT_NAME] = name
    body = to_csv(header, rows, line_terminator=line_terminator).encode()
    obj = announce(s3, put(s3, unique_key("o'brien \\ März #1.csv"), body))

    run = run_load(obj)

    assert run.returncode == 0, run.stderr
    loaded = db.all(
        f"select product_name, _source_line, _load_id from {db.raw} where _load_id = %s order by _source_line",
        (load_id_of(obj),),
    )
    assert [name for name, _, _ in loaded] == [row[PRODUCT_NAME] for row in rows]
    assert [line for _, line, _ in loaded] == [2, 3, 4, 5, 6, 8, 11, 12]  # 1 and 2 line breaks inside values


def test_utf_8_with_a_byte_order_mark_and_crlf(schemas, db, s3):
    header, rows = small_file(10)
    body = "\ufeff" + to_csv(header, rows, line_terminator="\r\n")
    obj = put_object(s3, "bom.csv", body.encode())

    run = run_load(obj)

    assert run.returncode == 0, run.stderr
    assert db.one(f"select count(*), min(row_id) from {db.raw} where _load_id = %s", (load_id_of(obj),)) == (
        10, int(rows[0][0]),
    )  # fmt: skip


def test_a_large_file_streams_in_bounded_memory(schemas, db, s3):
    """30 copies of the data set (~70 MB) take little more memory than 40
    rows: held in memory, the file alone would add 70 MB, its rows several
    times that."""
    header, rows = source_rows()
    sales, _ = file_sums(rows)
    body = to_csv(header, rows).encode()
    data = body[body.index(b"\n") + 1 :]
    copies = 30
    large = put_object(s3, "large.csv", body + data * (copies - 1))
    small = run_load(good_object(s3)[0])

    run = run_load(large)

    assert run.returncode == 0, run.stderr
    assert run.json["loaded_rows"] == len(rows) * copies
    assert run.json["sales_sum"] == shown(sales * copies)
    assert db.raw_rows(load_id_of(large)) == len(rows) * copies
    growth_kb = run.peak_rss_kb - small.peak_rss_kb
    assert growth_kb < 45_000 and run.peak_rss_kb < 200_000, f"peak RSS {run.peak_rss_kb} kB, {growth_kb} kB more"


def test_the_result_is_json_with_no_data(source_loaded):
    """Keys, counts, ids: nothing from the rows themselves."""
    text = json.dumps(source_loaded.run.json)
    _, rows = source_rows()
    assert rows[0][1] not in text and rows[0][PRODUCT_NAME] not in text
