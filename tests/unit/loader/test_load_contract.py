"""`superstore-loader load` as a process: exit code, one-line errors, XCom
result, and what it leaves in PostgreSQL and S3."""

import csv
import io
import os
import re
from datetime import datetime
from decimal import Decimal

import pytest
from conftest import KAGGLE_ROWS, kaggle_rows, put, run_loader, to_csv, unique_key
from superstore_loader.columns import SOURCE_COLUMNS, Text

BUCKET = os.environ["RAW_BUCKET"]
TEXT_COLUMNS = {c.name for c in SOURCE_COLUMNS if isinstance(c.kind, Text)}
ERROR = re.compile(
    r'error: s3://(?P<bucket>[^/]+)/(?P<key>\S+) line (?P<line>\d+), column "(?P<column>[^"]*)": (?P<reason>.*) '
    r"\((?P<rows>\d+) rows? rejected, see s3://(?P<rejects>\S+)\)$"
)


def load(keys: list[str], mode: str = "incremental", *extra: str, batch_id: str = "test-batch"):
    keys_json = "[" + ", ".join(f'"{key}"' for key in keys) + "]"
    return run_loader("load", "--keys", keys_json, "--batch-id", batch_id, "--mode", mode, *extra)


def file_sums(rows: list[list[str]]) -> tuple[Decimal, Decimal]:
    return sum(Decimal(r[17]) for r in rows), sum(Decimal(r[20]) for r in rows)


def small_file(rows: int = 40) -> tuple[list[str], list[list[str]]]:
    header, all_rows = kaggle_rows()
    return header, [list(r) for r in all_rows[:rows]]


@pytest.fixture(scope="module")
def kaggle_loaded(schemas, kaggle_key):
    return load([kaggle_key], "initial", batch_id="kaggle")


def test_initial_load_of_the_real_file(kaggle_loaded, db, kaggle_key):
    run = kaggle_loaded
    assert run.returncode == 0, run.stderr
    assert "row by row" not in run.stderr  # the fast path vouched for it
    header, rows = kaggle_rows()
    sales, profit = file_sums(rows)
    etag = db.one(f"select distinct _source_etag from {db.staging}")[0]
    assert run.json == {
        "batch_id": "kaggle",
        "mode": "initial",
        "objects": [{"bucket": BUCKET, "key": kaggle_key, "etag": etag, "rows": KAGGLE_ROWS, "status": "staged"}],
        "source_rows": KAGGLE_ROWS,
        "loaded_rows": KAGGLE_ROWS,
        "rejected_rows": 0,
        "sales_sum": "2295509.5723",
        "profit_sum": "286013.8196",
    }
    assert db.one(f"select count(*), sum(sales), sum(profit) from {db.staging}") == (KAGGLE_ROWS, sales, profit)
    ledger = db.ledger_row(kaggle_key)
    assert (ledger["status"], ledger["loaded_rows"], ledger["sales_sum"]) == ("staged", KAGGLE_ROWS, sales)


def test_values_arrive_exactly_as_in_the_file(kaggle_loaded, db, kaggle_key):
    """Replacement characters, postal codes as text, exact decimals, dates, line numbers."""
    _, rows = kaggle_rows()
    loaded = db.connection.execute(
        f"select row_id, product_name, postal_code, profit, order_date, _source_line from {db.staging}"
        " where _source_key = %s order by _source_line",
        (kaggle_key,),
    ).fetchall()
    assert len(loaded) == len(rows)
    for index, ((row_id, name, postal_code, profit, order_date, line), row) in enumerate(
        zip(loaded, rows, strict=True)
    ):
        assert (str(row_id), name, postal_code, profit) == (row[0], row[16], row[11], Decimal(row[20]))
        assert order_date == datetime.strptime(row[2], "%m/%d/%Y").date()
        assert line == index + 2  # the header is line 1
    names_with_fffd = {row[16] for row in rows if "\ufffd" in row[16]}
    assert len(names_with_fffd) > 10
    assert {name for _, name, *_ in loaded if "\ufffd" in name} == names_with_fffd


