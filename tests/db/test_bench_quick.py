"""`make bench` keeps working: the harness runs end to end at 1/100 of the data, one round (`--quick`), in fresh
processes as the real benchmark does — data generated, every page and both pandas baselines measured, the hot
queries' plans read, the table printed and the results file written with every budget. Times are not asserted
here: the budgets are `make bench`'s to check, on the full data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench.baselines import MODES
from bench.pages import CASES
from bench.plans import HOT_QUERIES
from tests.conftest import PG_ADMIN_DSN, create_pg_database, drop_pg_database

ROOT = Path(__file__).resolve().parent.parent.parent
TIMEOUT = 600  # a hung page must not hang the suite; the run takes well under a minute


def _bench(tmp_path: Path, *args: str, database_url: str | None = None) -> tuple[dict, str]:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["BENCH_DATA"] = str(tmp_path / "data")
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text()), done.stdout


def test_the_quick_benchmark_measures_every_page_and_both_baselines(tmp_path):
    report, printed = _bench(tmp_path)
    assert report["database"] == "sqlite" and report["rounds"] == {"s0_01": 1}
    assert report["data"]["s0_01"]["generated"] and report["data"]["s0_01"]["counts"]["signups"] == 10_000
    results = report["results"]["s0_01"]
    assert set(results) == {*CASES, *MODES}
    for case in CASES:
        entry = results[case]
        assert entry["rounds"] == 1 and not entry["errors"], entry
        for metric in ("cold", "warm", "render_uncached", "after_write", "sql", "peak_mb"):
            assert entry[metric]["median"] > 0, (case, metric)
        assert entry["statements_cold"] > 0 and entry["statements_sql"] > 0, case
    for mode in MODES:
        assert results[mode]["rounds"] == 1 and results[mode]["warm"]["median"] > 0, mode
    assert set(report["plans"]["s0_01"]) == {q.name for q in HOT_QUERIES}
    named = {b["budget"] for b in report["budgets"]}
    assert {
        "warm rerun ≤ 150 ms",
        "overview after a write ≤ 600 ms",
        "cache miss ≤ 1.2× (its SQL + its uncached rendering)",
        'overview ≥ 5× faster than "pandas" warm',
        'overview ≥ 4× faster than "pandas cached" after a write',
        "peak memory ≤ 300 MB per process",
        "cold first run ≤ 3.5 s",
        "hot queries use their indexes",
    } <= named
    for budget in report["budgets"]:
        assert {"measured", "limit", "met"} <= set(budget), budget
        if budget["measured"] is not None:
            assert budget["met"] in (True, False), budget
    for case in CASES:
        assert f"\n{case} " in printed, f"{case} is missing from the printed table"
    # a second run keeps the generated data (same scale and seed) and works on a fresh copy of it
    again, _ = _bench(tmp_path, "--pages", "home", "--no-baselines")
    assert not again["data"]["s0_01"]["generated"]
    assert again["data"]["s0_01"]["counts"] == report["data"]["s0_01"]["counts"]


@pytest.mark.postgres
def test_the_quick_benchmark_runs_on_postgresql(tmp_path):
    base = create_pg_database()
    try:
        report, _ = _bench(tmp_path, "--pages", "overview", "calendar_month", "--no-baselines", database_url=base)
        assert report["database"] == "postgresql"
        results = report["results"]["s0_01"]
        assert set(results) == {"overview", "calendar_month"}
        assert all(entry["rounds"] == 1 and not entry["errors"] for entry in results.values()), results
        assert report["plans"]["s0_01"], "the hot queries' plans are read on PostgreSQL too"
    finally:
        name = base.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            for suffix in ("_bench_s0_01_run", "_bench_s0_01"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}{suffix}" WITH (FORCE)')
        drop_pg_database(base)
