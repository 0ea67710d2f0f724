"""One unit per quantity, named on every surface: the one module that says what a quantity is in.

- Sheets and `PELOTON_METRIC`: Peloton's units as the Metrics headers name them; a pace is a duration
  (Excel's fraction of a day, shown `[m]:ss`), a time span on Workouts a duration too.
- `PELOTON_SERIES`: the graph's own units, a pace again as a duration (the same number as the sheet's
  pace, so `[m]:ss` reads it).
- The Parquet export: snake_case names that end in their unit (`avg_output_w`, `pace_s_per_mi`,
  `duration_s`); every time span and every pace in seconds, every other quantity in Peloton's unit.

Peloton sends paces in decimal minutes with two decimals (8.47 min/mi), so whole seconds (508 s, 8:28)
are its precision: every surface rounds a pace to the second the same way.
"""

from __future__ import annotations

import re

from pelotonxl.model.catalog import PACE_SLUGS, pace_seconds

SECONDS_PER_DAY = 86400
# Graph metrics that are paces (their summaries are the PACE_SLUGS averages).
SERIES_PACE_SLUGS = frozenset({"pace", "split_pace"})
# A unit as a column-name ending; anything else is lower-cased with "/" read as "per".
UNIT_TOKENS = {"watts": "w", "%": "pct", "kj": "kj", "kcal": "kcal", "min": "s", "s": "s", "sec": "s"}


def is_pace(slug: str | None, unit: str | None = None) -> bool:
    """A pace: the known pace slugs, or any unit of minutes per distance ("min/mi", "min/500m")."""
    return slug in PACE_SLUGS or slug in SERIES_PACE_SLUGS or (unit or "").lower().startswith("min/")


def pace_as_duration(minutes: float | None) -> float | None:
    """A pace in Peloton's decimal minutes as Excel holds a duration (a fraction of a day), whole seconds:
    8.47 min/mi is 508 s, 508/86400, shown 8:28 under `[m]:ss`."""
    if minutes is None or minutes != minutes:  # None or NaN: a gap stays a gap
        return None
    return pace_seconds(minutes) / SECONDS_PER_DAY


def snake(text: str) -> str:
    """`Workout ID` -> `workout_id`, `Live/On-demand` -> `live_on_demand`."""
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def export_column(slug: str, unit: str | None) -> tuple[str, float]:
    """(the export's column name, the factor from the sheet's number to the export's) for a metric of
    `slug` in `unit`: ("avg_output", "watts") -> ("avg_output_w", 1); ("hr_zone_1", "min") ->
    ("hr_zone_1_s", 60); ("pace", "min/mi") -> ("pace_s_per_mi", 60). No unit, no ending (`stroke_count`)."""
    if not unit:
        return snake(slug), 1.0
    lowered = unit.strip().lower()
    if is_pace(slug, unit) and "/" in lowered:
        return f"{snake(slug)}_s_per_{snake(lowered.split('/', 1)[1])}", 60.0
    token = UNIT_TOKENS.get(lowered) or snake(lowered.replace("/", " per "))
    return f"{snake(slug)}_{token}", 60.0 if lowered == "min" else 1.0