def test_every_row_carries_its_lineage_and_the_tables_keep_no_defaults(kaggle_loaded, db, kaggle_key):
    """The lineage is stored once per object; PostgreSQL gets the object's id
    as a column default for the COPY only."""
    schema = os.environ["WAREHOUSE_STAGING_SCHEMA"]
    lineage = db.one(
        f"select count(*), count(distinct (_batch_id, _source_bucket, _source_key, _source_etag)),"
        f" min(_batch_id), min(_source_bucket), min(_source_key) from {db.staging}"
    )
    stored = db.one(f"select count(*), count(distinct _object_id) from {schema}.order_lines")
    defaults = db.one(
        "select count(*) from information_schema.columns"
        " where table_schema = %s and table_name in ('order_lines', 'source_objects') and column_default is not null",
        (schema,),
    )

    assert lineage == (KAGGLE_ROWS, 1, "kaggle", BUCKET, kaggle_key)
    assert stored == (KAGGLE_ROWS, 1)
    assert db.one(f"select count(*) from {schema}.source_objects") == (1,)
    assert defaults == (0,)


def test_windows_1252_crlf_iso_dates_load_identically(kaggle_loaded, db, kaggle_key, s3):
    # U+FFFD has no Windows-1252 byte: the variant carries an en dash (0x96) there.
    header, rows = kaggle_rows()
    for row in rows:
        row[2], row[3] = (datetime.strptime(d, "%m/%d/%Y").date().isoformat() for d in row[2:4])
        row[:] = [field.replace("\ufffd", "\u2013") for field in row]
    variant = put(s3, unique_key("cp1252-crlf-iso.csv"), to_csv(header, rows, line_terminator="\r\n").encode("cp1252"))

    run = load([kaggle_key, variant])  # one run: staging holds one run's batch

    assert run.returncode == 0, run.stderr
    assert (run.json["sales_sum"], run.json["profit_sum"]) == ("4591019.1446", "572027.6392")  # twice the file's
    data_columns = (
        "row_id, order_id, order_date, ship_date, ship_mode, customer_id, customer_name, segment, country,"
        " city, state, postal_code, region, product_id, category, sub_category, product_name, sales, quantity,"
        " discount, profit, _source_line"
    )
    original = ", ".join(
        f"replace({c}, chr(65533), chr(8211))" if c in TEXT_COLUMNS else c for c in data_columns.split(", ")
    )
    differences = db.one(
        f"select count(*) from ((select {original} from {db.staging} where _source_key = %s"
        f" except select {data_columns} from {db.staging} where _source_key = %s)"
        f" union all (select {data_columns} from {db.staging} where _source_key = %s"
        f" except select {original} from {db.staging} where _source_key = %s)) d",
        (kaggle_key, variant, variant, kaggle_key),
    )[0]
    assert differences == 0
    assert db.one(f"select count(*) from {db.staging} where _source_key = %s", (variant,))[0] == KAGGLE_ROWS


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
    return b"", (1, "Row ID", "empty file", 1)


def _undecodable_bytes():
    # 0x81 is neither UTF-8 (a lone continuation byte) nor Windows-1252 (unassigned).
    header, rows = small_file()
    rows[7][16] = "Eldon BYTE Base"  # line 9
    body = to_csv(header, rows).encode().replace(b"BYTE", b"\x81")
    return body, (9, "Product Name", "undecodable bytes 81 (not UTF-8 or Windows-1252)", 1)


def _nul_character():
    # Passes the column-wise checks; PostgreSQL refuses it, then every row is checked.
    header, rows = small_file()
    rows[5][6] = "Claire\x00Gute"
    return to_csv(header, rows).encode(), (7, "Customer Name", "contains a NUL character", 1)


