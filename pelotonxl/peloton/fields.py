"""What a field of Peloton's JSON may hold once read: the one place each is checked.

The store keeps what Peloton sent; everything downstream (the tables, the power curve, the Ride sheet,
the worksheet functions, the export) reads it through `checked_workout` and `checked_graph`, so a field
of another type, an absurd number or text no file can hold is a blank there, never a crash:

- text loses lone surrogates (no encoding can write them) and is cut to Excel's 32,767 characters
  (control characters are dropped where text becomes a cell: `model.excel_values.cell_text`);
- a number that is not finite, or beyond any quantity Peloton reports (1e15), is None;
- times (`created_at`, `start_time`, `end_time`) are whole epoch seconds between 1970 and 5138, or None;
- a container of the wrong kind (a `ride` that is a list, `metrics` that is text) is dropped.
"""

from __future__ import annotations

import math
from typing import Any

MAX_TEXT = 32767  # Excel's limit per cell
MAX_MAGNITUDE = 1e15  # no count, time or quantity Peloton reports comes near
MAX_EPOCH = 10**11  # year 5138: past it a "time" is noise
TIME_KEYS = ("created_at", "start_time", "end_time")
NUMBER_KEYS = ("total_work", "duration", "value", "average_value", "max_value", "length", "start_time_offset")
_DEPTH = 40  # deeper than any of Peloton's payloads: what lies below is dropped
MAX_SAMPLES = 6 * 3600  # six hours at one sample a second: a longer series is cut (memory stays bounded)


def epoch(value: object) -> int | None:
    """A time in whole seconds: an int, a whole float or a string of digits, within 1970..5138."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 12:
            return None
    if not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = int(value) if not isinstance(value, float) or math.isfinite(value) else 0
    except ValueError:
        return None
    return seconds if 0 < seconds < MAX_EPOCH else None


def number(value: object) -> float | int | None:
    """A finite number of sane magnitude, else None (text, booleans, containers, NaN, 1e308)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if abs(value) <= MAX_MAGNITUDE else None


def text(value: str) -> str:
    """Text without lone surrogates, at most MAX_TEXT characters."""
    value = value[:MAX_TEXT]
    if value.isascii():
        return value
    return "".join(ch for ch in value if not "\ud800" <= ch <= "\udfff")


def clean(node: Any, depth: int = 0) -> Any:
    """A JSON value with every text, number and container made safe (see the module's rules)."""
    if isinstance(node, str):
        return text(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, (int, float)):
        return number(node)
    if depth >= _DEPTH:
        return None
    if isinstance(node, list):
        if node and all(type(item) is int or type(item) is float for item in node):  # samples: the fast case
            return [item if -MAX_MAGNITUDE <= item <= MAX_MAGNITUDE else None for item in node]
        return [clean(item, depth + 1) for item in node]
    if isinstance(node, dict):
        return {text(str(key)): clean(value, depth + 1) for key, value in node.items()}
    return None


def _typed(item: dict, key: str, kind: type | tuple[type, ...]) -> None:
    if key in item and item[key] is not None and not isinstance(item[key], kind):
        del item[key]


def checked_workout(workout: Any) -> dict:
    """A stored workout as the model reads it (see the module's rules)."""
    w = clean(workout) if isinstance(workout, dict) else {}
    for key in TIME_KEYS:
        if key in w:
            w[key] = epoch(w[key])
    for key in ("total_work",):
        if key in w:
            w[key] = number(w[key])
    for key in ("id", "status", "fitness_discipline", "timezone", "name", "title", "device_type", "workout_type"):
        _typed(w, key, str)
    _typed(w, "ride", dict)
    ride = w.get("ride")
    if isinstance(ride, dict):
        for key in ("id", "title", "fitness_discipline"):
            _typed(ride, key, str)
        for key in ("duration", "difficulty_estimate", "difficulty_rating_avg"):
            if key in ride:
                ride[key] = number(ride[key])
        _typed(ride, "instructor", dict)
        if isinstance(ride.get("instructor"), dict):
            _typed(ride["instructor"], "name", str)
    return w


def checked_graph(graph: Any) -> dict | None:
    """A stored performance graph as the model reads it; None for one that is not an object."""
    if not isinstance(graph, dict):
        return None
    g = clean(graph)
    for key in ("metrics", "summaries", "average_summaries", "segment_list", "seconds_since_pedaling_start"):
        _typed(g, key, list)
    for key in ("metrics", "summaries", "average_summaries", "segment_list"):
        if isinstance(g.get(key), list):
            g[key] = [_checked_entry(entry) for entry in g[key][:100] if isinstance(entry, dict)]
    if isinstance(g.get("seconds_since_pedaling_start"), list):
        g["seconds_since_pedaling_start"] = g["seconds_since_pedaling_start"][:MAX_SAMPLES]
    return g


def _checked_entry(entry: dict) -> dict:
    for key in ("slug", "display_name", "display_unit", "name", "icon_name"):
        _typed(entry, key, str)
    for key in NUMBER_KEYS:
        if key in entry:
            entry[key] = number(entry[key])
    _typed(entry, "values", list)
    if isinstance(entry.get("values"), list):
        entry["values"] = entry["values"][:MAX_SAMPLES]
    _typed(entry, "alternatives", list)
    if isinstance(entry.get("alternatives"), list):
        entry["alternatives"] = [_checked_entry(alt) for alt in entry["alternatives"] if isinstance(alt, dict)]
    return entry
