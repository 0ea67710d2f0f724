"""Benchmark: what fine-grained series cost (issue 14). Run through bench_refresh:

    python -m benchmarks.bench_refresh --series [--series-size 1000] [--latency 0.05]

1. The first refresh of N workouts (the real CLI in a subprocess, empty state folder, fresh workbook)
   with graphs sampled at the old coarse default (300 s) and at the fine default (5 s), side by side:
   seconds, requests, peak memory of the subprocess, the store's size on disk.
2. The store holding 1,000 half-hour rides (Bike graphs of 30-minute classes, written straight into a
   store, no network) at 5 s and at 1 s.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_refresh import (
    FIRST,
    PASSWORD,
    USERNAME,
    _num,
    child_env,
    fresh_run,
    markdown_table,
    report_head,
    run_cli,
    say,
)
from pelotonxl.demo.account import make_account
from pelotonxl.demo.server import FakePeloton
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.settings import DEFAULT_EVERY_N

COARSE_EVERY_N = 300
HALF_HOUR_RIDES = 1000


@dataclass
class SeriesRow:
    every_n: int
    seconds: float
    requests: int
    peak_mb: float | None
    store_mb: float
    problems: list[str]


def store_size_mb(home: Path) -> float:
    files = [p for p in home.rglob("store.sqlite*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def first_refresh(n: int, every_n: int, latency: float, workers: int, scratch: Path) -> SeriesRow:
    account = make_account(n)
    home, work, workbook = fresh_run(scratch, every_n)
    with FakePeloton(account, username=USERNAME, password=PASSWORD, latency=latency) as server:
        env = child_env(server, home, workers)
        env["PELOTON_EVERY_N"] = str(every_n)
        say(f"series: first refresh of {n:,} at every_n={every_n}")
        row = run_cli(FIRST, n, server, env, work, workbook, n, n)
    return SeriesRow(every_n, row.seconds, row.requests, row.peak_mb, store_size_mb(home), row.problems)


def half_hour_store_mb(every_n: int, scratch: Path) -> float:
    """1,000 half-hour Bike rides' graphs in a store, as a refresh would save them."""
    account = make_account(400)
    rides = [
        w for w in account.workouts if w["fitness_discipline"] == "cycling" and account.plan(w["id"]).duration == 1800
    ]
    path = scratch / f"half-hour-{every_n}" / "store.sqlite"
    with WorkoutStore(path) as store:
        batch = []
        for i, ride in zip(range(HALF_HOUR_RIDES), itertools.cycle(rides)):
            workout = dict(ride, id=f"{i:032x}", created_at=ride["created_at"] - i)
            batch.append((workout, account.graph(ride["id"], every_n)))
            if len(batch) == 100:
                store.save_workouts([w for w, _ in batch])
                store.save_graphs([(w["id"], g) for w, g in batch], every_n)
                batch.clear()
    return store_size_mb(path.parent)


def run_series(n: int, latency: float, workers: int) -> str:
    with tempfile.TemporaryDirectory(prefix="peloton-bench-series-") as scratch:
        rows = [
            first_refresh(n, every_n, latency, workers, Path(scratch)) for every_n in (COARSE_EVERY_N, DEFAULT_EVERY_N)
        ]
        say("series: 1,000 half-hour rides at 5 s and 1 s")
        half_hour = {every_n: half_hour_store_mb(every_n, Path(scratch)) for every_n in (DEFAULT_EVERY_N, 1)}
    coarse, fine = rows
    ratio = fine.seconds / coarse.seconds
    settings = (
        f"First refresh of {n:,} demo workouts, latency {latency * 1000:g} ms per request, PELOTON_WORKERS={workers}"
    )
    lines = report_head("fine-series", settings) + markdown_table(
        ["graph sampling", "seconds", "Peloton requests", "peak memory MB", "store MB"],
        [
            [
                f"every {r.every_n} s{' (!)' if r.problems else ''}",
                f"{r.seconds:.2f}",
                f"{r.requests:,}",
                _num(r.peak_mb, 0),
                f"{r.store_mb:.1f}",
            ]
            for r in rows
        ],
    )
    lines += [
        "",
        f"Store of {HALF_HOUR_RIDES:,} half-hour Bike rides: "
        + ", ".join(f"{mb:.1f} MB at every {e} s" for e, mb in half_hour.items()),
        "",
        "Targets:",
        "",
    ]
    clean = not (coarse.problems or fine.problems)
    targets = [
        (
            f"fine series ({DEFAULT_EVERY_N} s) first refresh <= 1.25x the coarse ({COARSE_EVERY_N} s) one",
            clean and ratio <= 1.25,
            f"{ratio:.2f}x ({coarse.seconds:.1f} s -> {fine.seconds:.1f} s)",
        ),
        (
            f"store of {HALF_HOUR_RIDES:,} half-hour rides at {DEFAULT_EVERY_N} s < 25 MB",
            half_hour[DEFAULT_EVERY_N] < 25,
            f"{half_hour[DEFAULT_EVERY_N]:.1f} MB",
        ),
        (
            f"peak memory of the fine first refresh of {n:,} < 300 MB",
            clean and fine.peak_mb is not None and fine.peak_mb < 300,
            f"{_num(fine.peak_mb, 0)} MB",
        ),
    ]
    lines += [f"- {'PASS' if ok else 'FAIL'}: {text} — measured {measured}" for text, ok, measured in targets]
    problems = [f"- every {r.every_n} s: {p}" for r in rows for p in r.problems]
    if problems:
        lines += ["", "Runs marked (!) did not do what they should have:", "", *problems]
    return "\n".join(lines)
