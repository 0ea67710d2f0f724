"""The power curve: the best average output held for 1 s … 90 min, the FTP estimate and the
critical-power fit from it.

Computed from the stored performance graphs (`records()` pairs, store → model) of every Bike workout,
Just Ride included. A graph's samples are `every_n` seconds apart (`seconds_since_pedaling_start`);
a window of d seconds is ceil(d / every_n) samples, so a duration that is not a multiple of every_n is
rounded *up* to the next whole sample (5 s at every_n 2 is a 6-second window): the figure never
claims a shorter effort than the one it averages. A missing sample counts as 0 W (not pedalling).

Vectorised: all rides of one sampling interval are laid end to end in one array; for each duration
the sums of every window come from one cumulative sum, windows that cross into the next ride are
masked, and each ride's best is one `np.maximum.reduceat`. No Python loop runs per window or per ride.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from pelotonxl.model.samples import sample_array
from pelotonxl.model.tables import SheetTable, is_bike, local_start, ride_of
from pelotonxl.model.workbook import ID_COLUMN, POWER_CURVE_SHEET

# The durations people quote (seconds), always on the curve when the sampling and the rides allow.
ANCHORS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 2700, 3600, 5400)
LONGEST = 5400  # 90 minutes
CURVE_POINTS = 40  # log-spaced points between the shortest duration and LONGEST, before the anchors
RECENT_DAYS = 90
YEAR_DAYS = 365
# Critical power: P = W' / t + CP fitted to the bests of 3 to 20 minutes.
CP_SHORTEST, CP_LONGEST = 180, 1200
FTP_SHARE = 0.95
FTP_SECONDS = 1200
TABLE = POWER_CURVE_SHEET
ZERO_RIDE_ID = "00000000000000000000000000000000"  # Just Ride and other classless workouts
COLUMNS = (
    "Duration (s)",
    "Best Output (watts)",
    "Best Output, Last 90 Days (watts)",
    "Best Output, Last 365 Days (watts)",
    ID_COLUMN,
    "Date",
)


def durations_for(step: int) -> tuple[int, ...]:
    """The curve's durations at a sampling of `step` seconds: at least 30 from `step` to 90 minutes,
    each a whole number of samples: the ANCHORS the sampling allows, and between them log-spaced points
    (none within 8 % of another, so 20 min is not followed by 20 min 38 s)."""
    step = max(1, int(step))
    chosen = {a for a in ANCHORS if a >= step and a % step == 0} | {step}
    for d in np.geomspace(step, LONGEST, CURVE_POINTS):
        snapped = int(-(-round(float(d), 6) // step) * step)
        if snapped <= LONGEST and all(abs(snapped - c) > 0.08 * c for c in chosen):
            chosen.add(snapped)
    return tuple(sorted(chosen))


DURATIONS = durations_for(1)


@dataclass
class RideSeries:
    """One Bike workout's output samples, with what the curve and the Ride sheet need to name it."""

    workout_id: str
    start: datetime | None  # naive, the workout's own time zone (as the Start column)
    ride_id: str | None  # the class; None for Just Ride
    every_n: int
    output: np.ndarray  # watts, float64, NaN-free


@dataclass
class RideBest:
    """One Bike ride's best averages (from its `ride_efforts` record): what the curve keeps of a ride."""

    workout_id: str
    start: datetime | None
    seconds: int  # samples x every_n: the longest duration it can hold


