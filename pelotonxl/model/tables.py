"""Flatten the stored raw Peloton JSON into the two tables the workbook shows.

Input: `(workout, graph)` pairs, where `workout` is one list item of
`/api/user/{id}/workouts?joins=ride,ride.instructor` and `graph` is that workout's
`/api/workout/{id}/performance_graph` payload or None. Peloton's JSON is undocumented and
uneven, so every field is read defensively: a missing key, a null, or a string where a
number belongs turns into a blank cell, never an exception.

Choices worth knowing:
- Dates are naive datetimes in the workout's own time zone (UTC when the zone is unknown);
  the "Time Zone" column names the zone actually used.
- Blank cells are pandas' missing values: NaN in text and number columns, NaT in times.
- A workout without a class (Just Ride / scenic, ride id of zeros, or no ride at all) has an
  empty Instructor; its "Live/On-demand" cell says "Just Ride" ("Just Run", ...).
- Total Output of 0 kJ is shown blank: Peloton reports 0 for workouts that measure no output.
- One value per quantity: Total Output comes from the workout's `total_work` (joules, to 0.01 J)
  on both sheets, in the Dashboard and in the worksheet functions; the graph's `total_output`
  summary is that number rounded to whole kJ, used only when a workout lacks `total_work`.
- A distance ride's `duration` summary gives way to the workout's own end - start, in minutes.
- Paces (`avg_pace`, `avg_split_pace`) are durations (whole seconds), shown as m:ss.
- Workout Type says whether a class was taken ("Class") or not ("Freestyle": Just Ride, Just Run...),
  from the same test as the Live/On-demand column, so the two always agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pelotonxl.model.catalog import (
    DEVICE_NAMES,
    DISCIPLINE_NAMES,
    NO_CLASS_LABELS,
    SLUG_ALIASES,
    STATUS_NAMES,
    ZERO_RIDE_ID,
    MetricKey,
    unit_label,
)
from pelotonxl.model.table_frames import (
    DATE_CELLS,
    METRIC_LEAD_COLUMNS,
    RETIRED_WORKOUT_COLUMNS,
    WORKOUT_COLUMNS,
    WORKOUT_FORMATS,
    SheetTable,
)
from pelotonxl.model.table_rows import (
    metrics_table,
    row_catalog,
    row_metric_values,
    sorted_rows,
    tables_from_rows,
    workouts_table,
)
from pelotonxl.model.workbook import ID_COLUMN

# The assembly from row records lives in table_rows; its names are part of this module's interface.
__all__ = [
    "METRIC_LEAD_COLUMNS",
    "RETIRED_WORKOUT_COLUMNS",
    "WORKOUT_COLUMNS",
    "WORKOUT_FORMATS",
    "SheetTable",
    "build_tables",
    "is_bike",
    "local_start",
    "metric_catalog",
    "metric_values",
    "metrics_frame",
    "metrics_table",
    "row_catalog",
    "row_metric_values",
    "row_record",
    "sorted_rows",
    "tables_from_rows",
    "total_output_kj",
    "workouts_frame",
    "workouts_table",
]
Record = tuple[dict, "dict | None"]

# A workout started this close to the class's air time was taken live.
LIVE_WINDOW_SECONDS = 15 * 60


# ---- reading raw JSON defensively -------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite float from a number or numeric string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _prepare(records: Iterable[tuple[Any, Any]]) -> list[Record]:
    """Keep well-formed pairs, newest first; workouts without a start time go last."""
    keyed = []
    for workout, graph in records:
        if isinstance(workout, dict):
            start = _number(workout.get("start_time"))
            keyed.append(((start is not None, start or 0.0), (workout, graph if isinstance(graph, dict) else None)))
    keyed.sort(key=lambda item: item[0], reverse=True)
    return [pair for _, pair in keyed]


# ---- time --------------------------------------------------------------------------------


@cache
def _zone(name: str | None) -> tuple[tzinfo, str]:
    """The zone named by a workout's `timezone`, and the name to show; UTC if unknown."""
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return timezone.utc, "UTC"


