"""`make bench` (issue #10): every page measured with AppTest in fresh processes, at the full scale (20,000 units,
200,000 activities, 1,000,000 sign-ups) and at 1/10 of it, against its own SQL and DESIGN.md's pandas baselines;
prints a table and writes bench/results.json with each budget's measured figure, its limit and whether it is met.

    python -m bench.run                 # full and 1/10 scale, 5 rounds each
    python -m bench.run --quick         # 1/100 scale, 1 round (a smoke test) into data/bench-quick.json

SQLite by default; DATABASE_URL naming a PostgreSQL database benchmarks PostgreSQL (databases beside it).
Each round of each page runs in its own process (bench/pages.py, bench/baselines.py); rounds go round-robin over
the pages so that a slow minute of the machine does not fall on one page alone."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.data import ROOT, BenchDatabase, data_dir, prepare, scale_tag
from bench.pages import CASES

BASELINES = ("pandas", "pandas_cached")
DEFAULT_OUT = ROOT / "bench" / "results.json"
PROCESS_TIMEOUT = 900
PAGE_METRICS = ("cold", "first_rerun", "warm", "render_uncached", "after_write", "sql", "sql_hot", "peak_mb")
BASELINE_METRICS = ("cold", "warm", "after_write", "peak_mb")
# DESIGN.md's budgets (issue #10, item 3)
WARM_MS = 150
FLAT_RATIO = 1.2
AFTER_WRITE_OVERVIEW_MS = 600
MISS_RATIO = 1.2
PANDAS_WARM_SPEEDUP = 5
PANDAS_CACHED_WRITE_SPEEDUP = 4
PEAK_MB = 300
COLD_S = 3.5


# --------------------------------------------------------------------------------------------- running


def _run_process(module: str, case: str, round_number: int, url: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", module, case, str(round_number)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "round": round_number, "error": f"timed out after {PROCESS_TIMEOUT} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-12:])
        return {"case": case, "round": round_number, "error": f"exit {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def _spread(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def measure_scale(db: BenchDatabase, rounds: int, cases: list[str], baselines: list[str]) -> dict[str, Any]:
    """Every page and baseline, `rounds` times each, round-robin; medians with min and max."""
    raw: dict[str, list[dict[str, Any]]] = {c: [] for c in (*cases, *baselines)}
    for round_number in range(rounds):
        for case in (*cases, *baselines):
            module = "bench.baselines" if case in BASELINES else "bench.pages"
            result = _run_process(module, case, round_number, db.url)
            raw[case].append(result)
            status = result.get("error") or (
                f"cold {result['cold']:.2f} s, warm {result['warm'] * 1000:.0f} ms, "
                f"after write {result['after_write'] * 1000:.0f} ms, {result['peak_mb']:.0f} MB"
            )
            print(f"  1/{1 / db.scale:g} round {round_number + 1}/{rounds} {case:<15} {status}", flush=True)
    summary: dict[str, Any] = {}
    for case, results in raw.items():
        good = [r for r in results if "error" not in r]
        entry: dict[str, Any] = {"rounds": len(good), "errors": [r["error"] for r in results if "error" in r]}
        metrics = BASELINE_METRICS if case in BASELINES else PAGE_METRICS
        for metric in metrics:
            if good:
                entry[metric] = _spread([float(r[metric]) for r in good])
        for key in ("statements_cold", "statements_after_write", "statements_sql", "write"):
            if good and key in good[0]:
                entry[key] = good[0][key] if key == "write" else max(int(r[key]) for r in good)
        summary[case] = entry
    return summary


def check_plans(db: BenchDatabase) -> dict[str, list[str]]:
    """The hot queries' plans on the benchmark's data, as each database plans them."""
    from sqlalchemy.orm import Session

    from bench.pages import BENCH_USER
    from bench.plans import HOT_QUERIES, problems
    from db.engine import make_engine
    from db.services import users
    from domain.clock import today

    engine = make_engine(db.url)
    try:
        with Session(engine) as session:
            user = users.get_active_user(session=session, username=BENCH_USER)
            assert user is not None
            return {q.name: problems(session, q, user.actor(), today()) for q in HOT_QUERIES}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------- budgets


def _median(results: dict[str, Any], case: str, metric: str) -> float | None:
    entry = results.get(case, {}).get(metric)
    return None if entry is None else float(entry["median"])


def _budget(
    name: str,
    page: str,
    scale: float,
    measured: float | None,
    limit: float,
    unit: str,
    *,
    at_least: bool = False,
    note: str = "",
) -> dict[str, Any]:
    met = None if measured is None else (measured >= limit if at_least else measured <= limit)
    return {
        "budget": name,
        "page": page,
        "scale": scale,
        "measured": None if measured is None else round(measured, 3),
        "limit": limit,
        "unit": unit,
        "met": met,
        "note": note,
    }


def budgets(by_scale: dict[float, dict[str, Any]], plans: dict[float, dict[str, list[str]]]) -> list[dict[str, Any]]:
    """DESIGN.md's budgets at the largest scale measured (flatness and statements: against the next one)."""
    scales = sorted(by_scale, reverse=True)
    top = scales[0]
    small = scales[1] if len(scales) > 1 else None
    results = by_scale[top]
    found: list[dict[str, Any]] = []
    pages = [c for c in results if c not in BASELINES]
    for page in pages:
        warm = _median(results, page, "warm")
        found.append(_budget("warm rerun ≤ 150 ms", page, top, None if warm is None else warm * 1000, WARM_MS, "ms"))
    for page in pages:
        warm, before = _median(results, page, "warm"), None
        if small is not None:
            before = _median(by_scale[small], page, "warm")
        ratio = None if warm is None or not before else warm / before
        found.append(
            _budget(
                "warm rerun flat: ≤ 1.2× its time at 1/10 of the data",
                page,
                top,
                ratio,
                FLAT_RATIO,
                "×",
                note="" if small else "one scale measured (--quick)",
            )
        )
    after = _median(results, "overview", "after_write")
    found.append(
        _budget(
            "overview after a write ≤ 600 ms",
            "overview",
            top,
            None if after is None else after * 1000,
            AFTER_WRITE_OVERVIEW_MS,
            "ms",
        )
    )
    for page in pages:
        miss, sql, render = (_median(results, page, m) for m in ("after_write", "sql", "render_uncached"))
        ratio = None if miss is None or sql is None or render is None else miss / (sql + render)
        found.append(_budget("cache miss ≤ 1.2× (its SQL + its uncached rendering)", page, top, ratio, MISS_RATIO, "×"))
    ours_warm, pandas_warm = _median(results, "overview", "warm"), _median(results, "pandas", "warm")
    found.append(
        _budget(
            'overview ≥ 5× faster than "pandas" warm',
            "overview",
            top,
            None if not ours_warm or pandas_warm is None else pandas_warm / ours_warm,
            PANDAS_WARM_SPEEDUP,
            "×",
            at_least=True,
        )
    )
    ours_after, cached_after = after, _median(results, "pandas_cached", "after_write")
    found.append(
        _budget(
            'overview ≥ 4× faster than "pandas cached" after a write',
            "overview",
            top,
            None if not ours_after or cached_after is None else cached_after / ours_after,
            PANDAS_CACHED_WRITE_SPEEDUP,
            "×",
            at_least=True,
        )
    )
    for scale in scales:
        for page in [c for c in by_scale[scale] if c not in BASELINES]:
            entry = by_scale[scale][page].get("peak_mb")
            found.append(
                _budget(
                    "peak memory ≤ 300 MB per process",
                    page,
                    scale,
                    None if entry is None else entry["max"],
                    PEAK_MB,
                    "MB",
                    note="largest of the rounds",
                )
            )
    for page in pages:
        cold = _median(results, page, "cold")
        found.append(_budget("cold first run ≤ 3.5 s", page, top, cold, COLD_S, "s"))
    for page in pages:
        many = results[page].get("statements_cold")
        fewer = by_scale[small][page].get("statements_cold") if small is not None else None
        found.append(
            _budget(
                "no query per row: statements of a cold run as many as at 1/10 of the data",
                page,
                top,
                None if many is None or fewer is None else many - fewer,
                0,
                "statements more",
                note=f"{many} at this scale, {fewer} at the smaller" if small else "one scale measured",
            )
        )
    from bench.plans import HOT_QUERIES

    known = {q.name: q.known_miss for q in HOT_QUERIES}
    for scale in scales:
        for query, wrong in plans.get(scale, {}).items():
            entry = _budget("hot queries use their indexes", query, scale, float(len(wrong)), 0, "plan problems")
            entry["note"] = "; ".join(wrong + ([f"known: {known[query]}"] if wrong and known.get(query) else []))
            found.append(entry)
    return found


