"""A rebuild of every mart from a 1M-row raw history (the initial DAG's
build: audit of all of it, then one publish transaction) next to one plain
SQL script that builds the same tables from the same raw rows with no audit
and no publish: the limit of a transformation here."""

import os
from pathlib import Path

import stack
from incremental import publish_initial
from measure import BenchError, Measured, Steps, measure
from plan import BIG_DB, BIG_ROWS

from report import Figure, at_most, progress, seconds

SCRIPT = Path(__file__).with_name("initial_build.sql")
SQL_SCHEMA = "bench_sql"
MARTS = ("dim_customers", "dim_locations", "dim_orders", "dim_products", "dim_dates", "fct_sales")


def run_script(db: str, log) -> Measured:
    env = os.environ
    argv = [
        "psql", "-h", env["WAREHOUSE_HOST"], "-p", env["WAREHOUSE_PORT"], "-U", env["WAREHOUSE_USER"], "-d", db,
        "-q", "-v", f"schema={SQL_SCHEMA}", "-f", str(SCRIPT),
    ]  # fmt: skip
    return measure(argv, log, {**env, "PGPASSWORD": env["WAREHOUSE_PASSWORD"]})


def checksums(db: str, schema: str) -> dict[str, str]:
    """Each table's content, loaded_at aside (when, not what)."""
    digests = {}
    for table in MARTS:
        columns = [
            name
            for (name,) in stack.query_all(
                db,
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " and column_name <> 'loaded_at' order by column_name",
                schema,
                table,
            )
        ]
        row = f"({', '.join(columns)})"
        (digests[table],) = stack.query_one(
            db, f"select md5(string_agg(md5({row}::text), '' order by md5({row}::text))) from {schema}.{table}"
        )
    return digests


def bench_rebuild(steps: Steps) -> tuple[list[Figure], dict, dict[str, Measured]]:
    """Publishes BIG_DB's staged 1M rows first (the first rebuild), then rebuilds."""
    (staged,) = stack.query_one(BIG_DB, "select array_agg(load_id) from raw.loads where state = 'staged'")
    builds, scripts = [], []
    with progress(f"rebuild: dbt (audit + publish) and a plain SQL script on {BIG_ROWS:,} raw rows, twice each"):
        first = steps.run_all(BIG_DB, publish_initial("bench-1m", staged))
        builds.append(first["dbt build"])
        scripts.append(run_script(BIG_DB, steps.log))
        builds.append(steps.run_all(BIG_DB, publish_initial("bench-rebuild", []))["dbt build"])
        scripts.append(run_script(BIG_DB, steps.log))
    published, baseline = checksums(BIG_DB, "analytics"), checksums(BIG_DB, SQL_SCHEMA)
    if published != baseline:
        differ = [table for table in MARTS if published[table] != baseline[table]]
        raise BenchError(f"the SQL baseline built other tables than dbt: {', '.join(differ)}")
    with stack.connect(BIG_DB) as conn:
        conn.execute(f"drop schema {SQL_SCHEMA} cascade")
    build, script = min(run.seconds for run in builds), min(run.seconds for run in scripts)
    figures = [
        Figure("initial_build_vs_sql", build / script, "x",
               f"dbt rebuild (audit + publish of every mart) / one SQL script, same tables from {BIG_ROWS:,} raw rows"
               f" (best of {len(builds)} / {len(scripts)})", at_most(1.5)),
        Figure("initial_build_seconds_1m", build, "s", f"dbt: {seconds(builds)}; soda scan {first['soda scan'].seconds:.1f} s"),
        Figure("initial_sql_seconds_1m", script, "s", f"SQL script: {seconds(scripts)}"),
    ]  # fmt: skip
    return (
        figures,
        {"rebuild_seconds_1m": [b.seconds for b in builds], "sql_seconds_1m": [s.seconds for s in scripts]},
        first,
    )