def _local(epoch: Any, zone: tzinfo) -> datetime | None:
    seconds = _number(epoch)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, zone).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def iso_week(day: datetime | None) -> str | None:
    """The ISO 8601 week of a (local) start, as text that sorts: "2026-W49" (Monday to Sunday; the
    first week of a year is the one with its first Thursday)."""
    if day is None:
        return None
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def local_start(workout: dict) -> datetime | None:
    """A workout's start as a naive datetime in its own time zone: the Start column's value."""
    return _local(workout.get("start_time"), _zone(_text(workout.get("timezone")))[0])


# ---- Workouts ----------------------------------------------------------------------------


def _readable(slug: str | None, names: dict[str, str]) -> str | None:
    if not slug:
        return None
    return names.get(slug.lower()) or slug.replace("_", " ").strip().title()


def ride_of(workout: dict) -> dict:
    """The workout's class ({} when it has none)."""
    # Some payloads carry the class only under `peloton.ride`.
    return _dict(workout.get("ride")) or _dict(_dict(workout.get("peloton")).get("ride"))


def _discipline(workout: dict, ride: dict) -> str:
    """The fitness_discipline slug, lower case ("" when unknown)."""
    slug = _text(workout.get("fitness_discipline")) or _text(ride.get("fitness_discipline"))
    return (slug or "").lower()


def is_bike(workout: dict) -> bool:
    """A Bike workout (Just Ride included): the workout's own discipline, else its class's."""
    discipline = workout.get("fitness_discipline")
    if not isinstance(discipline, str):
        discipline = ride_of(workout).get("fitness_discipline")
    return isinstance(discipline, str) and discipline.lower() == "cycling"


def _instructor(workout: dict, ride: dict) -> str | None:
    """The instructor's name; `peloton.ride` has it when `ride` was joined without it."""
    name = _text(_dict(ride.get("instructor")).get("name"))
    if name is None:
        other = _dict(_dict(workout.get("peloton")).get("ride"))
        if other.get("id") == ride.get("id"):
            name = _text(_dict(other.get("instructor")).get("name"))
    # Just Ride and scenic rides name a pseudo-instructor.
    return None if name is None or name.upper() == "JUST RIDE" else name


def _class_mode(workout: dict, ride: dict, has_class: bool, discipline: str | None) -> str | None:
    if not has_class:
        return NO_CLASS_LABELS.get(discipline or "", "No Class")
    start, aired = _number(workout.get("start_time")), _number(ride.get("original_air_time"))
    if start is None or aired is None:
        return None
    return "Live" if abs(start - aired) <= LIVE_WINDOW_SECONDS else "On-demand"


def total_output_kj(workout: dict, graph: dict | None) -> float | None:
    """The workout's Total Output in kJ, the one value every sheet, the Dashboard and PELOTON_METRIC
    show: `total_work` (J) to 0.1 kJ. The graph's `total_output` summary is the same figure rounded
    to whole kJ (117051.3 J -> 117), so it stands in only when `total_work` is missing. None for 0:
    Peloton reports 0 for workouts that measure no output; None for text, which sync names as left blank."""
    if workout.get("total_work") is not None:  # unreadable text stays blank, as the refresh reports it
        joules = _number(workout.get("total_work"))
        return round(joules / 1000, 1) if joules else None
    for item in map(_dict, _list(_dict(graph).get("summaries"))):
        if item.get("slug") == "total_output" and (kj := _number(item.get("value"))):
            return kj
    return None


def _device(workout: dict) -> str | None:
    """One readable device name: `device_type` (the model), else `platform` (the family), else
    Peloton's own `device_type_display_name`."""
    for key in ("device_type", "platform"):
        slug = _text(workout.get(key))
        if slug and slug.lower() in DEVICE_NAMES:
            return DEVICE_NAMES[slug.lower()]
    return _text(workout.get("device_type_display_name")) or _readable(
        _text(workout.get("device_type")) or _text(workout.get("platform")), {}
    )


