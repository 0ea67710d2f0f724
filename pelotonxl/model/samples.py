"""The sampled metrics of a stored performance graph (`metrics[].slug/values`), as arrays.

Used by the power curve, the Ride sheet, PELOTON_SERIES and the Parquet export; the graph is Peloton's
JSON as the store gives it back. A sample that is not a finite number, is negative, or lies beyond what a
body or a machine can do (`PHYSICAL_MAX`) is a missing value (NaN): one absurd sample never poisons a
best effort, an FTP or a chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


# Above these a sample is noise, not effort: the world's best sprinters peak near 2,500 W.
PHYSICAL_MAX = {
    "output": 3000.0,  # watts
    "heart_rate": 250.0,  # bpm
    "cadence": 300.0,  # rpm, or steps a minute on the Tread
    "stroke_rate": 100.0,  # strokes a minute
    "resistance": 100.0,  # percent
    "speed": 100.0,  # mph or km/h
    "pace": 600.0,  # minutes a mile or km
    "split_pace": 3600.0,  # seconds per 500 m
    "incline": 100.0,  # percent
    "altitude": 10000.0,  # metres
}
ANY_MAX = 1e6  # a metric this code does not know


def sample_array(values: Any, slug: str | None) -> np.ndarray:
    """Samples as float64 with NaN for each missing, non-numeric, non-finite, negative or impossible one."""
    import numpy as np
    import pandas as pd

    if not isinstance(values, list):
        return np.empty(0)
    try:  # the fast way; None becomes NaN
        array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError, OverflowError):  # text, containers or huge ints among the samples
        array = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy("float64")
    if array.ndim != 1:
        return np.full(len(values), np.nan)
    high = PHYSICAL_MAX.get(slug or "", ANY_MAX)
    with np.errstate(invalid="ignore"):
        return np.where((array >= 0) & (array <= high), array, np.nan)


def sampled_metrics(graph: dict) -> list[dict]:
    """A graph's sampled metrics, with the alternatives Peloton nests under some (speed under pace)."""
    found = []
    metrics = graph.get("metrics")
    for entry in metrics if isinstance(metrics, list) else []:
        if isinstance(entry, dict):
            found.append(entry)
            alternatives = entry.get("alternatives")
            found.extend(a for a in (alternatives if isinstance(alternatives, list) else []) if isinstance(a, dict))
    return found


def graph_samples(graph: dict, slugs: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(second of each sample, slug -> float64 samples with NaN for gaps) of one graph."""
    import numpy as np

    values: dict[str, np.ndarray] = {}
    for entry in sampled_metrics(graph):
        slug = entry.get("slug")
        if slug in slugs and slug not in values:
            values[slug] = sample_array(entry.get("values"), slug)
    n = max((len(v) for v in values.values()), default=0)
    seconds = graph.get("seconds_since_pedaling_start") or []
    whole = all(isinstance(x, int) and not isinstance(x, bool) for x in seconds)
    if len(seconds) != n or not whole:  # a graph without its time axis: samples are evenly spaced from the start
        duration = graph.get("duration")
        span = duration if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None
        step = max(1, round((span if span is not None and 0 < span < 1e7 else n) / n)) if n else 1
        seconds = [step * (i + 1) for i in range(n)]
    for slug, v in values.items():
        if len(v) < n:
            values[slug] = np.concatenate([v, np.full(n - len(v), np.nan)])
    return np.asarray(seconds, dtype="int64"), values
