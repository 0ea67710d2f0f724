"""Peloton's vocabulary, as the tables show it: each discipline's, device's and metric's display
name, a metric's unit label, number format and column order.

Slugs are Peloton's keys (`avg_output`, `hr_zone_1`); a Metrics column is one (slug, unit) pair,
and the display text built from them here is only for people: code finds a metric by its slug
(`SheetTable.metric_columns`), never by its header.
"""

from __future__ import annotations

MetricKey = tuple[str, "str | None"]  # (slug, unit): one Metrics column

# The ride id of a workout without a class (Just Ride, scenic rides).
ZERO_RIDE_ID = "0" * 32

DISCIPLINE_NAMES = {
    "cycling": "Cycling",
    "running": "Running",
    "walking": "Walking",
    "strength": "Strength",
    "yoga": "Yoga",
    "stretching": "Stretching",
    "meditation": "Meditation",
    "cardio": "Cardio",
    "caesar": "Rowing",
    "caesar_bootcamp": "Row Bootcamp",
    "bike_bootcamp": "Bike Bootcamp",
    "tread_bootcamp": "Tread Bootcamp",
    "circuit": "Circuit",
    "beyond_the_ride": "Beyond the Ride",
}
# A workout's status as the Workouts table shows it, where Title Case of Peloton's word would not do.
STATUS_NAMES = {"from_csv": "From CSV"}  # imported from the website's CSV (peloton.csv_import)
NO_CLASS_LABELS = {"cycling": "Just Ride", "running": "Just Run", "walking": "Just Walk", "caesar": "Just Row"}
# device_type (else platform) -> the Device column. Both of Peloton's fields name the same thing,
# one by model (`home_bike_v1`) and one by family (`home_bike`): the workbook shows one readable name.
DEVICE_NAMES = {
    "home_bike": "Bike",
    "home_bike_v1": "Bike",
    "home_bike_v2": "Bike+",
    "home_bike_plus": "Bike+",
    "home_tread": "Tread",
    "home_tread_v1": "Tread",
    "tread_plus": "Tread+",
    "home_tread_plus": "Tread+",
    "caesar": "Row",
    "home_row": "Row",
    "android_tv": "Android TV",
    "samsung_tv": "Samsung TV",
    "iphone": "iPhone",
    "ipad": "iPad",
    "android": "Android",
    "fire_tv": "Fire TV",
    "apple_tv": "Apple TV",
    "roku": "Roku",
    "web": "Web",
    "apple_watch": "Apple Watch",
    "guide": "Guide",
    "ios_app": "iOS App",
    "android_app": "Android App",
    "apple_watch_app": "Apple Watch",
}

# Canonical names per slug, in the column order the Metrics sheet uses. A slug's name is
# fixed here because Peloton names one measure differently per discipline
# (rowing's avg_output is "Avg Stroke Output").
METRIC_NAMES = {
    "total_output": "Total Output",
    "distance": "Distance",
    "calories": "Calories",
    "active_calories": "Active Calories",
    "duration": "Duration",
    "elevation": "Elevation",
    "stroke_count": "Strokes",
    "avg_output": "Avg Output",
    "avg_cadence": "Avg Cadence",
    "avg_resistance": "Avg Resistance",
    "avg_speed": "Avg Speed",
    "avg_pace": "Avg Pace",
    "avg_incline": "Avg Incline",
    "avg_stroke_rate": "Avg Stroke Rate",
    "avg_split_pace": "Avg Split Pace",
}
HEART_RATE_NAMES = {
    "avg_heart_rate": "Avg Heart Rate",
    "max_heart_rate": "Max Heart Rate",
    **{f"hr_zone_{n}": f"HR Zone {n}" for n in range(1, 6)},
}
# Apple Watch workouts report total_calories instead of calories: one Calories column.
SLUG_ALIASES = {"total_calories": "calories"}
UNIT_NAMES = {"kj": "kJ", "kcal": "kcal", "kph": "kph", "mph": "mph", "bpm": "bpm"}
# Peloton sends paces in decimal minutes (8.47 min/mi is 8:28): the tables hold them as durations,
# which Excel shows as minutes:seconds and can still add up. [m] lets a pace pass 60 minutes.
PACE_SLUGS = frozenset({"avg_pace", "avg_split_pace"})
PACE_FORMAT = "[m]:ss"
# Metres in one of each distance unit Peloton uses: a total that mixes a bike's miles and a row's
# metres converts them to one unit first.
METRES_PER = {"mi": 1609.344, "km": 1000.0, "m": 1.0, "yd": 0.9144, "ft": 0.3048}
METRIC_FORMATS = {
    "total_output": "0.0",
    "distance": "0.00",
    "calories": "0",
    "active_calories": "0",
    "duration": "0.0",
    "elevation": "0",
    "stroke_count": "0",
    "avg_output": "0",
    "avg_cadence": "0",
    "avg_resistance": "0",
    "avg_speed": "0.0",
    "avg_pace": PACE_FORMAT,
    "avg_incline": "0.0",
    "avg_stroke_rate": "0",
    "avg_split_pace": PACE_FORMAT,
    "avg_heart_rate": "0",
    "max_heart_rate": "0",
    **{f"hr_zone_{n}": "0.0" for n in range(1, 6)},
}


def column_order(key: MetricKey) -> tuple:
    """Preferred slugs first, unknown slugs alphabetically, heart rate last; units A-Z."""
    slug, unit = key
    if slug in HEART_RATE_NAMES:
        return (2, list(HEART_RATE_NAMES).index(slug), unit or "")
    if slug in METRIC_NAMES:
        return (0, list(METRIC_NAMES).index(slug), unit or "")
    return (1, slug, unit or "")


def column_header(name: str, unit: str | None) -> str:
    """The Metrics column heading for a metric: "Avg Output (watts)", or "Strokes" without a unit."""
    return f"{name} ({unit})" if unit else name


def metric_name(slug: str, seen_names: dict[str, str]) -> str:
    return METRIC_NAMES.get(slug) or HEART_RATE_NAMES.get(slug) or seen_names.get(slug) or slug


def metric_format(key: MetricKey) -> str:
    slug, unit = key
    if slug == "distance" and unit == "m":
        return "0"
    return METRIC_FORMATS.get(slug, "General")


def unit_label(unit: str | None) -> str | None:
    """The unit as the Metrics headers show it ("kj" -> "kJ"); None without one."""
    return UNIT_NAMES.get(unit.lower(), unit) if unit else None


def pace_seconds(minutes: float) -> int:
    """A pace in decimal minutes as whole seconds: Peloton's two decimals of a minute are 0.6 s
    steps, so the second is the precision the member sees (8.47 -> 508 s, 8:28)."""
    return round(minutes * 60)
