"""Each workout's load figures (the Metrics table's load columns and `PELOTON_METRIC`'s load slugs) and
the Fitness table, from what a refresh already holds: the Workouts and Metrics tables, the power curve's
output samples, each ride's stored `ftp_info`, and the member's settings.

Rides (Bike workouts with output samples and an FTP) are scored by power: NP, IF, TSS, VI and EF from
the samples, W/kg from Peloton's whole-workout average output. Every other workout with a heart rate is
scored by TRIMP, scaled so an hour at threshold heart rate is 100, over its Duration. TSS needs a cycling
FTP, so Tread and Row output is scored by heart rate too. A workout with neither has no load, and its
Load Source says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from pelotonxl.model import fitness
from pelotonxl.model import training_load as tl
from pelotonxl.model.athlete import Athlete, athlete  # noqa: F401 - athlete: the refresh's way in
from pelotonxl.model.ftp import FtpInEffect, RideFtpInput, ftp_in_effect, is_ftp_test
from pelotonxl.model.power_curve import FTP_SECONDS, PowerCurve, RideBest, RideSeries
from pelotonxl.model.table_frames import widths
from pelotonxl.model.tables import SheetTable

POWER, HEART_RATE = "power (TSS)", "heart rate (TRIMP)"
NO_LOAD = "none: no power or heart rate"

# slug -> (header, unit, number format): the columns added to Metrics, in order.
LOAD_METRICS: dict[str, tuple[str, str | None, str]] = {
    "ftp": ("FTP (watts)", "watts", "0"),
    "normalized_power": ("Normalized Power (watts)", "watts", "0"),
    "intensity_factor": ("Intensity Factor", None, "0.00"),
    "tss": ("TSS", None, "0"),
    "variability_index": ("Variability Index", None, "0.00"),
    "efficiency_factor": ("Efficiency Factor (watts/bpm)", "watts/bpm", "0.00"),
    "watts_per_kg": ("Avg Output per kg (W/kg)", "W/kg", "0.00"),
    **{f"power_zone_{z}": (f"Power Zone {z} (min)", "min", "0.0") for z in range(1, tl.ZONES + 1)},
    "load": ("Load", None, "0"),
}
TEXT_COLUMNS = ("FTP Source", "Load Source")
SLUG_NAMES = {slug: (header.split(" (")[0], unit) for slug, (header, unit, _) in LOAD_METRICS.items()}


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _column(table: SheetTable, slug: str) -> pd.Series:
    """A metric's column of a table by slug (any unit), NaN where absent."""
    for (key, _unit), header in table.metric_columns.items():
        if key == slug:
            return table.frame[header].astype("float64")
    return pd.Series(np.nan, index=table.frame.index, dtype="float64")


@dataclass
class Loads:
    """Each workout's load figures by slug (plus the two text columns), and the Fitness table."""

    by_workout: dict[str, dict[str, Any]]
    fitness: SheetTable


def compute(
    workouts: SheetTable,
    metrics: SheetTable,
    curve: PowerCurve,
    details: Mapping[str, Mapping[str, Any]],
    who: Athlete,
    today: date,
    power: Mapping[str, tl.PowerRecord] | None = None,
) -> Loads:
    """Every workout's load (see the module's docstring) and the Fitness table up to `today`. `power`:
    each ride's `training_load.power_records` record as the store keeps it; without it (or for a ride it
    lacks) the record is made from the curve's output samples."""
    frame = metrics.frame
    ids = frame["Workout ID"].tolist()
    avg_output = dict(zip(ids, _column(metrics, "avg_output").tolist(), strict=True))
    avg_hr = dict(zip(ids, _column(metrics, "avg_heart_rate").tolist(), strict=True))
    info = workouts.frame.set_index("Workout ID")
    titles = dict(zip(workouts.frame["Workout ID"], workouts.frame["Class Title"], strict=True))
    twenty = _best_20(curve).tolist()
    rides: list[RideSeries | RideBest] = list(curve.rides)
    ftp_inputs = [
        RideFtpInput(
            ride.workout_id,
            ride.start,
            peloton_ftp=_positive((details.get(ride.workout_id, {}).get("ftp_info") or {}).get("ftp")),
            test_output=avg_output.get(ride.workout_id) if is_ftp_test(titles.get(ride.workout_id)) else None,
            best_20min=None if math.isnan(twenty[i]) else twenty[i],
        )
        for i, ride in enumerate(rides)
    ]
    ftps = ftp_in_effect(ftp_inputs, override=who.ftp_override, today=who.today_ftp)
    by_workout: dict[str, dict[str, Any]] = {}
    records = dict(power or {})
    by_step: dict[int, list[RideSeries]] = {}
    for ride in rides:  # rides the store kept no record of: from the curve's samples, when it has them
        if ride.workout_id not in records and isinstance(ride, RideSeries) and len(ride.output):
            by_step.setdefault(ride.every_n, []).append(ride)
    for step, sampled in by_step.items():  # one vectorised pass per sampling (usually one)
        made = tl.power_records([r.output for r in sampled], step)
        records.update((r.workout_id, record) for r, record in zip(sampled, made, strict=True))
    for ride in rides:
        if ride.workout_id in records:
            by_workout[ride.workout_id] = _ride_figures(
                records[ride.workout_id],
                ftps[ride.workout_id],
                avg_output.get(ride.workout_id),
                avg_hr.get(ride.workout_id),
                who,
            )
    durations = info["Duration"].dt.total_seconds() / 60 if "Duration" in info else pd.Series(dtype="float64")
    minutes_of = dict(zip(durations.index, durations.to_numpy(), strict=True))
    for wid in ids:
        if wid in by_workout and by_workout[wid].get("load") is not None:
            continue
        figures = by_workout.setdefault(wid, {})
        hr, minutes = _positive(avg_hr.get(wid)), _positive(minutes_of.get(wid))
        if hr and minutes and who.max_hr:
            figures["load"] = tl.hr_load(
                minutes,
                hr,
                rest_hr=who.resting_hr,
                max_hr=who.max_hr,
                threshold=tl.threshold_hr(who.max_hr, who.threshold_hr),
                k=who.trimp_k,
            )
            figures["Load Source"] = HEART_RATE
        else:
            figures["Load Source"] = NO_LOAD
    return Loads(by_workout, fitness_for(frame, by_workout, today))


