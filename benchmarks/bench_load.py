"""Benchmark: training load, power zones and Fitness for 5,000 workouts (issue 21: goal under 1 s), side by
side with the refresh's own model work without them.

Builds the demo member's 5,000 workouts (every discipline, heart rate where worn) with their performance
graphs at the default 5-second sampling, in memory, as the store's `records()` yields them, and each ride's
`ftp_info` as the stand-in serves it. Then times, best of --repeat runs:

  A. what a refresh computed before the load: the Workouts and Metrics tables, the rides' output samples
     and the power curve, and the Dashboard;
  B. what the load adds: each workout's FTP, NP, IF, TSS, VI, EF, W/kg, 7 power zones or heart-rate TRIMP,
     the Fitness table (`workout_load.compute`), the Metrics load columns, and the Dashboard's two charts.

    python -m benchmarks.bench_load [--workouts 5000] [--every-n 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pelotonxl.demo.account import make_account
from pelotonxl.model import dashboard, dashboard_load, power_curve, tables, workout_load
from pelotonxl.settings import resolve

GOAL_SECONDS = 1.0
NOW = datetime(2026, 11, 29, 12, 0)


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workouts", type=int, default=5000)
    parser.add_argument("--every-n", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    years = max(1.0, args.workouts / 365)  # about a workout a day
    account = make_account(args.workouts, seed=3, years=years, end=datetime(2026, 11, 28, 18, tzinfo=timezone.utc))
    records = [(w, account.graph(w["id"], args.every_n)) for w in account.workouts]
    details = {
        w["id"]: {"ftp_info": {"ftp": account.ftp_at(w["created_at"])}}
        for w in account.workouts
        if w["fitness_discipline"] == "cycling"
    }
    who = workout_load.athlete(resolve({}, environ={}), account.me, 190.0)
    built = time.perf_counter() - started

    def without_load() -> tuple:
        workouts, metrics = tables.build_tables(records)
        curve = power_curve.power_curve(power_curve.bike_series(records))
        board = dashboard.build_dashboard([workouts, metrics], NOW, curve, 190.0, signed_in=True)
        return workouts, metrics, curve, board

    base_seconds, (workouts, metrics, curve, _) = best_of(args.repeat, without_load)

    def load() -> workout_load.Loads:
        loads = workout_load.compute(workouts, metrics, curve, details, who, NOW.date())
        with_columns = workout_load.with_load_columns(metrics, loads.by_workout)
        dashboard_load.fitness_block(loads.fitness.frame, NOW.date())
        dashboard_load.power_zones_block(with_columns.frame, NOW.date())
        return loads

    load_seconds, loads = best_of(args.repeat, load)
    rides = sum(1 for figures in loads.by_workout.values() if figures.get("Load Source") == workout_load.POWER)
    scored = sum(1 for figures in loads.by_workout.values() if figures.get("load") is not None)
    samples = sum(len(r.output) for r in curve.rides)
    print(
        f"Training load of {len(records):,} demo workouts ({len(curve.rides):,} rides, {samples:,} output samples "
        f"every {args.every_n} s; {scored:,} with a load, {rides:,} of them by power; {len(loads.fitness.frame):,} "
        f"days of Fitness), built in {built:.1f} s; best of {args.repeat}:\n"
    )
    print("| step | seconds |")
    print("|---|---:|")
    print(f"| A. the refresh's model without the load (tables, power curve, Dashboard) | {base_seconds:.3f} |")
    print(f"| B. load, zones and Fitness (what this adds; goal < {GOAL_SECONDS:g} s) | **{load_seconds:.3f}** |")
    print(
        f"\nB adds {load_seconds / base_seconds:.0%} to A; goal {'met' if load_seconds < GOAL_SECONDS else 'MISSED'}."
    )
    return 0 if load_seconds < GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
