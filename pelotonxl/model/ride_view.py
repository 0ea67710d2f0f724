"""One Bike ride over time, set against the member's earlier attempts of the same class.

What the Ride sheet shows (store → model → writers): the ride's output, cadence, resistance and heart
rate per sample, the class's segments, its output beside up to two previous attempts of the same class
(same ride id, started earlier), and each attempt's figures side by side. Built from the same
`(workout, graph)` records as the tables; nothing here knows about Excel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from pelotonxl.model.power_curve import (
    ZERO_RIDE_ID,
    best_averages,
    every_n_of,
    is_bike,
    metric_samples,
)
from pelotonxl.model.tables import local_start, ride_of, total_output_kj
from pelotonxl.model.workbook import RIDE_DATA_SHEET, RIDE_SHEET

SHEET = RIDE_SHEET
DATA_SHEET = RIDE_DATA_SHEET  # the numbers the Ride sheet's charts plot
PREVIOUS_ATTEMPTS = 2
# slug -> column header, in the order the sheet shows them.
SERIES = {
    "output": "Output (W)",
    "cadence": "Cadence (rpm)",
    "resistance": "Resistance (%)",
    "heart_rate": "Heart Rate (bpm)",
}
SECOND = "Second"


@dataclass
class Attempt:
    workout_id: str
    start: datetime | None
    every_n: int
    series: pd.DataFrame  # Second plus one column per SERIES header the graph has
    total_kj: float | None

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}" if self.start else self.workout_id[:8]


@dataclass
class RideView:
    workout_id: str
    title: str
    instructor: str | None
    start: datetime | None
    ride: Attempt
    previous: list[Attempt]  # newest first
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)  # Segment, From (s), To (s)

    def overlay(self) -> pd.DataFrame:
        """Second, then this ride's output and each previous attempt's, aligned on the ride's seconds."""
        frame = pd.DataFrame({SECOND: self.ride.series[SECOND]})
        names = [f"This ride ({self.ride.label})"] + [f"Attempt of {a.label}" for a in self.previous]
        for name, attempt in zip(names, [self.ride, *self.previous], strict=False):
            output = attempt.series.set_index(SECOND).get(SERIES["output"])
            if output is None:
                frame[name] = np.nan
                continue
            output = output[~output.index.duplicated()].sort_index()
            frame[name] = output.reindex(
                frame[SECOND], method="nearest", tolerance=max(attempt.every_n, self.ride.every_n)
            ).to_numpy()
        return frame

    def figures(self) -> pd.DataFrame:
        """One row per figure, one column per attempt (this ride first)."""
        attempts = [self.ride, *self.previous]
        rows: dict[str, list[Any]] = {
            "Date": [a.start for a in attempts],
            "Length (min)": [round(len(a.series) * a.every_n / 60, 1) for a in attempts],
            "Total output (kJ)": [a.total_kj for a in attempts],
        }
        for header in SERIES.values():
            rows[f"Avg {header}"] = [_mean(a.series.get(header)) for a in attempts]
        for seconds, label in ((300, "Best 5 min (W)"), (1200, "Best 20 min (W)")):
            rows[label] = [_best(a, seconds) for a in attempts]
        columns = ["This ride"] + [f"Attempt {n}" for n in range(1, len(attempts))]
        return pd.DataFrame([[label, *values] for label, values in rows.items()], columns=["Figure", *columns])


def _mean(series: pd.Series | None) -> float | None:
    if series is None or series.notna().sum() == 0:
        return None
    return round(float(series.mean()), 1)


def _best(attempt: Attempt, seconds: int) -> float | None:
    output = attempt.series.get(SERIES["output"])
    if output is None or len(output) * attempt.every_n < seconds:
        return None
    value = best_averages([output.fillna(0.0).to_numpy("float64")], attempt.every_n, [seconds])[0, 0]
    return None if np.isnan(value) else round(float(value), 1)


def _attempt(workout: dict, graph: dict) -> Attempt:
    every_n = every_n_of(graph)
    columns = {header: metric_samples(graph, slug) for slug, header in SERIES.items()}
    length = max((len(v) for v in columns.values() if v is not None), default=0)
    seconds = graph.get("seconds_since_pedaling_start")
    second = every_n * np.arange(1, length + 1, dtype="float64")  # evenly spaced, unless the graph says better
    if isinstance(seconds, list) and len(seconds) == length:
        given = pd.to_numeric(pd.Series(seconds, dtype="object"), errors="coerce").to_numpy("float64")
        if np.isfinite(given).all() and (np.diff(given) > 0).all():  # a time axis only if it is one
            second = given
    frame = pd.DataFrame({SECOND: second})
    for header, values in columns.items():
        if values is not None:
            frame[header] = np.pad(values, (0, length - len(values)), constant_values=np.nan)
    return Attempt(workout["id"], local_start(workout), every_n, frame, total_output_kj(workout, graph))