@pytest.mark.parametrize(
    "make_file, mode",
    [(_bad_date, "initial"), (_bad_number, "incremental"), (_missing_column, "incremental"),
     (_empty_file, "incremental"), (_undecodable_bytes, "incremental"), (_nul_character, "incremental")],
    ids=["bad-date", "bad-number", "missing-column", "empty-file", "undecodable-bytes", "nul-character"],
)  # fmt: skip
def test_bad_input_loads_nothing(schemas, db, s3, make_file, mode):
    body, (line, column, reason, rejected_rows) = make_file()
    key = put(s3, unique_key("bad.csv"), body)
    before = db.snapshot()

    run = load([key], mode)

    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.stderr
    error = ERROR.match(run.error_lines[0])
    assert error, run.error_lines[0]
    assert (error["key"], int(error["line"]), error["column"]) == (key, line, column)
    assert error["reason"].startswith(reason)
    assert int(error["rows"]) == rejected_rows
    assert error["rejects"] == f"{BUCKET}/rejected/{key}.rejected.csv"
    assert db.snapshot() == before, "a rejected load must leave staging as it was (initial mode: no truncate)"

    rejects = list(
        csv.reader(
            io.StringIO(s3.get_object(Bucket=BUCKET, Key=f"rejected/{key}.rejected.csv")["Body"].read().decode())
        )
    )
    assert rejects[0][:3] == ["line", "column", "reason"]
    assert rejects[1][:2] == [str(line), column] and rejects[1][2].startswith(reason)
    assert len({r[0] for r in rejects[1:]}) == rejected_rows

    ledger = db.ledger_row(key)
    assert (ledger["status"], ledger["loaded_rows"], ledger["rejected_rows"]) == ("rejected", 0, rejected_rows)
    assert ledger["reason"] == run.error_lines[0].removeprefix("error: ")


def test_a_rejected_object_is_refused_again(schemas, db, s3):
    body, _ = _bad_number()
    key = put(s3, unique_key("bad-again.csv"), body)
    assert load([key]).returncode == 1

    run = load([key])

    assert run.returncode == 1
    assert len(run.error_lines) == 1
    assert re.match(rf"error: s3://{BUCKET}/{key} \(etag \w+\) was already rejected", run.error_lines[0])


def test_one_bad_object_loads_none_of_the_run(schemas, db, s3):
    header, rows = small_file()
    good = put(s3, unique_key("good.csv"), to_csv(header, rows).encode())
    bad = put(s3, unique_key("bad.csv"), _bad_number()[0])
    before = db.snapshot()

    run = load([good, bad])

    assert run.returncode == 1
    assert f"s3://{BUCKET}/{bad} line 5" in run.error_lines[0]
    assert db.snapshot() == before
    assert db.ledger_row(good) is None


def test_incremental_skips_published_objects_and_reloads_staged_ones(schemas, db, s3):
    header, rows = small_file(25)
    key = put(s3, unique_key("batch.csv"), to_csv(header, rows).encode())
    count = f"select count(*) from {db.staging} where _source_key = %s"

    first = load([key], batch_id="b1")
    again = load([key], batch_id="b2")  # still only staged: loaded again, not twice

    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert db.one(count, (key,))[0] == 25
    assert db.one(f"select distinct _batch_id from {db.staging} where _source_key = %s", (key,))[0] == "b2"

    db.connection.execute(f"update {db.ledger} set status = 'published' where key = %s", (key,))
    skipped = load([key], batch_id="b3")

    assert skipped.returncode == 0, skipped.stderr
    assert "already published, skipping" in skipped.stderr
    assert [(o["key"], o["status"], o["rows"]) for o in skipped.json["objects"]] == [(key, "skipped", 0)]
    assert (skipped.json["loaded_rows"], skipped.json["sales_sum"]) == (0, "0.0000")
    assert db.one(count, (key,))[0] == 0  # nothing staged: the merge has nothing to do
    assert db.ledger_row(key)["status"] == "published"


def test_initial_load_replaces_everything_in_staging(schemas, db, s3):
    header, rows = small_file(10)
    body = "\ufeff" + to_csv(header, rows, line_terminator="\r\n")  # UTF-8 with a byte order mark, CRLF
    key = put(s3, unique_key("initial.csv"), body.encode())

    run = load([key], "initial", batch_id="full-refresh")

    assert run.returncode == 0, run.stderr
    assert db.one(f"select count(*), string_agg(distinct _source_key, ',') from {db.staging}") == (10, key)
    assert db.one(f"select min(row_id) from {db.staging}") == (int(rows[0][0]),)


