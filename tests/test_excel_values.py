"""The one answer to "what is this value in an Excel cell", which both writers use."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pelotonxl.model.excel_values import day_numbers, excel_value


@pytest.mark.parametrize(
    "blank",
    [
        None,
        float("nan"),
        np.nan,
        np.float64("inf"),
        -float("inf"),
        pd.NaT,
        np.datetime64("NaT"),
        np.timedelta64("NaT"),
        pd.NA,
    ],
)
def test_blanks(blank):
    assert excel_value(blank) is None


def test_numpy_and_pandas_scalars_become_python_values():
    cases = [
        (np.int64(3), 3, int),
        (np.float32(1.5), 1.5, float),
        (np.bool_(True), True, bool),
        (pd.Timestamp("2024-03-01 06:15"), dt.datetime(2024, 3, 1, 6, 15), dt.datetime),
        (np.datetime64("2024-03-01T06:15"), dt.datetime(2024, 3, 1, 6, 15), dt.datetime),
        (pd.Timedelta(minutes=45), dt.timedelta(minutes=45), dt.timedelta),
        (np.timedelta64(90, "s"), dt.timedelta(seconds=90), dt.timedelta),
        (dt.date(2024, 3, 1), dt.date(2024, 3, 1), dt.date),
        ("07", "07", str),
        (12, 12, int),
    ]
    for value, expected, kind in cases:
        got = excel_value(value)
        assert got == expected and type(got) is kind, value


def test_a_time_zone_is_dropped_keeping_the_wall_clock_time():
    aware = pd.Timestamp("2024-03-01 06:15", tz="America/New_York")
    assert excel_value(aware) == dt.datetime(2024, 3, 1, 6, 15)
    assert excel_value(aware.to_pydatetime()).tzinfo is None
    column = pd.Series(pd.to_datetime(["2024-03-01 06:15", None]).tz_localize("Europe/London"))
    assert day_numbers(column)[0] == pytest.approx(45352.260416666664)
    assert np.isnan(day_numbers(column)[1])


def test_durations_are_fractions_of_a_day():
    assert day_numbers(pd.Series(pd.to_timedelta(["6:00:00", "0:45:00"]))).tolist() == [0.25, 0.03125]