def _workout_row(workout: dict, graph: dict | None) -> dict[str, Any]:
    zone, zone_name = _zone(_text(workout.get("timezone")))
    ride = ride_of(workout)
    ride_id = _text(ride.get("id"))
    has_class = bool(ride_id) and ride_id != ZERO_RIDE_ID
    discipline = _discipline(workout, ride)
    instructor = _instructor(workout, ride) if has_class else None
    own_title = _text(workout.get("title")) or _text(workout.get("name"))
    class_title = _text(ride.get("title"))
    title = (class_title or own_title) if has_class else (own_title or class_title)
    start, end = _number(workout.get("start_time")), _number(workout.get("end_time"))
    class_seconds = _number(ride.get("duration"))
    effort = _number(_dict(workout.get("effort_zones")).get("total_effort_points"))
    if effort is None and graph:
        effort = _number(_dict(graph.get("effort_zones")).get("total_effort_points"))
    local = _local(start, zone)
    return {
        ID_COLUMN: _text(workout.get("id")),
        "Start": local,
        "Time Zone": zone_name,
        "Start (UTC)": _local(start, timezone.utc),
        "ISO Week": iso_week(local),
        "Discipline": _readable(discipline, DISCIPLINE_NAMES),
        "Class Title": title,
        "Instructor": instructor,
        "Class Length (min)": class_seconds / 60 if class_seconds and has_class else None,
        "Duration": timedelta(seconds=end - start) if start and end and end >= start else None,
        "Live/On-demand": _class_mode(workout, ride, has_class, discipline),
        "Total Output (kJ)": total_output_kj(workout, graph),
        "Personal Record": workout.get("is_total_work_personal_record") is True,
        "Device": _device(workout),
        "Status": _readable(_text(workout.get("status")), STATUS_NAMES),
        "Class Aired": _local(ride.get("original_air_time"), zone) if has_class else None,
        "Difficulty": _number(ride.get("difficulty_rating_avg")) if has_class else None,
        "Workout Type": "Class" if has_class else "Freestyle",
        "Outdoor": workout.get("is_outdoor") is True,
        "Effort Points": effort,
    }


def workouts_frame(records: Iterable[tuple[dict, dict | None]]) -> SheetTable:
    return workouts_table([row_record(w, g) for w, g in _prepare(records)])


# ---- the per-workout record (kept in the store, see model/derived.py) ----------------------------


def row_record(workout: dict, graph: dict | None) -> dict[str, Any]:
    """Everything the two tables, the worksheet functions and the Ride sheet's choice read from one
    workout, as JSON-ready values: its Workouts cells ("w"; times as ISO text, Duration in seconds),
    its metric values in order ("m": [slug, unit, value]), the display names it names ("n"), its sort
    key ("o"), an unknown time zone ("tz") and what picks the Ride sheet's ride ("ride")."""
    graph = graph if isinstance(graph, dict) else None
    cells = _workout_row(workout, graph)
    for column in DATE_CELLS:
        cells[column] = cells[column].isoformat() if cells[column] is not None else None
    cells["Duration"] = cells["Duration"].total_seconds() if cells["Duration"] is not None else None
    names: dict[str, str] = {}
    values = _metric_values(workout, graph, names)
    start = _number(workout.get("start_time"))
    zone = _text(workout.get("timezone"))
    workout_ride = ride_of(workout)
    return {
        "w": cells,
        "m": [[slug, unit, value] for (slug, unit), value in values.items()],
        "n": names,
        "o": [start is not None, start or 0.0],
        "tz": zone if zone and _zone(zone)[1] != zone else None,
        "ride": {
            "bike": is_bike(workout),
            "id": workout_ride.get("id") if isinstance(workout_ride.get("id"), str) else None,  # as ride_view
            "graph": graph is not None,
            "start": start,
        },
    }


# ---- Metrics -----------------------------------------------------------------------------


def _unit(value: Any) -> str | None:
    return unit_label(_text(value))


def _zone_number(zone: dict, index: int) -> int:
    digits = re.findall(r"\d+", f"{zone.get('slug') or ''} {zone.get('display_name') or ''}")
    return int(digits[0]) if digits else index + 1