@dataclass
class PowerCurve:
    durations: np.ndarray  # seconds, only those the longest ride reaches
    rides: list[RideSeries] | list[RideBest]
    best: np.ndarray  # rides x durations: each ride's best average (NaN: ride too short)

    def bests(self, since: datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(best watts per duration, index of the ride holding it or -1) over rides started at or after `since`."""
        chosen = self.best
        if since is not None:
            starts = np.array([r.start is not None and r.start >= since for r in self.rides], dtype=bool)
            chosen = np.where(starts[:, None], self.best, np.nan)
        if chosen.size == 0:
            return np.full(len(self.durations), np.nan), np.full(len(self.durations), -1)
        filled = np.where(np.isnan(chosen), -np.inf, chosen)
        index = filled.argmax(axis=0)
        values = filled[index, np.arange(len(self.durations))]
        missing = ~np.isfinite(values)
        return np.where(missing, np.nan, values), np.where(missing, -1, index)

    def ftp(self, since: datetime | None = None) -> float | None:
        """95 % of the best 20-minute output (over rides since `since`); None without a 20-minute ride."""
        hits = np.flatnonzero(self.durations == FTP_SECONDS)
        if not len(hits):
            return None
        value = self.bests(since)[0][hits[0]]
        return None if np.isnan(value) else round(FTP_SHARE * float(value), 1)


def every_n_of(graph: dict) -> int:
    """Seconds between samples: the graph's own `every_n` when it says, else the step of
    `seconds_since_pedaling_start`, else 1."""
    stated = graph.get("every_n")
    if isinstance(stated, (int, float)) and stated >= 1:
        return int(stated)
    seconds = graph.get("seconds_since_pedaling_start")
    if isinstance(seconds, list) and len(seconds) > 1:
        try:
            step = float(np.median(np.diff(np.asarray(seconds, dtype="float64"))))
        except (TypeError, ValueError):
            return 1
        if np.isfinite(step) and step >= 1:
            return round(step)
    return 1


def metric_samples(graph: dict, slug: str) -> np.ndarray | None:
    """One metric's samples as float64 (a missing or impossible sample is NaN, see `samples.sample_array`);
    None if absent."""
    for metric in graph.get("metrics") or []:
        if isinstance(metric, dict) and metric.get("slug") == slug and isinstance(metric.get("values"), list):
            return sample_array(metric["values"], slug)  # impossible samples are NaN
    return None


def _ride_id(workout: dict) -> str | None:
    ride = ride_of(workout)
    ride_id = ride.get("id") if isinstance(ride.get("id"), str) else None
    return None if not ride_id or ride_id == ZERO_RIDE_ID else ride_id


def bike_series(records: Iterable[tuple[Any, Any]]) -> list[RideSeries]:
    """Every Bike workout with an output series, oldest first."""
    rides = []
    for workout, graph in records:
        if not (isinstance(workout, dict) and isinstance(graph, dict) and is_bike(workout)):
            continue
        output = metric_samples(graph, "output")
        if output is None or not len(output) or not isinstance(workout.get("id"), str):
            continue
        rides.append(
            RideSeries(
                workout["id"],
                local_start(workout),
                _ride_id(workout),
                every_n_of(graph),
                np.nan_to_num(output, nan=0.0),
            )
        )
    rides.sort(key=lambda r: (r.start is None, r.start or datetime.min))
    return rides


def best_averages(outputs: list[np.ndarray], every_n: int, durations: Iterable[int]) -> np.ndarray:
    """Best average of each series over each duration (rides x durations; NaN where a ride is shorter).

    All series share `every_n`; a duration is ceil(d / every_n) samples."""
    durations = np.asarray(list(durations), dtype="int64")
    result = np.full((len(outputs), len(durations)), np.nan)
    lengths = np.array([len(o) for o in outputs], dtype="int64")
    if not lengths.any():
        return result
    # Each ride's own running sum, from 0 (ride r's sums sit at starts[r] .. starts[r] + lengths[r]): one ride's
    # values never enter another's, so a spike cannot cost the next ride its precision.
    total = np.concatenate([np.concatenate(([0.0], np.cumsum(o))) for o in outputs])
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    sums = np.empty(len(total))
    for column, seconds in enumerate(durations):  # one pass per duration, never per window
        width = -(-int(seconds) // every_n)
        fits = np.flatnonzero(lengths >= width)
        if not len(fits):
            continue
        count = len(total) - width
        np.subtract(total[width:], total[:count], out=sums[:count])
        # Each long-enough ride's windows start at starts[i] .. starts[i] + lengths[i] - width: reduce over
        # those, and over the gap up to the next ride's (windows running into it), which is dropped.
        bounds = np.empty(2 * len(fits), dtype="int64")
        bounds[0::2] = starts[fits]
        bounds[1::2] = starts[fits] + lengths[fits] - width + 1
        best = np.maximum.reduceat(sums[:count], bounds[:-1] if bounds[-1] >= count else bounds)[0::2]
        result[fits, column] = best / width
    return result


def power_curve(rides: list[RideSeries], durations: Iterable[int] | None = None) -> PowerCurve:
    """Each ride's best average per duration, for the durations the longest ride reaches; by default
    `durations_for` the finest sampling among the rides."""
    if durations is None:
        durations = durations_for(min((r.every_n for r in rides), default=1))
    longest = max((len(r.output) * r.every_n for r in rides), default=0)
    reached = np.array([d for d in durations if d <= longest], dtype="int64")
    best = np.full((len(rides), len(reached)), np.nan)
    by_step: dict[int, list[int]] = {}
    for index, ride in enumerate(rides):
        by_step.setdefault(ride.every_n, []).append(index)
    for step, indexes in by_step.items():  # one vectorised pass per sampling interval (usually one)
        best[indexes] = best_averages([rides[i].output for i in indexes], step, reached)
    return PowerCurve(reached, rides, best)


def ride_efforts(workout: dict, graph: dict | None) -> dict[str, Any] | None:
    """One ride's record for the curve, kept in the store (model/derived.py): its start, sampling and
    how long its samples run, and its best average over each window of `w` samples ("best": {w: watts})
    that a curve can ask of it: those of `durations_for` its own sampling (every curve of a store
    sampled alike) and of 1 s (a store mixing in one-second rides). None for a workout that is not a Bike
    ride with output samples."""
    rides = bike_series([(workout, graph)])
    if not rides:
        return None
    ride = rides[0]
    widths = sorted(
        {w for d in (*durations_for(ride.every_n), *DURATIONS) if (w := -(-d // ride.every_n)) <= len(ride.output)}
    )
    best = best_averages([ride.output], 1, widths)[0] if widths else []
    return {
        "start": ride.start.isoformat() if ride.start is not None else None,
        "every_n": ride.every_n,
        "seconds": int(len(ride.output) * ride.every_n),
        "best": {str(w): float(b) for w, b in zip(widths, best, strict=True)},
    }


def curve_from_efforts(efforts: Iterable[tuple[str, dict[str, Any] | None]]) -> PowerCurve:
    """The curve from `ride_efforts` records ((workout id, record) newest first, as the store lists
    them): the figures of power_curve(bike_series(records)), without reading a sample. (In a store that
    mixes samplings other than 1 s, a coarser ride lacks the windows its record did not keep: blank there.)"""
    rides: list[RideBest] = []
    records: list[dict[str, Any]] = []
    for wid, record in efforts:
        if record is None:
            continue
        start = datetime.fromisoformat(record["start"]) if record["start"] is not None else None
        rides.append(RideBest(wid, start, int(record["seconds"])))
        records.append(record)
    durations = durations_for(min((int(r["every_n"]) for r in records), default=1))
    longest = max((r.seconds for r in rides), default=0)
    reached = np.array([d for d in durations if d <= longest], dtype="int64")
    order = sorted(range(len(rides)), key=lambda i: (rides[i].start is None, rides[i].start or datetime.min))
    best = np.full((len(rides), len(reached)), np.nan)
    for row, i in enumerate(order):
        step, kept = int(records[i]["every_n"]), records[i]["best"]
        for column, seconds in enumerate(reached):
            value = kept.get(str(-(-int(seconds) // step)))
            if value is not None:
                best[row, column] = value
    return PowerCurve(reached, [rides[i] for i in order], best)


def curve_table(curve: PowerCurve, now: datetime) -> SheetTable:
    """The PowerCurve Excel Table: one row per duration, all-time and last-90-day bests."""
    best, holder = curve.bests()
    recent, _ = curve.bests(now - timedelta(days=RECENT_DAYS))
    year, _ = curve.bests(now - timedelta(days=YEAR_DAYS))
    frame = pd.DataFrame(
        {
            COLUMNS[0]: curve.durations.astype("int64"),
            COLUMNS[1]: np.round(best, 1),
            COLUMNS[2]: np.round(recent, 1),
            COLUMNS[3]: np.round(year, 1),
            COLUMNS[4]: pd.Series([curve.rides[i].workout_id if i >= 0 else None for i in holder], dtype="object"),
            COLUMNS[5]: pd.to_datetime(
                pd.Series([curve.rides[i].start if i >= 0 else None for i in holder], dtype="object")
            ),
        }
    )
    formats = {
        COLUMNS[0]: "#,##0",
        COLUMNS[1]: "0.0",
        COLUMNS[2]: "0.0",
        COLUMNS[3]: "0.0",
        COLUMNS[5]: "yyyy-mm-dd hh:mm",
    }
    widths = {COLUMNS[0]: 14.0, COLUMNS[1]: 22.0, COLUMNS[2]: 34.0, COLUMNS[3]: 35.0, COLUMNS[4]: 34.0}
    widths[COLUMNS[5]] = 18.0
    return SheetTable(TABLE, frame, formats, widths)


def critical_power(durations: np.ndarray, bests: np.ndarray) -> tuple[float, float] | None:
    """(CP in watts, W' in joules) from the bests of 3 to 20 minutes: the least-squares line through
    work = W' + CP x t. None with fewer than two such bests, or a fit that is not physical."""
    durations = np.asarray(durations, dtype="float64")
    bests = np.asarray(bests, dtype="float64")
    chosen = (durations >= CP_SHORTEST) & (durations <= CP_LONGEST) & np.isfinite(bests)
    if chosen.sum() < 2:
        return None
    seconds = durations[chosen]
    cp, w_prime = np.polyfit(seconds, bests[chosen] * seconds, 1)
    if cp <= 0 or w_prime < 0:
        return None
    return float(cp), float(w_prime)


def ftp_history(curve: PowerCurve, months: pd.DatetimeIndex) -> pd.DataFrame:
    """For each month, the FTP estimate as it stood at the month's end (best 20 min of the 90 days before)."""
    hits = np.flatnonzero(curve.durations == FTP_SECONDS)
    twenty = curve.best[:, hits[0]] if len(hits) else np.full(len(curve.rides), np.nan)
    # Plain ndarray: numpy's stubs take datetime64 minus timedelta64 for a timedelta64.
    starts: np.ndarray = pd.to_datetime(pd.Series([r.start for r in curve.rides], dtype="object")).to_numpy(
        "datetime64[ns]"
    )
    ends: np.ndarray = (months + pd.offsets.MonthBegin(1)).to_numpy("datetime64[ns]")
    # months x rides: is the ride inside the 90 days before that month's end?
    inside = (starts[None, :] < ends[:, None]) & (starts[None, :] >= ends[:, None] - np.timedelta64(RECENT_DAYS, "D"))
    best = np.where(inside, np.nan_to_num(twenty, nan=-np.inf)[None, :], -np.inf).max(axis=1, initial=-np.inf)
    estimate = np.where(np.isfinite(best), np.round(FTP_SHARE * best, 1), np.nan)
    return pd.DataFrame({"Month": months, "Estimated FTP (W)": estimate})
