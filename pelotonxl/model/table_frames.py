"""The frame and the column widths of a `tables.SheetTable`: each column's dtype made explicit, and a
width that fits its header (with the filter button) and its widest value as its number format shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

DATE_FORMAT = "yyyy-mm-dd hh:mm"
DURATION_FORMAT = "[h]:mm:ss"


def typed_frame(
    rows: list[dict[str, Any]],
    columns: Iterable[str],
    *,
    dates: Iterable[str] = (),
    durations: Iterable[str] = (),
    flags: Iterable[str] = (),
    numbers: Iterable[str] = (),
) -> pd.DataFrame:
    """One DataFrame from row dicts, with each column's dtype made explicit."""
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    for column in durations:
        frame[column] = pd.to_timedelta(frame[column])
    for column in flags:
        frame[column] = frame[column].fillna(False).astype(bool)
    for column in numbers:
        frame[column] = frame[column].astype("float64")
    return frame


def _content_chars(series: pd.Series, number_format: str | None) -> int:
    """Characters the widest cell of a column shows under its number format."""
    values = series.dropna()
    if values.empty:
        return 0
    if pd.api.types.is_bool_dtype(values):
        return 5  # FALSE
    if pd.api.types.is_datetime64_any_dtype(values):
        return len(DATE_FORMAT)
    if pd.api.types.is_timedelta64_dtype(values):
        hours = int(values.max().total_seconds() // 3600)
        return len(str(hours)) + 6  # h:mm:ss
    if pd.api.types.is_numeric_dtype(values):
        if number_format and re.fullmatch(r"0(\.0+)?", number_format):
            decimals = len(number_format) - 2 if "." in number_format else 0
            return max(len(f"{v:.{decimals}f}") for v in (values.min(), values.max()))
        return int(values.map(lambda v: len(f"{v:g}")).max())
    return int(values.astype(str).str.len().max())


def widths(frame: pd.DataFrame, formats: dict[str, str]) -> dict[str, float]:
    # +3 on the header leaves room for the Table's filter button.
    return {
        column: float(min(max(len(column) + 3, _content_chars(frame[column], formats.get(column)) + 2, 6), 60))
        for column in frame.columns
    }