def fitness_for(metrics: pd.DataFrame, by_workout: Mapping[str, Mapping[str, Any]], today: date) -> SheetTable:
    """The Fitness table: each day's load (by the workout's local Start) from the first to `today`."""
    starts = dict(zip(metrics["Workout ID"], metrics["Start"].dt.date, strict=True))
    kept = [
        (starts[wid], float(figures["load"]))
        for wid, figures in by_workout.items()
        if figures.get("load") is not None and not pd.isna(starts.get(wid))
    ]
    daily = fitness.daily_load([d for d, _ in kept], [v for _, v in kept], last=today if kept else None)
    return fitness_table(fitness.fitness_frame(daily))


def _best_20(curve: PowerCurve) -> np.ndarray:
    hits = np.flatnonzero(curve.durations == FTP_SECONDS)
    return curve.best[:, hits[0]] if len(hits) else np.full(len(curve.rides), np.nan)


def _ride_figures(
    power: tl.PowerRecord, ftp: FtpInEffect, peloton_avg: float | None, hr: float | None, who: Athlete
) -> dict[str, Any]:
    """One ride's figures from its power record; without an FTP only what needs none (NP, VI, EF, W/kg)."""
    figures: dict[str, Any] = {"FTP Source": ftp.source or "none"}
    average = _positive(peloton_avg) or power["avg"]
    if who.weight_kg and average:
        figures["watts_per_kg"] = average / who.weight_kg
    np_ = power["np"]
    if np_ is None:
        return figures
    figures["normalized_power"] = np_
    if power["avg"] > 0:
        figures["variability_index"] = np_ / power["avg"]
    if _positive(hr):
        figures["efficiency_factor"] = np_ / float(hr or 1)
    if ftp.ftp:
        figures["ftp"] = ftp.ftp
        figures["intensity_factor"] = tl.intensity_factor(np_, ftp.ftp)
        figures["tss"] = figures["load"] = tl.tss(power["seconds"], np_, ftp.ftp)
        figures["Load Source"] = POWER
        minutes = tl.zone_seconds_of(power, ftp.ftp) / 60
        figures.update({f"power_zone_{z + 1}": float(m) for z, m in enumerate(minutes)})
    return figures


def with_load_columns(metrics: SheetTable, by_workout: Mapping[str, Mapping[str, Any]]) -> SheetTable:
    """The Metrics table with the load columns after its own (blank where a workout has none)."""
    rows = [by_workout.get(wid, {}) for wid in metrics.frame["Workout ID"]]
    added: dict[str, Any] = {}
    formats: dict[str, str] = {}
    columns = dict(metrics.metric_columns)
    for slug, (header, unit, number_format) in LOAD_METRICS.items():
        added[header] = np.array([r.get(slug, np.nan) for r in rows], dtype="float64")
        formats[header] = number_format
        columns[(slug, unit)] = header
        if slug == "ftp":
            added["FTP Source"] = np.array([r.get("FTP Source") for r in rows], dtype=object)
    added["Load Source"] = np.array([r.get("Load Source") for r in rows], dtype=object)
    extra = pd.DataFrame(added, index=metrics.frame.index)
    frame = pd.concat([metrics.frame, extra], axis=1)
    return SheetTable(
        metrics.name,
        frame,
        {**metrics.number_formats, **formats},
        {**metrics.widths, **widths(extra, formats)},
        columns,
    )


def stored(loads: Loads) -> dict[str, dict[str, Any]]:
    """What the store keeps, for the worksheet functions and the export: each workout's figures by slug
    (numbers) and its FTP and Load sources (text)."""
    return {
        wid: {
            key: (float(v) if key in LOAD_METRICS else str(v))
            for key, v in figures.items()
            if (key in LOAD_METRICS or key in TEXT_COLUMNS) and v is not None
        }
        for wid, figures in loads.by_workout.items()
    }


FITNESS_FORMATS = {
    fitness.COLUMNS[0]: "yyyy-mm-dd",
    **{c: "0.0" for c in fitness.COLUMNS[1:]},
}


def fitness_table(frame: pd.DataFrame) -> SheetTable:
    return SheetTable(fitness.TABLE, frame, dict(FITNESS_FORMATS), widths(frame, FITNESS_FORMATS))
