"""The Workouts and Metrics tables assembled from per-workout row records (`tables.row_record`, kept in the
store as the "rows" facet, see model/derived.py): what a refresh builds without reading a graph.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pelotonxl.errors import shown_text
from pelotonxl.model.catalog import (
    PACE_SLUGS,
    MetricKey,
    column_header,
    column_order,
    metric_format,
    metric_name,
    pace_seconds,
)
from pelotonxl.model.table_frames import (
    DATE_CELLS,
    DATE_FORMAT,
    METRIC_LEAD_COLUMNS,
    WORKOUT_COLUMNS,
    WORKOUT_FORMATS,
    SheetTable,
    typed_frame,
    widths,
)
from pelotonxl.model.workbook import ID_COLUMN, METRICS_SHEET, WORKOUTS_SHEET

log = logging.getLogger("pelotonxl.model.tables")


def tables_from_rows(rows: list[dict[str, Any]]) -> list[SheetTable]:
    """[Workouts, Metrics] from row records, newest first."""
    rows = sorted_rows(rows)
    _warn_unknown_zones(rows)
    return [workouts_table(rows), metrics_table(rows)]


def sorted_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first, as the tables list them (no start time goes last; ties keep their order)."""
    return sorted(rows, key=lambda row: (row["o"][0], row["o"][1]), reverse=True)


def workouts_table(rows: list[dict[str, Any]]) -> SheetTable:
    """The Workouts table from `row_record`s, in their order."""
    frame = typed_frame(
        [_cells(row["w"]) for row in rows],
        WORKOUT_COLUMNS,
        dates=DATE_CELLS,
        durations=("Duration",),
        flags=("Personal Record", "Outdoor"),
        numbers=("Class Length (min)", "Total Output (kJ)", "Difficulty", "Effort Points"),
    )
    return SheetTable(WORKOUTS_SHEET, frame, dict(WORKOUT_FORMATS), widths(frame, WORKOUT_FORMATS))


def _cells(stored: dict[str, Any]) -> dict[str, Any]:
    """A row_record's Workouts cells as the frame takes them (datetimes and timedeltas again)."""
    cells = dict(stored)
    for column in DATE_CELLS:
        cells[column] = datetime.fromisoformat(cells[column]) if cells[column] is not None else None
    cells["Duration"] = timedelta(seconds=cells["Duration"]) if cells["Duration"] is not None else None
    return cells


def _keyed_values(row: dict[str, Any]) -> dict[MetricKey, float]:
    return {(slug, unit): value for slug, unit, value in row["m"]}


def row_metric_values(row: dict[str, Any]) -> dict[str, float]:
    """metric_values from a row_record."""
    values: dict[str, float] = {}
    for slug, _unit, value in row["m"]:
        values.setdefault(slug, pace_seconds(value) / 86400 if slug in PACE_SLUGS else value)
    return values


def _seen_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each slug's display name: the first workout's (newest first) that names it."""
    seen: dict[str, str] = {}
    for row in rows:
        for slug, name in row["n"].items():
            seen.setdefault(slug, name)
    return seen


def metrics_table(rows: list[dict[str, Any]]) -> SheetTable:
    """The Metrics table from `row_record`s, in their order."""
    per_workout = [_keyed_values(row) for row in rows]
    seen_names = _seen_names(rows)
    keys = sorted({key for values in per_workout for key in values}, key=column_order)
    headers: dict[MetricKey, str] = {}
    taken = set(METRIC_LEAD_COLUMNS)
    for key in keys:
        header = column_header(metric_name(key[0], seen_names), key[1])
        if header in taken:  # an unknown slug reusing a known name: keep headers unique
            header = f"{header} [{key[0]}]"
        headers[key] = header
        taken.add(header)
    table_rows = []
    for row, values in zip(rows, per_workout, strict=True):
        cells: dict[str, Any] = {
            ID_COLUMN: row["w"][ID_COLUMN],
            "Start": datetime.fromisoformat(row["w"]["Start"]) if row["w"]["Start"] is not None else None,
            "Discipline": row["w"]["Discipline"],
        }
        cells.update(
            (headers[key], timedelta(seconds=pace_seconds(value)) if key[0] in PACE_SLUGS else value)
            for key, value in values.items()
        )
        table_rows.append(cells)
    columns = [*METRIC_LEAD_COLUMNS, *headers.values()]
    paces = tuple(headers[key] for key in keys if key[0] in PACE_SLUGS)
    frame = typed_frame(
        table_rows,
        columns,
        dates=("Start",),
        durations=paces,
        numbers=tuple(h for h in headers.values() if h not in paces),
    )
    formats = {"Start": DATE_FORMAT, **{headers[key]: metric_format(key) for key in keys}}
    return SheetTable(METRICS_SHEET, frame, formats, widths(frame, formats), headers)


def row_catalog(rows: list[dict[str, Any]]) -> dict[str, tuple[str, str | None]]:
    """metric_catalog from row_records, newest first."""
    seen_names = _seen_names(rows)
    seen_units: dict[str, Counter] = {}
    for row in rows:
        for slug, unit, _value in row["m"]:
            seen_units.setdefault(slug, Counter())[unit] += 1
    return {
        slug: (metric_name(slug, seen_names), units.most_common(1)[0][0])
        for slug, units in sorted(seen_units.items(), key=lambda item: column_order((item[0], None)))
    }


def _warn_unknown_zones(rows: list[dict[str, Any]]) -> None:
    """Say once that some times are shown in UTC because their zone is unknown here; -v names them."""
    unknown = [(row["w"][ID_COLUMN], row["tz"]) for row in rows if row["tz"]]
    if not unknown:
        return
    names = sorted({name for _, name in unknown})
    log.warning(
        "%d workouts have a time zone this computer does not know (%s%s): their times are "
        "shown in UTC (-v lists them).",
        len(unknown),
        ", ".join(shown_text(name, 40) for name in names[:3]),
        ", …" if len(names) > 3 else "",
    )
    for wid, name in unknown:
        log.info("workout %s: unknown time zone %s, shown in UTC", wid, shown_text(repr(name), 60))