def test_initial_load_forgets_earlier_loads(schemas, db, s3):
    """A full refresh rebuilds the published tables from its file alone, so
    incremental objects published before may be loaded again."""
    header, rows = small_file(5)
    earlier = put(s3, unique_key("earlier.csv"), to_csv(header, rows).encode())
    assert load([earlier], batch_id="b1").returncode == 0
    db.connection.execute(f"update {db.ledger} set status = 'published' where key = %s", (earlier,))
    initial = put(s3, unique_key("initial.csv"), to_csv(header, rows).encode())

    assert load([initial], "initial", batch_id="full").returncode == 0

    assert db.ledger_row(earlier) is None and db.ledger_row(initial)["status"] == "staged"


@pytest.mark.parametrize("line_terminator", ["\n", "\r\n"])
def test_values_with_copy_escapes_and_line_breaks_arrive_exactly(schemas, db, s3, line_terminator):
    header, rows = small_file(8)
    names = {2: "back\\slash \\N, tab\there", 4: 'Chair, "deluxe"\r\nsecond line', 5: "a\nb\rc"}
    for index, name in names.items():
        rows[index][16] = name
    key = put(s3, unique_key("escapes.csv"), to_csv(header, rows, line_terminator=line_terminator).encode())

    run = load([key], batch_id="o'brien \\ 2")

    assert run.returncode == 0, run.stderr
    staged = db.connection.execute(
        f"select product_name, _source_line, _batch_id from {db.staging} where _source_key = %s order by _source_line",
        (key,),
    ).fetchall()
    assert [name for name, _, _ in staged] == [row[16] for row in rows]
    assert [line for _, line, _ in staged] == [2, 3, 4, 5, 6, 8, 11, 12]  # 1 and 2 line breaks inside values
    assert {batch for _, _, batch in staged} == {"o'brien \\ 2"}


def test_forced_utf_8_rejects_a_windows_1252_file(schemas, db, s3):
    header, rows = small_file(10)
    rows[4][6] = "Zoë Ångström"
    key = put(s3, unique_key("latin.csv"), to_csv(header, rows).encode("cp1252"))

    run = load([key], "incremental", "--encoding", "utf-8")

    assert run.returncode == 1
    assert '.csv line 6, column "Customer Name": undecodable bytes eb (not UTF-8)' in run.error_lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["load", "--keys", "incoming/x.csv", "--batch-id", "b", "--mode", "initial"],
            "--keys must be a non-empty JSON list",
        ),
        (
            ["load", "--keys", '["nope/missing.csv"]', "--batch-id", "b", "--mode", "initial"],
            "nope/missing.csv: no such object",
        ),
    ],
)
def test_argument_errors_are_one_line(schemas, args, message):
    run = run_loader(*args)

    assert run.returncode == 1
    assert len(run.error_lines) == 1 and message in run.error_lines[0], run.stderr


def test_a_large_file_streams_in_bounded_memory(schemas, db, s3):
    """300k rows (~70 MB) take little more memory than 40 rows: held in
    memory, the file alone would add 70 MB, its rows several times that."""
    header, rows = kaggle_rows()
    body = to_csv(header, rows).encode()
    data = body[body.index(b"\n") + 1 :]
    copies = 30
    key = put(s3, unique_key("large.csv"), body + data * (copies - 1))
    small = load([put(s3, unique_key("small.csv"), to_csv(*small_file()).encode())])

    run = load([key])

    assert run.returncode == 0, run.stderr
    assert run.json["loaded_rows"] == KAGGLE_ROWS * copies
    assert Decimal(run.json["sales_sum"]) == Decimal("2295509.5723") * copies
    growth_kb = run.peak_rss_kb - small.peak_rss_kb
    assert growth_kb < 45_000 and run.peak_rss_kb < 200_000, f"peak RSS {run.peak_rss_kb} kB, {growth_kb} kB more"