def _heart_rate(workout: dict, graph: dict) -> dict[MetricKey, float]:
    """Average/max heart rate and minutes per zone: there is no heart-rate summary."""
    values: dict[MetricKey, float] = {}
    metric = next((m for m in map(_dict, _list(graph.get("metrics"))) if m.get("slug") == "heart_rate"), {})
    for slug, source in (("avg_heart_rate", "average_value"), ("max_heart_rate", "max_value")):
        bpm = _number(metric.get(source))
        if bpm:  # 0 bpm means no monitor was worn
            values[(slug, "bpm")] = bpm
    zones = {
        _zone_number(z, i): _number(z.get("duration")) for i, z in enumerate(map(_dict, _list(metric.get("zones"))))
    }
    if not zones:
        durations = _dict(_dict(graph.get("effort_zones")).get("heart_rate_zone_durations")) or _dict(
            _dict(workout.get("effort_zones")).get("heart_rate_zone_durations")
        )
        zones = {int(m.group(1)): _number(v) for k, v in durations.items() if (m := re.search(r"z(\d+)", str(k)))}
    for number, seconds in zones.items():
        if seconds is not None and 1 <= number <= 5:
            values[(f"hr_zone_{number}", "min")] = seconds / 60
    return values


def _metric_values(workout: dict, graph: dict | None, seen_names: dict[str, str]) -> dict[MetricKey, float]:
    """One workout's summaries, averages and heart rate, keyed by (slug, unit).

    Records each slug's first display name in `seen_names`.
    """
    values: dict[MetricKey, float] = {}
    graph = graph or {}
    items = list(map(_dict, _list(graph.get("summaries")) + _list(graph.get("average_summaries"))))
    # Real slugs first, so a real `calories` beats the watch's `total_calories`.
    for aliases_pass in (False, True):
        for item in items:
            raw_slug = _text(item.get("slug"))
            value = _number(item.get("value"))
            if not raw_slug or value is None or (raw_slug in SLUG_ALIASES) != aliases_pass:
                continue
            slug = SLUG_ALIASES.get(raw_slug, raw_slug)
            if aliases_pass and any(key[0] == slug for key in values):
                continue
            values.setdefault((slug, _unit(item.get("display_unit"))), value)
            seen_names.setdefault(slug, _text(item.get("display_name")) or slug.replace("_", " ").title())
    kj = total_output_kj(workout, graph)
    for key in [k for k in values if k[0] == "total_output"]:
        del values[key]
    if kj is not None:
        values[("total_output", "kJ")] = kj
        seen_names.setdefault("total_output", "Total Output")
    # A distance ride's `duration` summary repeats the workout's length: the Workouts Duration (end - start)
    # is the one value, here in minutes.
    start, end = _number(workout.get("start_time")), _number(workout.get("end_time"))
    if start and end and end >= start:
        for key in [k for k in values if k[0] == "duration"]:
            del values[key]
            values[("duration", "min")] = (end - start) / 60
    values.update(_heart_rate(workout, graph))
    return values


def metric_values(workout: dict, graph: dict | None) -> dict[str, float]:
    """One workout's metrics by canonical slug (the keys of metric_catalog), for the UDFs: the
    numbers the Metrics row holds, a pace as Excel holds it (a fraction of a day: 8:28 is 508/86400)."""
    return row_metric_values(row_record(workout, graph))


def metrics_frame(records: Iterable[tuple[dict, dict | None]]) -> SheetTable:
    return metrics_table([row_record(w, g) for w, g in _prepare(records)])


def metric_catalog(records: Iterable[tuple[dict, dict | None]]) -> dict[str, tuple[str, str | None]]:
    """slug -> (display name, unit) of every metric seen in the account.

    A slug seen in several units (a bike's distance in mi, a row's in m) gets its most
    common unit. Includes "avg_heart_rate", "max_heart_rate" and "hr_zone_1".."hr_zone_5"
    when any workout has them. Keyed by the canonical slug ("calories", not "total_calories").
    """
    return row_catalog([row_record(w, g) for w, g in _prepare(records)])


def build_tables(records: Iterable[tuple[dict, dict | None]]) -> list[SheetTable]:
    """[Workouts, Metrics] for the workbook, both sorted newest first."""
    return tables_from_rows([row_record(w, g) for w, g in _prepare(records)])
