"""The Dashboard's power blocks: the power curve (all time and last 90 days) and the FTP estimate,
as figures and month by month. Apart from `dashboard` only to keep each module short; the same
`Block`s and `ChartSpec`s (dashboard_blocks), placed by `dashboard_layout` like the others.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pelotonxl.model.dashboard_blocks import MONTH_FORMAT, Block, ChartSpec

if TYPE_CHECKING:
    from pelotonxl.model.power_curve import PowerCurve

CURVE_CHART = ChartSpec(
    "PelotonPowerCurve",
    "Power curve: best average output",
    "scatter_log",
    "Duration (seconds, log scale)",
    "Watts (W)",
    axis_format="#,##0",
)
FTP_CHART = ChartSpec(
    "PelotonFtpHistory",
    "Estimated FTP by month (95 % of best 20 min, last 90 days)",
    "line",
    "Month",
    "Watts (W)",
    axis_format="mmm yy",
)
CURVE_COLOURS = {"All time (W)": "E4572E", "Last 90 days (W)": "2E86AB"}


def curve_block(curve: PowerCurve | None, today: date) -> Block:
    """Both power curves (all time, last 90 days) by duration in seconds."""
    from pelotonxl.model.power_curve import RECENT_DAYS

    durations = curve.durations if curve is not None else np.array([], dtype="int64")
    if curve is None or not len(durations):
        table = pd.DataFrame({"Duration (s)": [5], "All time (W)": [np.nan], "Last 90 days (W)": [np.nan]})
        note = "No Bike rides with per-second output yet."
    else:
        since = datetime.combine(today, datetime.min.time()) - pd.Timedelta(days=RECENT_DAYS)
        table = pd.DataFrame(
            {
                "Duration (s)": durations,
                "All time (W)": np.round(curve.bests()[0], 1),
                "Last 90 days (W)": np.round(curve.bests(since)[0], 1),
            }
        )
        note = ""
    return Block(
        "power_curve",
        "Best average output by duration (W)",
        table,
        {"Duration (s)": "#,##0", "All time (W)": "0", "Last 90 days (W)": "0"},
        dict(CURVE_COLOURS),
        note,
    )


def ftp_blocks(
    curve: PowerCurve | None, today: date, peloton_ftp: float | None, months: pd.DatetimeIndex
) -> tuple[Block, Block]:
    """The FTP headline (estimated all time, last 90 days, Peloton's) and the estimate for each of the
    monthly charts' `months`."""
    from pelotonxl.model.power_curve import RECENT_DAYS, ftp_history

    since = datetime.combine(today, datetime.min.time()) - pd.Timedelta(days=RECENT_DAYS)
    all_time, recent = (curve.ftp(), curve.ftp(since)) if curve else (None, None)
    figures = pd.DataFrame(
        [["FTP (W)", all_time, recent, peloton_ftp]],
        columns=["", "All-time est.", "90-day est.", "Peloton's"],
    )
    # A blank estimate says why, beside the figures.
    if all_time is None:
        why = "No ride of 20 minutes or more yet: the estimates need one."
    elif recent is None:
        why = f"90-day est.: no ride of 20 minutes or more in the last {RECENT_DAYS} days."
    else:
        why = ""
    headline_block = Block("ftp", "FTP", figures, {c: "0" for c in figures.columns[1:]}, caption=why)
    history = (
        ftp_history(curve, months)
        if curve is not None and len(curve.rides)
        else pd.DataFrame({"Month": months, "Estimated FTP (W)": np.nan})
    )
    note = "" if history["Estimated FTP (W)"].notna().any() else "No 20-minute ride yet: FTP needs one."
    return headline_block, Block(
        "ftp_history",
        "Estimated FTP by month (W)",
        history,
        {"Month": MONTH_FORMAT, "Estimated FTP (W)": "0"},
        {"Estimated FTP (W)": "B8321A"},
        note,
    )
