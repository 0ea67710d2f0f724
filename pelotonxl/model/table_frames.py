"""`SheetTable` (one Excel Table: its frame, number formats, widths) and the Workouts columns; a table's frame
with each column's dtype made explicit, and a width that fits its header (with the filter button) and its
widest value as its number format shows it. pandas is imported only when a frame is made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pelotonxl.model.catalog import MetricKey
from pelotonxl.model.workbook import ID_COLUMN

if TYPE_CHECKING:  # pandas is imported where a frame is made, not by the modules that only read records
    import pandas as pd

DATE_FORMAT = "yyyy-mm-dd hh:mm"
DURATION_FORMAT = "[h]:mm:ss"

WORKOUT_FORMATS = {
    "Start": DATE_FORMAT,
    "Start (UTC)": DATE_FORMAT,
    "Class Length (min)": "0",
    "Duration": DURATION_FORMAT,
    "Total Output (kJ)": "0.0",
    "Class Aired": DATE_FORMAT,
    "Difficulty": "0.0",
    "Effort Points": "0.0",
}
WORKOUT_COLUMNS = (
    ID_COLUMN,
    "Start",
    "Time Zone",
    "Start (UTC)",
    "ISO Week",
    "Discipline",
    "Class Title",
    "Instructor",
    "Class Length (min)",
    "Duration",
    "Live/On-demand",
    "Total Output (kJ)",
    "Personal Record",
    "Device",
    "Status",
    "Class Aired",
    "Difficulty",
    "Workout Type",
    "Outdoor",
    "Effort Points",
)
# Columns earlier versions wrote: still the refresh's, so a workbook that has one loses it rather
# than keeping it as if the member had added it (Platform: the same device as Device, unreadable).
RETIRED_WORKOUT_COLUMNS = ("Platform",)
METRIC_LEAD_COLUMNS = (ID_COLUMN, "Start", "Discipline")


@dataclass
class SheetTable:
    name: str  # sheet name and Excel Table name
    frame: pd.DataFrame  # display-ordered columns; first column "Workout ID"
    number_formats: dict[str, str]  # column -> Excel number format code
    widths: dict[str, float]  # column -> column width in characters
    # (slug, unit) -> the column holding that metric: how code finds a metric, not by its header.
    metric_columns: dict[MetricKey, str] = field(default_factory=dict)


DATE_CELLS = ("Start", "Start (UTC)", "Class Aired")  # Workouts' date-times (ISO text in a stored row record)


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
    import pandas as pd

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
    import pandas as pd

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