# --------------------------------------------------------------------------------------------- the table


def _ms(entry: dict[str, Any] | None, *, seconds: bool = False) -> str:
    if not entry:
        return "—"
    if seconds:
        return f"{entry['median']:.2f} ({entry['min']:.2f}–{entry['max']:.2f})"
    return f"{entry['median'] * 1000:.0f} ({entry['min'] * 1000:.0f}–{entry['max'] * 1000:.0f})"


def table(by_scale: dict[float, dict[str, Any]], rounds: dict[float, int]) -> str:
    """Medians with min–max: times in ms (cold in s), memory in MB."""
    header = (
        "page",
        "cold s",
        "warm ms",
        "render ms",
        "after write ms",
        "SQL alone ms",
        "miss/(SQL+render)",
        "peak MB",
        "SQL stmts",
    )
    lines = []
    for scale in sorted(by_scale, reverse=True):
        lines.append(f"\nscale 1/{1 / scale:g} ({rounds[scale]} rounds; median (min–max))")
        rows = [header]
        for case, entry in by_scale[scale].items():
            if entry.get("errors") and not entry.get("rounds"):
                rows.append((case, "error: " + entry["errors"][0].splitlines()[-1][:80], "", "", "", "", "", "", ""))
                continue
            miss, sql, render = (entry.get(m, {}).get("median") for m in ("after_write", "sql", "render_uncached"))
            ratio = f"{miss / (sql + render):.2f}" if miss and sql is not None and render else "—"
            peak = entry.get("peak_mb")
            rows.append(
                (
                    case,
                    _ms(entry.get("cold"), seconds=True),
                    _ms(entry.get("warm")),
                    _ms(entry.get("render_uncached")),
                    _ms(entry.get("after_write")),
                    _ms(entry.get("sql")),
                    ratio,
                    f"{peak['median']:.0f} ({peak['min']:.0f}–{peak['max']:.0f})" if peak else "—",
                    str(entry.get("statements_cold", "—")),
                )
            )
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
        for row in rows:
            lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def budget_table(found: list[dict[str, Any]]) -> str:
    lines = ["", "budgets"]
    for b in found:
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[b["met"]]
        measured = "—" if b["measured"] is None else f"{b['measured']:g}"
        note = f"  [{b['note']}]" if b["note"] else ""
        lines.append(
            f"  {mark} {b['budget']} — {b['page']} @1/{1 / b['scale']:g}: {measured} {b['unit']} "
            f"(limit {b['limit']:g}){note}"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import sqlite3

    model = ""
    try:
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass
    memory = ""
    try:
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": model,
        "memory": memory,
        "sqlite": sqlite3.sqlite_version,
    }


