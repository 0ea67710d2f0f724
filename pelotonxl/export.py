"""`--export DIR`: the store as three Parquet files, for the tools that outgrow a sheet.

- workouts.parquet: the Workouts table, one row per workout, plus ride_id (the class; the same for
  every attempt of it).
- metrics.parquet: the Metrics table, one row per workout.
- series.parquet: one row per sample of every stored performance graph: workout_id, elapsed_s (seconds
  since the start of pedaling, at the end of the sample), then one column per sampled metric and unit
  (output_w, cadence_rpm, pace_s_per_mi, ...; null where a workout lacks it).

Every column is snake_case and a quantity's name ends in its unit (`model/units.py`, the one rule):
every time span and pace in seconds, everything else in Peloton's own unit. Types are fixed (string,
float64, bool, int64 seconds, timestamp[us] local and timestamp[us, UTC]), so a query written once keeps
working. Each file is written beside its final name and moved into place, so a reader never sees half a file.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pelotonxl.atomic_file import replacing
from pelotonxl.errors import PelotonXLError
from pelotonxl.model import tables
from pelotonxl.model.catalog import MetricKey
from pelotonxl.model.samples import graph_samples, sampled_metrics
from pelotonxl.model.units import export_column, is_pace, snake
from pelotonxl.model.workbook import ID_COLUMN

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
        "metrics.parquet": _write(
            _typed(_in_export_units(metrics.frame, metrics.metric_columns)), folder / "metrics.parquet"
        ),
    }
    columns = series_columns(graph for _, graph in records(samples=True))
    rows["series.parquet"] = _write_series(records(samples=True), columns, folder / "series.parquet")
    return rows


def series_columns(graphs: Iterable[dict | None]) -> list[SeriesColumn]:
    """The series file's metric columns: one per (slug, unit) seen in any graph, the usual ones first."""
    found = {
        (entry["slug"], entry.get("display_unit") or None)
        for g in graphs
        if g
        for entry in sampled_metrics(g)
        if entry.get("slug")
    }
    order = {slug: i for i, slug in enumerate(SERIES_ORDER)}
    keys = sorted(found, key=lambda key: (order.get(key[0], len(order)), key[0], key[1] or ""))
    return [SeriesColumn(slug, unit, *export_column(slug, unit)) for slug, unit in keys]


class SeriesColumn(NamedTuple):
    """A graph metric in one unit, and how the export names and scales it."""

    slug: str
    unit: str | None
    name: str
    factor: float


def _workouts_table(frame: pd.DataFrame, records: list) -> pa.Table:
    frame = frame.copy()
    ride_ids = {w["id"]: ((w.get("ride") or {}).get("id")) for w, _ in records}
    frame.insert(1, "Ride ID", frame[ID_COLUMN].map(ride_ids))
    return _typed(_in_export_units(frame, {}))


# Workouts columns whose export name says more than their header: local date-times say so.
RENAMED = {"Start": "start_local", "Class Aired": "class_aired_local", "Start (UTC)": "start_utc"}
_UNIT_HEADER = re.compile(r"^(?P<name>.+?) \((?P<unit>[^()]+)\)$")


def _in_export_units(frame: pd.DataFrame, metric_columns: dict[MetricKey, str]) -> pd.DataFrame:
    """A sheet's frame with export names and units: `Avg Output (watts)` -> avg_output_w, a duration
    (`Duration`, a pace) -> whole seconds, minutes (`Class Length (min)`, `HR Zone 1 (min)`) -> seconds.
    `metric_columns` names each Metrics column's (slug, unit); other headers are read as "Name (unit)"."""
    by_header = {header: key for key, header in metric_columns.items()}
    out = {}
    for header in frame.columns:
        column = frame[header]
        if header in RENAMED:
            name, factor = RENAMED[header], 1.0
        elif header in by_header:
            name, factor = export_column(*by_header[header])
        elif match := _UNIT_HEADER.match(header):
            name, factor = export_column(snake(match["name"]), match["unit"])
        else:
            name, factor = snake(header), 1.0
        if pd.api.types.is_timedelta64_dtype(column):
            name = name if name.endswith("_s") or "_s_per_" in name else f"{name}_s"
            column = column.dt.total_seconds().round().astype("Int64")
        elif factor != 1.0:  # minutes to seconds: Peloton counts them in whole seconds
            column = (column * factor).round().astype("Int64")
        out[name] = column
    return pd.DataFrame(out, index=frame.index)


def _typed(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as an Arrow table of the fixed types, whatever pandas inferred."""
    fields, arrays = [], []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            kind = pa.bool_()
        elif pd.api.types.is_datetime64_any_dtype(column):
            kind = pa.timestamp("us", tz="UTC") if name.endswith("_utc") else pa.timestamp("us")
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
    with replacing(path, path.with_name(path.name + ".partial")) as partial:
        pq.write_table(table, partial, compression="zstd")
    return table.num_rows


def _write_series(records: Iterable[tuple[dict, dict | None]], metrics: list[SeriesColumn], path: Path) -> int:
    schema = pa.schema(
        [pa.field("workout_id", pa.string()), pa.field("elapsed_s", pa.int64())]
        + [pa.field(m.name, pa.float64()) for m in metrics]
    )
    slugs = sorted({m.slug for m in metrics})
    rows = 0
    with (
        replacing(path, path.with_name(path.name + ".partial")) as partial,
        pq.ParquetWriter(partial, schema, compression="zstd") as writer,
    ):
        for group in _batches(records, SERIES_ROW_GROUP):
            ids: list[np.ndarray] = []
            seconds: list[np.ndarray] = []
            columns: dict[SeriesColumn, list[np.ndarray]] = {m: [] for m in metrics}
            for workout, graph in group:
                if not graph:
                    continue
                at, values = graph_samples(graph, slugs)
                units = _units_of(graph)
                ids.append(np.full(at.size, workout["id"], dtype=object))
                seconds.append(at)
                for m in metrics:
                    mine = m.slug in values and units.get(m.slug) == m.unit
                    columns[m].append(_scaled(values[m.slug], m) if mine else np.full(at.size, np.nan))
            if not ids:
                continue
            batch = [pa.array(np.concatenate(ids), pa.string()), pa.array(np.concatenate(seconds), pa.int64())]
            batch += [pa.array(np.concatenate(columns[m]), pa.float64(), from_pandas=True) for m in metrics]
            table = pa.Table.from_arrays(batch, schema=schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def _units_of(graph: dict) -> dict[str, str | None]:
    """slug -> the unit of the graph's first metric of that slug (the one graph_samples reads)."""
    units: dict[str, str | None] = {}
    for entry in sampled_metrics(graph):
        if entry.get("slug"):
            units.setdefault(entry["slug"], entry.get("display_unit") or None)
    return units


def _scaled(values: np.ndarray, metric: SeriesColumn) -> np.ndarray:
    """Samples in the export's unit: a pace's decimal minutes as whole seconds, as on every surface."""
    if is_pace(metric.slug, metric.unit):
        return np.round(values * 60)
    return values * metric.factor if metric.factor != 1.0 else values


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
