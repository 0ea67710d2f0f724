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

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from pelotonxl.model.catalog import (
    DEVICE_NAMES,
    DISCIPLINE_NAMES,
    NO_CLASS_LABELS,
    PACE_SLUGS,
    SLUG_ALIASES,
    STATUS_NAMES,
    ZERO_RIDE_ID,
    MetricKey,
    column_header,
    column_order,
    metric_format,
    metric_name,
    pace_seconds,
    unit_label,
)
from pelotonxl.model.table_frames import (
    DATE_FORMAT,
    DURATION_FORMAT,
    typed_frame,
    widths,
)

log = logging.getLogger(__name__)
Record = tuple[dict, "dict | None"]

# A workout started this close to the class's air time was taken live.
LIVE_WINDOW_SECONDS = 15 * 60


WORKOUT_FORMATS = {
    "Start": DATE_FORMAT,
    "Class Length (min)": "0",
    "Duration": DURATION_FORMAT,
    "Total Output (kJ)": "0.0",
    "Class Aired": DATE_FORMAT,
    "Difficulty": "0.0",
    "Effort Points": "0.0",
}
WORKOUT_COLUMNS = (
    "Workout ID",
    "Start",
    "Time Zone",
    "Discipline",
    "Class Title",
    "Instructor",
    "Class Length (min)",
    "Duration",
    "Live/On-demand",
    "Total Output (kJ)",
    "Personal Record",
    "Device",
    "Status",
    "Class Aired",
    "Difficulty",
    "Workout Type",
    "Outdoor",
    "Effort Points",
)
# Columns earlier versions wrote: still the refresh's, so a workbook that has one loses it rather
# than keeping it as if the member had added it (Platform: the same device as Device, unreadable).
RETIRED_WORKOUT_COLUMNS = ("Platform",)
METRIC_LEAD_COLUMNS = ("Workout ID", "Start", "Discipline")


