"""What a Python, NumPy or pandas value is in an Excel cell: the one answer both writers use.

Excel holds numbers, text, booleans and blanks; date-times and durations are numbers of days.
`excel_value` maps any value a table or the Dashboard holds to the plain Python value that stands
for it, and `day_numbers` does the same for a whole date-time or duration column, vectorised (the
headless writer's fast path). The writers only format the result: SpreadsheetML, or xlwings. Plain
Python values never import NumPy or pandas (a refresh that writes only the status cells loads neither).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

from pelotonxl.model.workbook import EXCEL_EPOCH

ExcelValue = None | bool | int | float | str | dt.datetime | dt.date | dt.timedelta

MAX_CELL_TEXT = 32767  # Excel's limit per cell
# What no cell can hold (XML 1.0 forbids these characters; lone surrogates cannot be encoded at all).
_NOT_IN_A_CELL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

SECONDS_PER_DAY = 86400


def excel_serial(value: dt.datetime | dt.date | dt.timedelta) -> float:
    """A date-time as Excel's day number (the 1900 system, its leap-year bug included before March
    1900), a duration as a fraction of days."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / SECONDS_PER_DAY
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    days = (value - EXCEL_EPOCH).days
    if 0 < days <= 60:
        days -= 1
    return days + (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 10**6) / SECONDS_PER_DAY


def cell_text(value: object) -> str:
    """Text as a cell holds it, for both writers: without the characters no cell can hold, at most
    32,767 characters (Excel's limit; the live writer would otherwise hand Excel what it refuses)."""
    text = value if isinstance(value, str) else str(value)
    return _NOT_IN_A_CELL.sub("", text)[:MAX_CELL_TEXT]


def excel_value(value: object) -> ExcelValue:
    """None for a blank (None, NaN, NaT, pd.NA, infinities); Python bool/int/float for NumPy
    scalars; a naive datetime for a date-time (its time zone dropped, the wall-clock time kept);
    a timedelta for a duration; text as `cell_text` makes it, anything else as its text."""
    if isinstance(value, str):  # first: most cells that come one by one are text
        return cell_text(value)
    # Plain Python values first (exact types: pandas' Timestamp is a datetime), without NumPy or pandas.
    if value is None:
        return None
    if type(value) in (bool, int, dt.date, dt.timedelta):
        return cast(ExcelValue, value)
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is dt.datetime:
        return value.replace(tzinfo=None)
    return _library_value(value)


def _library_value(value: object) -> ExcelValue:
    """excel_value of a NumPy or pandas value (or another kind of number or date)."""
    import numpy as np
    import pandas as pd

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
    return cell_text(value)


def wall_clock(series: pd.Series) -> pd.Series:
    """A date-time column without its time zone, showing the times the member saw."""
    if getattr(series.dtype, "tz", None) is not None:
        return series.dt.tz_localize(None)
    return series


def day_numbers(series: pd.Series) -> np.ndarray:
    """A date-time column as Excel serials, or a duration column as fractions of a day; NaN where blank."""
    import pandas as pd

    if series.dtype.kind == "M":
        series = wall_clock(series) - pd.Timestamp(EXCEL_EPOCH)
    return (cast("pd.Series[pd.Timedelta]", series) / pd.Timedelta(days=1)).to_numpy(dtype=float, na_value=math.nan)
