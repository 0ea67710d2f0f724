"""Fitness, fatigue and form from daily training load (the impulse-response model).

Fitness (CTL) and Fatigue (ATL) are exponentially weighted averages of the daily load, over 42 and 7
days: CTL_today = CTL_yesterday + (Load_today - CTL_yesterday) / 42, both starting from 0 the day
before the first workout. Form (TSB) is yesterday's CTL minus yesterday's ATL, so today's training
does not lower today's form. Ramp is the change of CTL over the last 7 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

CTL_DAYS = 42
ATL_DAYS = 7
RAMP_DAYS = 7
TABLE = "Fitness"
COLUMNS = ("Date", "Load", "Fitness (CTL)", "Fatigue (ATL)", "Form (TSB)", "Ramp (CTL/7 days)")
# What PELOTON_FITNESS answers: its second argument -> the column.
FIGURES = {"load": COLUMNS[1], "fitness": COLUMNS[2], "fatigue": COLUMNS[3], "form": COLUMNS[4], "ramp": COLUMNS[5]}


def ewma(load: np.ndarray, days: int) -> np.ndarray:
    """x_t = x_(t-1) + (load_t - x_(t-1)) / days, from x = 0 before the first day."""
    out = np.empty(len(load))
    value, share = 0.0, 1.0 / days
    for i, today in enumerate(load.tolist()):  # a few thousand days: a plain loop is microseconds each
        value += (today - value) * share
        out[i] = value
    return out


def daily_load(days: Iterable[date], loads: Iterable[float], last: date | None = None) -> pd.Series:
    """The load of each day from the first workout's day to `last` (default: the last workout's),
    the workouts of a day added up; a day without one is 0."""
    frame = pd.DataFrame({"day": pd.to_datetime(pd.Series(list(days), dtype="object")), "load": list(loads)})
    frame = frame.dropna()
    if frame.empty:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], name="Date"))
    summed = frame.groupby("day")["load"].sum()
    end = pd.Timestamp(last) if last is not None else summed.index.max()
    index = pd.date_range(summed.index.min(), max(end, summed.index.min()), freq="D", name="Date")
    return summed.reindex(index, fill_value=0.0).astype("float64")


def fitness_frame(load: pd.Series) -> pd.DataFrame:
    """One row per day of `load` (from `daily_load`): Date, Load, CTL, ATL, TSB, Ramp."""
    values = load.to_numpy("float64")
    if not len(values):
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == COLUMNS[0] else "float64") for c in COLUMNS})
    ctl, atl = ewma(values, CTL_DAYS), ewma(values, ATL_DAYS)
    before = np.concatenate([[0.0], ctl[:-1]]), np.concatenate([[0.0], atl[:-1]])
    week_ago = np.concatenate([np.zeros(RAMP_DAYS), ctl])[: len(ctl)]
    return pd.DataFrame(
        {
            COLUMNS[0]: pd.DatetimeIndex(load.index).to_numpy("datetime64[ns]"),
            COLUMNS[1]: values,
            COLUMNS[2]: ctl,
            COLUMNS[3]: atl,
            COLUMNS[4]: before[0] - before[1],
            COLUMNS[5]: ctl - week_ago,
        }
    )