@dataclass
class SheetTable:
    name: str  # sheet name and Excel Table name
    frame: pd.DataFrame  # display-ordered columns; first column "Workout ID"
    number_formats: dict[str, str]  # column -> Excel number format code
    widths: dict[str, float]  # column -> column width in characters
    # (slug, unit) -> the column holding that metric: how code finds a metric, not by its header.
    metric_columns: dict[MetricKey, str] = field(default_factory=dict)


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
    return {
        "Workout ID": _text(workout.get("id")),
        "Start": _local(start, zone),
        "Time Zone": zone_name,
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
    rows = [_workout_row(w, g) for w, g in _prepare(records)]
    frame = typed_frame(
        rows,
        WORKOUT_COLUMNS,
        dates=("Start", "Class Aired"),
        durations=("Duration",),
        flags=("Personal Record", "Outdoor"),
        numbers=("Class Length (min)", "Total Output (kJ)", "Difficulty", "Effort Points"),
    )
    return SheetTable("Workouts", frame, dict(WORKOUT_FORMATS), widths(frame, WORKOUT_FORMATS))


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


def _metric_values(
    workout: dict, graph: dict | None, seen_names: dict[str, str], seen_units: dict[str, Counter]
) -> dict[MetricKey, float]:
    """One workout's summaries, averages and heart rate, keyed by (slug, unit).

    Records each slug's first display name in `seen_names` and counts its units in `seen_units`.
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
    for slug, unit in values:
        if slug not in seen_units:
            seen_units[slug] = Counter()
        seen_units[slug][unit] += 1
    return values


def metric_values(workout: dict, graph: dict | None) -> dict[str, float]:
    """One workout's metrics by canonical slug (the keys of metric_catalog), for the UDFs: the
    numbers the Metrics row holds, a pace as Excel holds it (a fraction of a day: 8:28 is 508/86400)."""
    values: dict[str, float] = {}
    keyed = _metric_values(workout, graph if isinstance(graph, dict) else None, {}, {})
    for (slug, _unit), value in keyed.items():
        values.setdefault(slug, pace_seconds(value) / 86400 if slug in PACE_SLUGS else value)
    return values


def _metric_pass(pairs: list[Record]) -> tuple[list[dict[MetricKey, float]], dict[str, str], dict[str, Counter]]:
    """Every workout's metric values, plus the display names and units seen across them."""
    seen_names: dict[str, str] = {}
    seen_units: dict[str, Counter] = {}
    values = [_metric_values(w, g, seen_names, seen_units) for w, g in pairs]
    return values, seen_names, seen_units


def metrics_frame(records: Iterable[tuple[dict, dict | None]]) -> SheetTable:
    pairs = _prepare(records)
    per_workout, seen_names, _ = _metric_pass(pairs)
    keys = sorted({key for values in per_workout for key in values}, key=column_order)
    headers: dict[MetricKey, str] = {}
    taken = set(METRIC_LEAD_COLUMNS)
    for key in keys:
        header = column_header(metric_name(key[0], seen_names), key[1])
        if header in taken:  # an unknown slug reusing a known name: keep headers unique
            header = f"{header} [{key[0]}]"
        headers[key] = header
        taken.add(header)
    rows = []
    for (workout, _), values in zip(pairs, per_workout, strict=False):
        row: dict[str, Any] = {
            "Workout ID": _text(workout.get("id")),
            "Start": local_start(workout),
            "Discipline": _readable(_discipline(workout, ride_of(workout)), DISCIPLINE_NAMES),
        }
        row.update(
            (headers[key], timedelta(seconds=pace_seconds(value)) if key[0] in PACE_SLUGS else value)
            for key, value in values.items()
        )
        rows.append(row)
    columns = [*METRIC_LEAD_COLUMNS, *headers.values()]
    paces = tuple(headers[key] for key in keys if key[0] in PACE_SLUGS)
    frame = typed_frame(
        rows, columns, dates=("Start",), durations=paces, numbers=tuple(h for h in headers.values() if h not in paces)
    )
    formats = {"Start": DATE_FORMAT, **{headers[key]: metric_format(key) for key in keys}}
    return SheetTable("Metrics", frame, formats, widths(frame, formats), headers)


def metric_catalog(records: Iterable[tuple[dict, dict | None]]) -> dict[str, tuple[str, str | None]]:
    """slug -> (display name, unit) of every metric seen in the account.

    A slug seen in several units (a bike's distance in mi, a row's in m) gets its most
    common unit. Includes "avg_heart_rate", "max_heart_rate" and "hr_zone_1".."hr_zone_5"
    when any workout has them. Keyed by the canonical slug ("calories", not "total_calories").
    """
    _, seen_names, seen_units = _metric_pass(_prepare(records))
    return {
        slug: (metric_name(slug, seen_names), units.most_common(1)[0][0])
        for slug, units in sorted(seen_units.items(), key=lambda item: column_order((item[0], None)))
    }


def build_tables(records: Iterable[tuple[dict, dict | None]]) -> list[SheetTable]:
    """[Workouts, Metrics] for the workbook, both sorted newest first."""
    pairs = _prepare(records)
    _warn_unknown_zones(pairs)
    return [workouts_frame(pairs), metrics_frame(pairs)]


def _warn_unknown_zones(pairs: list[Record]) -> None:
    """Say once that some times are shown in UTC because their zone is unknown here; -v names them."""
    unknown = [
        (_text(w.get("id")), name) for w, _ in pairs if (name := _text(w.get("timezone"))) and _zone(name)[1] != name
    ]
    if not unknown:
        return
    names = sorted({name for _, name in unknown})
    log.warning(
        "%d workouts have a time zone this computer does not know (%s%s): their times are "
        "shown in UTC (-v lists them).",
        len(unknown),
        ", ".join(names[:3]),
        ", …" if len(names) > 3 else "",
    )
    for wid, name in unknown:
        log.info("workout %s: unknown time zone %r, shown in UTC", wid, name[:60])
