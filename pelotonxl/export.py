"""`--export DIR`: the store as three Parquet files, for the tools that outgrow a sheet.

- workouts.parquet: the Workouts table, one row per workout, plus Ride ID (the class; the same for
  every attempt of it); Duration as whole seconds, "Duration (s)".
- metrics.parquet: the Metrics table, one row per workout, its columns headed as in the workbook.
- series.parquet: one row per sample of every stored performance graph: Workout ID, Second (seconds
  since the start of pedaling, at the end of the sample), then one column per sampled metric slug
  (output, cadence, resistance, speed, heart_rate, ...; null where a workout lacks it).

Column names are the workbook's, types are fixed (string, float64, bool, timestamp[us] for local
date-times, int64 seconds), so a query written once keeps working. Each file is written beside its
final name and moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pelotonxl.errors import PelotonXLError
from pelotonxl.model import tables
from pelotonxl.model.samples import graph_samples, sampled_metrics

FILES = ("workouts.parquet", "metrics.parquet", "series.parquet")
# The usual metrics first, in the order Peloton shows them; any others follow alphabetically.
SERIES_ORDER = (
    "output",
    "cadence",
    "resistance",
    "speed",
    "heart_rate",
    "pace",
    "incline",
    "altitude",
    "stroke_rate",
    "split_pace",
)
SERIES_ROW_GROUP = 200  # workouts per row group: bounded memory whatever the history


class ExportError(PelotonXLError):
    """The export folder cannot be used."""


def check_folder(folder: Path) -> Path:
    """The export folder, created if only it is missing; an ExportError (one line) if it cannot be used."""
    folder = Path(folder).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file, not a folder: give --export a folder.")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise ExportError(f"The folder {folder.parent} does not exist: create it or give --export another folder.")
        try:
            folder.mkdir()
        except OSError as exc:
            raise ExportError(f"Cannot create the export folder {folder}: {exc.strerror}.") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"Cannot write into {folder}: choose a folder of your own for --export.")
    return folder


def export_store(records: Callable[..., Iterable[tuple[dict, dict | None]]], folder: Path) -> dict[str, int]:
    """Write the three files; returns rows per file. `records(samples=...)` is `WorkoutStore.records`:
    the tables come from a pass without samples, the series from two streaming passes (the metric
    columns, then the rows), so a long history's samples are never all in memory at once."""
    folder = check_folder(folder)
    light = list(records(samples=False))
    workouts, metrics = tables.build_tables(light)
    rows = {
        "workouts.parquet": _write(_workouts_table(workouts.frame, light), folder / "workouts.parquet"),
        "metrics.parquet": _write(_typed(_paces_in_seconds(metrics.frame)), folder / "metrics.parquet"),
    }
    slugs = series_slugs(graph for _, graph in records(samples=True))
    rows["series.parquet"] = _write_series(records(samples=True), slugs, folder / "series.parquet")
    return rows


def series_slugs(graphs: Iterable[dict | None]) -> list[str]:
    found = {entry["slug"] for g in graphs if g for entry in sampled_metrics(g) if entry.get("slug")}
    return [s for s in SERIES_ORDER if s in found] + sorted(found - set(SERIES_ORDER))


def _workouts_table(frame: pd.DataFrame, records: list) -> pa.Table:
    frame = frame.copy()
    ride_ids = {w["id"]: ((w.get("ride") or {}).get("id")) for w, _ in records}
    frame.insert(1, "Ride ID", frame["Workout ID"].map(ride_ids))
    if "Duration" in frame:
        at = list(frame.columns).index("Duration")
        seconds = frame.pop("Duration").dt.total_seconds().round()
        frame.insert(at, "Duration (s)", seconds.astype("Int64"))
    return _typed(frame)


def _paces_in_seconds(frame: pd.DataFrame) -> pd.DataFrame:
    """Paces (durations in the workbook, shown m:ss) as whole seconds, their unit saying so:
    "Avg Pace (min/mi)" becomes "Avg Pace (s/mi)", as Duration becomes "Duration (s)" on workouts."""
    paces = [c for c in frame.columns if pd.api.types.is_timedelta64_dtype(frame[c])]
    if not paces:
        return frame
    frame = frame.copy()
    for column in paces:
        frame[column] = frame[column].dt.total_seconds().round().astype("Int64")
    return frame.rename(columns={c: c.replace("(min/", "(s/") for c in paces})


def _typed(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as an Arrow table of the fixed types, whatever pandas inferred."""
    fields, arrays = [], []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            kind = pa.bool_()
        elif pd.api.types.is_datetime64_any_dtype(column):
            kind = pa.timestamp("us")
        elif pd.api.types.is_integer_dtype(column):
            kind = pa.int64()
        elif pd.api.types.is_float_dtype(column):
            kind = pa.float64()
        else:
            kind = pa.string()
            column = column.astype(object).where(column.notna(), None)
        fields.append(pa.field(str(name), kind))
        arrays.append(pa.array(column, type=kind, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _write(table: pa.Table, path: Path) -> int:
    partial = path.with_name(path.name + ".partial")
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, path)
    return table.num_rows


def _write_series(records: Iterable[tuple[dict, dict | None]], slugs: list[str], path: Path) -> int:
    schema = pa.schema(
        [pa.field("Workout ID", pa.string()), pa.field("Second", pa.int64())]
        + [pa.field(s, pa.float64()) for s in slugs]
    )
    partial = path.with_name(path.name + ".partial")
    rows = 0
    with pq.ParquetWriter(partial, schema, compression="zstd") as writer:
        for group in _batches(records, SERIES_ROW_GROUP):
            ids: list[np.ndarray] = []
            seconds: list[np.ndarray] = []
            columns: dict[str, list[np.ndarray]] = {s: [] for s in slugs}
            for workout, graph in group:
                if not graph:
                    continue
                at, values = graph_samples(graph, slugs)
                ids.append(np.full(at.size, workout["id"], dtype=object))
                seconds.append(at)
                for s in slugs:
                    columns[s].append(values.get(s, np.full(at.size, np.nan)))
            if not ids:
                continue
            batch = [pa.array(np.concatenate(ids), pa.string()), pa.array(np.concatenate(seconds), pa.int64())]
            batch += [pa.array(np.concatenate(columns[s]), pa.float64(), from_pandas=True) for s in slugs]
            table = pa.Table.from_arrays(batch, schema=schema)
            writer.write_table(table)
            rows += table.num_rows
    os.replace(partial, path)
    return rows


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
