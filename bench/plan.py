"""What the benchmark runs: its databases, sizes and inputs. Sized so that a
run takes a few minutes on 2 cores."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENVS = REPO_ROOT / ".venv"
REPORT = REPO_ROOT / "reports" / "bench.json"
LOG = REPO_ROOT / "reports" / "bench.log"
# The real data set (US dates): what the generator learns from.
REFERENCE_CSV = Path(os.environ.get("BENCH_REFERENCE", REPO_ROOT.parent / "shared" / "data" / "superstore-kaggle.csv"))

# Dedicated databases, dropped and recreated by every run.
GENERATOR_DB = "bench_gen"  # stays empty: the generator learns from the reference CSV
BIG_DB = "bench_1m"
SMALL_DB = "bench_10k"
# Everything the bench puts in the raw bucket. Not under the incoming prefix:
# these objects must not send events to the queue the DAGs listen on.
PREFIX = "bench/"

BIG_ROWS = 1_000_000
MEMORY_ROWS = 100_000  # the smaller run of the generator and the loader: is memory flat?
SMALL_FACT_ROWS = 10_000
BATCH_ROWS = 10_000
# Baselines, a few seconds each.
NAIVE_GENERATOR_ROWS = 20_000
EXECUTEMANY_ROWS = 50_000
EXECUTE_LOOP_ROWS = 10_000
# Noise only ever adds time: each comparison takes the best of this many
# runs, the two sides interleaved so a busy moment hits both.
REPEATS = 3
# Order ids carry the year: facts are dated 2024 and each incremental batch
# in a later year of its own, so no batch can reuse an order id (checked too).
FACT_AS_OF = "2024-06-01"
BATCH_AS_OF = tuple(f"{year}-06-01" for year in range(2025, 2025 + REPEATS))
E2E_CONF = {"rows": 1000, "seed": 4242, "as_of": "2024-07-01"}
MEMORY_LIMIT_MB = 200
