"""Benchmark: the power curve of 1,000 rides (issue 14: goal under 1 s; vectorised, no loop per window).

Builds 1,000 Bike workouts with per-second output graphs in memory (20, 30, 45 and 60-minute rides,
as the store holds them: graph JSON as `records()` yields it), then times, best of --repeat runs:

  1. reading the output samples out of the graphs (`power_curve.bike_series`);
  2. the curve itself: each ride's best average for every duration (`power_curve.power_curve`);
  3. the PowerCurve table and the FTP estimate from it.

    python -m benchmarks.bench_power_curve [--rides 1000] [--every-n 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from pelotonxl.model import power_curve as pc

GOAL_SECONDS = 1.0


def synthetic_records(rides: int, every_n: int, seed: int = 7) -> list[tuple[dict, dict]]:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 11, 30, tzinfo=timezone.utc)
    records = []
    for n in range(rides):
        minutes = int(rng.choice([20, 30, 45, 60]))
        samples = minutes * 60 // every_n
        effort = 150 + 60 * np.sin(np.linspace(0, rng.uniform(3, 12), samples)) + rng.normal(0, 15, samples)
        workout = {
            "id": f"{n:032x}",
            "fitness_discipline": "cycling",
            "timezone": "UTC",
            "start_time": (start - timedelta(days=n)).timestamp(),
            "ride": {"id": f"{n % 50:032x}"},
        }
        graph = {
            "seconds_since_pedaling_start": list(range(every_n, samples * every_n + 1, every_n)),
            "metrics": [{"slug": "output", "values": np.clip(effort, 0, None).round().astype(int).tolist()}],
        }
        records.append((workout, graph))
    return records


def best_of(repeat: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rides", type=int, default=1000)
    parser.add_argument("--every-n", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    records = synthetic_records(args.rides, args.every_n)
    samples = sum(len(g["metrics"][0]["values"]) for _, g in records)
    read, rides = best_of(args.repeat, lambda: pc.bike_series(records))
    compute, curve = best_of(args.repeat, lambda: pc.power_curve(rides))
    now = datetime(2026, 11, 30)
    table, result = best_of(args.repeat, lambda: (pc.curve_table(curve, now), curve.ftp()))
    total = read + compute + table
    print(
        f"Power curve of {args.rides:,} rides ({samples:,} samples, every {args.every_n} s, "
        f"{len(curve.durations)} durations), best of {args.repeat}:\n"
    )
    print("| step | seconds |\n|---|---:|")
    print(f"| read output samples from the graphs | {read:.3f} |")
    print(f"| best average per ride and duration | {compute:.3f} |")
    print(f"| PowerCurve table and FTP | {table:.3f} |")
    print(f"| **total** (goal < {GOAL_SECONDS:g} s) | **{total:.3f}** |")
    print(f"\nFTP estimate {result[1]} W; goal {'met' if total < GOAL_SECONDS else 'MISSED'}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
