"""The sampled metrics of a stored performance graph (`metrics[].slug/values`), as arrays.

Used by PELOTON_SERIES and the Parquet export; the graph is Peloton's JSON as the store gives it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def sampled_metrics(graph: dict) -> list[dict]:
    """A graph's sampled metrics, with the alternatives Peloton nests under some (speed under pace)."""
    found = []
    for entry in graph.get("metrics") or []:
        found.append(entry)
        found.extend(entry.get("alternatives") or [])
    return found


def graph_samples(graph: dict, slugs: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(second of each sample, slug -> float64 samples with NaN for gaps) of one graph."""
    import numpy as np

    values: dict[str, np.ndarray] = {}
    for entry in sampled_metrics(graph):
        slug = entry.get("slug")
        if slug in slugs and slug not in values:
            values[slug] = np.array([np.nan if v is None else v for v in entry.get("values") or []], dtype="float64")
    n = max((len(v) for v in values.values()), default=0)
    seconds = graph.get("seconds_since_pedaling_start") or []
    if len(seconds) != n:  # a graph without its time axis: samples are evenly spaced from the start
        step = max(1, round((graph.get("duration") or n) / n)) if n else 1
        seconds = [step * (i + 1) for i in range(n)]
    for slug, v in values.items():
        if len(v) < n:
            values[slug] = np.concatenate([v, np.full(n - len(v), np.nan)])
    return np.asarray(seconds, dtype="int64"), values
