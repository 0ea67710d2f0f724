"""What a Python, NumPy or pandas value is in an Excel cell: the one answer both writers use.

Excel holds numbers, text, booleans and blanks; date-times and durations are numbers of days.
`excel_value` maps any value a table or the Dashboard holds to the plain Python value that stands
for it, and `day_numbers` does the same for a whole date-time or duration column, vectorised (the
headless writer's fast path). The writers only format the result: SpreadsheetML, or xlwings.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from typing import Any, cast

import numpy as np
import pandas as pd

ExcelValue = None | bool | int | float | str | dt.datetime | dt.date | dt.timedelta

EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 in the 1900 date system (leap-year bug included)
ONE_DAY = pd.Timedelta(days=1)


def excel_value(value: object) -> ExcelValue:
    """None for a blank (None, NaN, NaT, pd.NA, infinities); Python bool/int/float for NumPy
    scalars; a naive datetime for a date-time (its time zone dropped, the wall-clock time kept);
    a timedelta for a duration; text as is, anything else as its text."""
    if isinstance(value, str):  # first: most cells that come one by one are text
        return value
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(cast(Any, value))):  # stubs: no object
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, dt.timedelta):
        return value
    return str(value)


def wall_clock(series: pd.Series) -> pd.Series:
    """A date-time column without its time zone, showing the times the member saw."""
    if getattr(series.dtype, "tz", None) is not None:
        return series.dt.tz_localize(None)
    return series


def day_numbers(series: pd.Series) -> np.ndarray:
    """A date-time column as Excel serials, or a duration column as fractions of a day; NaN where blank."""
    if series.dtype.kind == "M":
        series = wall_clock(series) - EXCEL_EPOCH
    return (cast("pd.Series[pd.Timedelta]", series) / ONE_DAY).to_numpy(dtype=float, na_value=math.nan)
