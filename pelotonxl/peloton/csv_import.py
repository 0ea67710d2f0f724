"""The website's "Download Workouts" CSV (shared notes, section 6), read into workouts the store keeps.

A way in when no sign-in works: one row per workout, no workout id, summary figures only. Each row
becomes a workout shaped like the API's list item (and a graph holding only its summaries), so every
sheet shows it as it shows any other, marked by its Status ("From CSV") and an id of its own: `csv-`
and a hash of what makes the workout itself (start minute, discipline, class title), so importing the
same file again finds the same ids. When the API later lists the same workout, the store swaps the
CSV's row for the API's (`match_key` says which; `WorkoutStore.save_workouts` does it).

Read defensively: the units in the header follow the member's settings (mi or km), timestamps carry
a zone abbreviation (`2020-01-30 09:30 (CDT)`), resistance a `%`, and an empty cell means "not
measured". A row that cannot be read is named (file, line, column) and left out; a number that cannot
be read leaves its cell blank and is named too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelotonxl.errors import ConfigError
from pelotonxl.model.catalog import DISCIPLINE_NAMES, ZERO_RIDE_ID

CSV_ID_PREFIX = "csv-"
CSV_STATUS = "FROM_CSV"  # the Status column shows "From CSV" (catalog.STATUS_NAMES)
MAX_BYTES = 64 * 2**20  # a lifetime of workouts is a few MB; anything far larger is not this file

# Zone abbreviations Peloton's CSV writes, as hours east of UTC, and a zone that uses them; a row's
# Time Zone is that zone when its offset at that moment agrees, else a fixed offset (Etc/GMT…). A zone's
# standard and daylight abbreviations share a line.
ZONES: dict[str, tuple[float, str]] = {
    "UTC": (0, "UTC"),
    "GMT": (0, "Europe/London"), "BST": (1, "Europe/London"),
    "IST": (1, "Europe/Dublin"),
    "WET": (0, "Europe/Lisbon"), "WEST": (1, "Europe/Lisbon"),
    "CET": (1, "Europe/Berlin"), "CEST": (2, "Europe/Berlin"),
    "EET": (2, "Europe/Helsinki"), "EEST": (3, "Europe/Helsinki"),
    "NST": (-3.5, "America/St_Johns"), "NDT": (-2.5, "America/St_Johns"),
    "AST": (-4, "America/Halifax"), "ADT": (-3, "America/Halifax"),
    "EST": (-5, "America/New_York"), "EDT": (-4, "America/New_York"),
    "CST": (-6, "America/Chicago"), "CDT": (-5, "America/Chicago"),
    "MST": (-7, "America/Denver"), "MDT": (-6, "America/Denver"),
    "PST": (-8, "America/Los_Angeles"), "PDT": (-7, "America/Los_Angeles"),
    "AKST": (-9, "America/Anchorage"), "AKDT": (-8, "America/Anchorage"),
    "HST": (-10, "Pacific/Honolulu"),
    "AWST": (8, "Australia/Perth"),
    "JST": (9, "Asia/Tokyo"),
    "ACST": (9.5, "Australia/Adelaide"), "ACDT": (10.5, "Australia/Adelaide"),
    "AEST": (10, "Australia/Sydney"), "AEDT": (11, "Australia/Sydney"),
    "NZST": (12, "Pacific/Auckland"), "NZDT": (13, "Pacific/Auckland"),
}  # fmt: skip
TIMESTAMP = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2})(?::\d{2})?\s*(?:\(([^()]*)\))?\s*$")
OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")
DISCIPLINES = {name.casefold(): slug for slug, name in DISCIPLINE_NAMES.items()} | {
    "row": "caesar",
    "bootcamp": "bike_bootcamp",
}

# Header (as it starts: the units in brackets follow the member's settings) -> what the row gives.
REQUIRED = ("Workout Timestamp", "Fitness Discipline", "Title")
SUMMARIES = (  # header start, slug, display name, unit (None: the unit in the header's brackets)
    ("Total Output", "total_output", "Total Output", "kj"),
    ("Distance (", "distance", "Distance", None),
    ("Calories Burned", "calories", "Calories", "kcal"),
)
AVERAGES = (
    ("Avg. Watts", "avg_output", "Avg Output", "watts"),
    ("Avg. Cadence", "avg_cadence", "Avg Cadence", "rpm"),
    ("Avg. Resistance", "avg_resistance", "Avg Resistance", "%"),
    ("Avg. Speed (", "avg_speed", "Avg Speed", None),
    ("Avg. Incline", "avg_incline", "Avg Incline", "%"),
    ("Avg. Pace (", "avg_pace", "Avg Pace", None),
)


@dataclass
class Imported:
    """What one file gave: workouts with their summary-only graphs, and what could not be read."""

    records: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file, line 7, column Title: …", one per finding
    rows: int = 0  # data rows read (blank lines aside)


class _RowError(ValueError):
    def __init__(self, column: str, why: str) -> None:
        super().__init__(why)
        self.column = column


def read_csv(path: Path) -> Imported:
    """Every readable row of the website's workout CSV at `path`. A file that is not that CSV at all
    (missing, unreadable, without its header) raises ConfigError in one line."""
    path = Path(path).expanduser()
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{path} is {path.stat().st_size // 2**20} MB: not Peloton's workout CSV.")
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"Cannot read the CSV {path} ({err.strerror}): check the file name.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", "replace")  # saved again by Excel on Windows
    return parse_csv(text, path.name)


def parse_csv(text: str, name: str) -> Imported:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    columns = {h.strip(): i for i, h in enumerate(header or [])}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ConfigError(
            f"{name}, line 1: no {missing[0]} column, so this is not the CSV of Peloton's "
            "Download Workouts (Workouts page of the Peloton website): download it again."
        )
    result = Imported()
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        cells = {h: row[i].strip() if i < len(row) else "" for h, i in columns.items()}
        notes: list[str] = []
        try:
            workout, graph = _record(cells, notes)
        except _RowError as err:
            result.problems.append(f"{name}, line {line}, column {err.column}: {err} (row left out)")
            continue
        result.problems.extend(f"{name}, line {line}, {note}" for note in notes)
        if workout["id"] in seen:  # the same workout twice in one file: the later row counts
            result.records[seen[workout["id"]]] = (workout, graph)
            continue
        seen[workout["id"]] = len(result.records)
        result.records.append((workout, graph))
    return result


def match_key(workout: dict[str, Any]) -> tuple[int, str, str] | None:
    """What makes two records one workout: the start minute, the discipline and the class title
    (a Just Ride and the like has no class: its minute and discipline suffice). None without a start."""
    start = _number(workout.get("start_time"))
    if start is None:
        return None
    raw = workout.get("ride")
    ride: dict[str, Any] = raw if isinstance(raw, dict) else {}
    discipline = str(workout.get("fitness_discipline") or ride.get("fitness_discipline") or "").casefold()
    has_class = bool(ride.get("id")) and ride.get("id") != ZERO_RIDE_ID
    title = " ".join(str(ride.get("title") or "").casefold().split()) if has_class else ""
    return int(start // 60), discipline, title


def is_imported(workout_id: str) -> bool:
    return workout_id.startswith(CSV_ID_PREFIX)


def skip_known(records: Iterable[tuple[dict[str, Any], dict[str, Any]]], known: set[tuple[int, str, str]]) -> list:
    """The records whose workout the store does not hold already from the API."""
    return [(w, g) for w, g in records if match_key(w) not in known]


# ---- one row ---------------------------------------------------------------------------------------


def _record(cells: dict[str, str], notes: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    start, zone = _timestamp(cells, "Workout Timestamp", required=True)
    assert start is not None
    discipline_text = cells.get("Fitness Discipline", "")
    if not discipline_text:
        raise _RowError("Fitness Discipline", "empty")
    discipline = DISCIPLINES.get(discipline_text.casefold(), "_".join(discipline_text.casefold().split()))
    title = cells.get("Title", "")
    if not title:
        raise _RowError("Title", "empty")
    aired = _timestamp(cells, "Class Timestamp", required=False)[0] if cells.get("Class Timestamp") else None
    minutes = _value(cells, "Length (minutes)", notes)
    instructor = cells.get("Instructor Name") or None
    freestyle = cells.get("Type", "").casefold().startswith("just ") or (instructor is None and aired is None)
    ride_id = ZERO_RIDE_ID if freestyle else hashlib.sha1(f"{discipline}|{title}|{aired}".encode()).hexdigest()[:32]
    workout: dict[str, Any] = {
        "start_time": start,
        "created_at": start,
        "end_time": start + int(minutes * 60) if minutes else start,
        "timezone": zone,
        "status": CSV_STATUS,
        "fitness_discipline": discipline,
        "title": title,
        "name": cells.get("Type") or None,
        "is_total_work_personal_record": False,
        "ride": {
            "id": ride_id,
            "title": title,
            "fitness_discipline": discipline,
            "duration": int(minutes * 60) if minutes else None,
            "original_air_time": aired,
            "instructor": {"name": instructor} if instructor and not freestyle else None,
        },
    }
    key = match_key(workout)
    workout["id"] = CSV_ID_PREFIX + hashlib.sha1(repr(key).encode()).hexdigest()[:28]
    graph: dict[str, Any] = {"summaries": [], "average_summaries": [], "metrics": [], "source": "csv"}
    for kind, table in (("summaries", SUMMARIES), ("average_summaries", AVERAGES)):
        for start_of_header, slug, name, unit in table:
            header = next((h for h in cells if h.startswith(start_of_header)), None)
            value = _value(cells, header, notes) if header else None
            if header is not None and value is not None:
                graph[kind].append(
                    {"display_name": name, "display_unit": unit or _bracketed(header), "value": value, "slug": slug}
                )
    output = next((s["value"] for s in graph["summaries"] if s["slug"] == "total_output"), None)
    workout["total_work"] = round(output * 1000, 2) if output else None
    heart_rate = _value(cells, "Avg. Heartrate", notes)
    if heart_rate:
        graph["metrics"].append(
            {"display_name": "Heart Rate", "display_unit": "bpm", "slug": "heart_rate", "average_value": heart_rate}
        )
    return workout, graph


def _timestamp(cells: dict[str, str], column: str, *, required: bool) -> tuple[int | None, str]:
    """Epoch seconds and the zone to show, from `2020-01-30 09:30 (CDT)`."""
    text = cells.get(column, "")
    match = TIMESTAMP.match(text)
    if not match:
        if not text and not required:
            return None, "UTC"
        raise _RowError(column, f"{text[:40]!r} is not a date and time like 2020-01-30 09:30 (CDT)")
    local = datetime.strptime(match.group(1).replace("T", " "), "%Y-%m-%d %H:%M")
    hours, zone = _zone(match.group(2), column)
    epoch = int((local - timedelta(hours=hours)).replace(tzinfo=timezone.utc).timestamp())
    if zone is None or datetime.fromtimestamp(epoch, ZoneInfo(zone)).utcoffset() != timedelta(hours=hours):
        # Etc/GMT+5 is five hours *behind* UTC (POSIX signs); a half hour has no such zone: UTC then.
        zone = f"Etc/GMT{-int(hours):+d}" if hours != 0 and float(hours).is_integer() else "UTC"
    return epoch, zone


def _zone(abbreviation: str | None, column: str) -> tuple[float, str | None]:
    if not abbreviation or not abbreviation.strip():
        return 0, "UTC"  # no zone said: read as UTC rather than guess
    word = abbreviation.strip().upper()
    if word in ZONES:
        return ZONES[word]
    match = OFFSET.match(word)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours = sign * (int(match.group(2)) + int(match.group(3) or 0) / 60)
        if abs(hours) <= 14:
            return hours, None  # only an offset: a fixed-offset zone shows it
    raise _RowError(column, f"the time zone {abbreviation[:12]!r} is not one this import knows")


def _value(cells: dict[str, str], header: str, notes: list[str]) -> float | None:
    """A number cell; empty is "not measured"; unreadable text is left blank and noted."""
    text = cells.get(header, "").replace("%", "").replace(",", "").strip()
    if not text:
        return None
    value = _number(text)
    if value is None:
        notes.append(f"column {header}: {cells[header][:30]!r} is not a number (left blank)")
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _bracketed(header: str) -> str | None:
    found = re.search(r"\(([^()]*)\)\s*$", header)
    return found.group(1).strip().lower() if found else None
