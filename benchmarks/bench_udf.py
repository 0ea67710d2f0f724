"""How fast =PELOTON_METRIC answers: 10,000 calls through the in-memory index, side by side with
a baseline that reads the store for every call (what a naive UDF would do).

    python -m benchmarks.bench_udf [--workouts 1000] [--calls 10000]

Run from the repository root (or with the package installed: `pip install -e .`).

It refreshes a demo account into a temporary state folder first (local server, no network).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

try:
    from pelotonxl import refresh_job
    from pelotonxl.demo.account import make_account
    from pelotonxl.demo.server import DEMO_PASSWORD, DEMO_USERNAME, FakePeloton
    from pelotonxl.peloton.store import WorkoutStore, unpack_graph
    from pelotonxl.settings import resolve
except ModuleNotFoundError as exc:
    if exc.name != "pelotonxl":
        raise
    sys.exit(
        f"{Path(__file__).name}: the pelotonxl package is not importable: run it from the repository "
        f"root as `python -m benchmarks.{Path(__file__).stem}`, or `pip install -e .` first."
    )

SLUGS = ["avg_output", "Avg Cadence", "calories", "total_output", "max_heart_rate"]


def naive_lookup(store_path: Path, workout_id: str, slug: str):
    """Baseline: open the store and read (and unpack) the graph on every call."""
    db = sqlite3.connect(store_path)
    try:
        row = db.execute("SELECT data FROM graphs WHERE workout_id = ?", (workout_id,)).fetchone()
    finally:
        db.close()
    graph = unpack_graph(row[0]) if row else {}
    for item in graph.get("summaries", []) + graph.get("average_summaries", []):
        if item.get("slug") == slug:
            return item.get("value")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workouts", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="bench-udf-"))
    os.environ["PELOTON_XL_HOME"] = str(home)
    account = make_account(args.workouts)
    with FakePeloton(account) as server:
        settings = resolve(
            {
                "api_url": server.url,
                "auth_url": server.url,
                "username": DEMO_USERNAME,
                "password": DEMO_PASSWORD,
                "home": str(home),
            },
            environ={},
        )
        refresh_job.run_refresh(settings, lambda content: None)

    import peloton_xl  # imported after PELOTON_XL_HOME is set

    ids = [w["id"] for w in account.workouts]
    rng = random.Random(1)
    calls = [(rng.choice(ids), rng.choice(SLUGS)) for _ in range(args.calls)]

    started = time.perf_counter()
    peloton_xl.PELOTON_METRIC("latest", "avg_output")
    first = time.perf_counter() - started
    started = time.perf_counter()
    for wid, slug in calls:
        peloton_xl.PELOTON_METRIC(wid, slug)
    indexed = time.perf_counter() - started

    store_path = WorkoutStore.path_for(home, account.user_id)
    sample = calls[:500]
    started = time.perf_counter()
    for wid, slug in sample:
        naive_lookup(store_path, wid, slug.lower().replace(" ", "_"))
    naive = (time.perf_counter() - started) * len(calls) / len(sample)

    print(f"PELOTON_METRIC, {args.workouts} workouts in the store, {args.calls:,} calls\n")
    print("| variant | seconds | per call |")
    print("|---|---|---|")
    print(
        f"| baseline: read the store on every call (from {len(sample)} calls) | {naive:.2f} | "
        f"{naive / len(calls) * 1e6:.0f} µs |"
    )
    print(
        f"| peloton_xl: in-memory index (first call builds it: {first:.2f} s) | {indexed:.2f} | "
        f"{indexed / len(calls) * 1e6:.0f} µs |"
    )
    print(f"\ntarget: {args.calls:,} calls well under 1 s: {'PASS' if indexed < 1 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