METHOD = [
    "Each round of each page is a fresh process (python -m bench.pages / bench.baselines) running the page script "
    "alone with streamlit.testing.v1.AppTest as the generated 'bench_admin' (role admin), as the app's router "
    "would; the login gate of app.py is not part of the figures.",
    "cold: the first run in the process (the page's modules imported on first use, nothing cached). first_rerun: "
    "the next run, kept apart (one-off set-ups). warm: the median of 5 further reruns (cache hits).",
    "render: a rerun with the data reads still cached (ui.cache) but every other st.cache_data cache emptied (the "
    "overview's chart specs) — the page's uncached rendering.",
    "after_write: the rerun that follows a write through a real write service (named per page), which raises the "
    "data-version stamps the page reads (cache miss).",
    "sql: the page's read services called uncached in the same process with the page's own arguments, after a "
    "second write (the conditions of the miss); sql_hot: the same call again at once. The cache-miss budget "
    "compares after_write with sql + render.",
    "peak_mb: the process's peak resident memory, VmHWM of /proc/self/status (ru_maxrss survives exec, so a child "
    "reports at least its parent's peak); elsewhere ru_maxrss.",
    "pandas / pandas_cached: bench/pandas_overview.py draws the overview's tiles and charts with ui.charts from "
    "pandas.read_sql of the tables it needs (every rerun / under st.cache_data keyed by the overview's data-version "
    "stamp) and pandas aggregations; the write is activities.add_signup, as for the overview.",
    "Before every timed run the garbage collector runs, untimed (timeit disables it instead): otherwise a full "
    "collection of the large heap (~0.1 s) lands on whichever run crosses its threshold, the same run each round.",
    "Figures are medians over the rounds with min and max; every round of every page runs before the next round "
    "(round-robin). Each run starts from a fresh copy of the generated data, so writes do not accumulate.",
    "Budgets are evaluated at the largest scale measured; the flatness and statement-count budgets compare it "
    "with the next scale. 'hot queries use their indexes' reads the plans the database chooses on the "
    "benchmark's data (bench/plans.py, the same checks as tests/db/test_query_plans.py).",
]


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/100 of the data, 1 round (a smoke test)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds at the full scale (default 5)")
    parser.add_argument("--small-rounds", type=int, default=None, help="rounds at 1/10 (default: as --rounds)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=None, help="results file (default bench/results.json)")
    parser.add_argument("--pages", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args(argv)
    started, wall = datetime.now(UTC), time.perf_counter()
    load_at_start = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews every figure
    url = os.environ.get("DATABASE_URL")
    if args.quick:
        rounds = {0.01: 1}
    else:
        rounds = {1.0: args.rounds, 0.1: args.small_rounds if args.small_rounds is not None else args.rounds}
    out = args.out or (data_dir() / "bench-quick.json" if args.quick else DEFAULT_OUT)
    baselines = [] if args.no_baselines else list(BASELINES)
    databases = {scale: prepare(scale, args.seed, url) for scale in rounds}
    by_scale: dict[float, dict[str, Any]] = {}
    plans: dict[float, dict[str, list[str]]] = {}
    for scale in sorted(rounds):
        db = databases[scale]
        print(f"scale 1/{1 / scale:g}: {db.counts} ({'generated' if db.generated else 'kept'} data)", flush=True)
        plans[scale] = check_plans(db)
        by_scale[scale] = measure_scale(db, rounds[scale], args.pages, baselines)
    found = budgets(by_scale, plans)
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "load_average_at_start": load_at_start,
        "seconds": round(time.perf_counter() - wall, 1),
        "machine": machine(),
        "database": "postgresql" if url and url.startswith("postgres") else "sqlite",
        "rounds": {scale_tag(s): n for s, n in rounds.items()},
        "data": {
            scale_tag(s): {"counts": d.counts, "generated": d.generated, "seconds": round(d.seconds, 1)}
            for s, d in databases.items()
        },
        "results": {scale_tag(s): r for s, r in by_scale.items()},
        "plans": {scale_tag(s): p for s, p in plans.items()},
        "budgets": found,
        "method": METHOD,
        "summary": {
            "met": sum(1 for b in found if b["met"] is True),
            "missed": sum(1 for b in found if b["met"] is False),
            "not measured": sum(1 for b in found if b["met"] is None),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(table(by_scale, rounds))
    print(budget_table(found))
    print(f"\n{report['summary']}; {report['seconds']:.0f} s; written to {out}")
    errors = [e for r in by_scale.values() for entry in r.values() for e in entry.get("errors", [])]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