def _segments(graph: dict) -> pd.DataFrame:
    rows = []
    for segment in graph.get("segment_list") or []:
        if not isinstance(segment, dict):
            continue
        offset, length = segment.get("start_time_offset"), segment.get("length")
        if isinstance(offset, (int, float)) and isinstance(length, (int, float)):
            rows.append(
                [str(segment.get("name") or segment.get("icon_name") or "Segment"), int(offset), int(offset + length)]
            )
    return pd.DataFrame(rows, columns=["Segment", "From (s)", "To (s)"])


def rides_to_read(summaries: Iterable[tuple[Any, Any]], workout_id: str | None = None) -> set[str]:
    """The ids `ride_view` may need, found from graphs without their samples (as
    `WorkoutStore.records(samples=False)` yields them): the ride to show (`workout_id`, else the most
    recent Bike ride with a graph) and the other rides of its class. Reading only these keeps a long
    history's samples out of memory."""
    candidates = [
        (w["id"], float(w.get("start_time") or 0), ride_of(w).get("id"))
        for w, g in summaries
        if isinstance(w, dict)
        and isinstance(g, dict)
        and is_bike(w)
        and isinstance(w.get("id"), str)
        and _has_output(g)  # as ride_view needs: a ride imported from the CSV has no series
    ]
    return _chosen_rides(candidates, workout_id)


def rides_to_read_from_rows(rows: Iterable[tuple[str, dict[str, Any]]], workout_id: str | None = None) -> set[str]:
    """rides_to_read from the store's "rows" records ((workout id, `tables.row_record`))."""
    candidates = [
        (wid, row["ride"]["start"] or 0.0, row["ride"]["id"])
        for wid, row in rows
        if row["ride"]["bike"] and row["ride"]["graph"]
    ]
    return _chosen_rides(candidates, workout_id)


def _chosen_rides(candidates: list[tuple[str, float, Any]], workout_id: str | None) -> set[str]:
    """(id, start time, class id) of the Bike rides with a graph -> the ride to show and its class's others."""
    candidates.sort(key=lambda c: c[1], reverse=True)
    chosen = next((c for c in candidates if workout_id is None or c[0] == workout_id), None)
    if chosen is None:
        return set()
    if chosen[2] in (None, ZERO_RIDE_ID):
        return {chosen[0]}
    return {c[0] for c in candidates if c is chosen or c[2] == chosen[2]}


def _has_output(graph: dict) -> bool:
    """The graph lists an output series (its samples may have been left out)."""
    return any(isinstance(m, dict) and m.get("slug") == "output" for m in graph.get("metrics") or [])


def ride_view(records: Iterable[tuple[Any, Any]], workout_id: str | None = None) -> RideView | None:
    """The Ride sheet's content for `workout_id` (default: the most recent Bike ride with a graph);
    None when there is no such ride."""
    rides = [
        (w, g)
        for w, g in records
        if isinstance(w, dict)
        and isinstance(g, dict)
        and is_bike(w)
        and isinstance(w.get("id"), str)
        and metric_samples(g, "output") is not None
    ]
    rides.sort(key=lambda pair: float(pair[0].get("start_time") or 0), reverse=True)
    chosen = next((pair for pair in rides if workout_id is None or pair[0]["id"] == workout_id), None)
    if chosen is None:
        return None
    workout, graph = chosen
    ride = ride_of(workout)
    ride_id = ride.get("id") if ride.get("id") not in (None, ZERO_RIDE_ID) else None
    started = float(workout.get("start_time") or 0)
    earlier = [
        pair
        for pair in rides
        if ride_id and ride_of(pair[0]).get("id") == ride_id and float(pair[0].get("start_time") or 0) < started
    ][:PREVIOUS_ATTEMPTS]
    instructor = ride_of(workout).get("instructor")
    return RideView(
        workout["id"],
        str(ride.get("title") or workout.get("title") or workout.get("name") or "Ride"),
        instructor.get("name") if isinstance(instructor, dict) else None,
        local_start(workout),
        _attempt(workout, graph),
        [_attempt(w, g) for w, g in earlier],
        _segments(graph),
    )
