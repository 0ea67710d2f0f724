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
from pelotonxl.model.workbook import BRICK, ORANGE_RED, STEEL_BLUE

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
CURVE_COLOURS = {"All time (W)": ORANGE_RED, "Last 90 days (W)": STEEL_BLUE, "Last 365 days (W)": "7A9E3E"}


def curve_block(curve: PowerCurve | None, today: date) -> Block:
    """The power curves (all time, last 90 days, last 365 days) by duration in seconds."""
    from pelotonxl.model.power_curve import RECENT_DAYS, YEAR_DAYS

    durations = curve.durations if curve is not None else np.array([], dtype="int64")
    if curve is None or not len(durations):
        table = pd.DataFrame(
            {"Duration (s)": [5], "All time (W)": [np.nan], "Last 90 days (W)": [np.nan], "Last 365 days (W)": [np.nan]}
        )
        note = "No Bike rides with per-second output yet."
    else:
        midnight = datetime.combine(today, datetime.min.time())
        table = pd.DataFrame(
            {
                "Duration (s)": durations,
                "All time (W)": np.round(curve.bests()[0], 1),
                "Last 90 days (W)": np.round(curve.bests(midnight - pd.Timedelta(days=RECENT_DAYS))[0], 1),
                "Last 365 days (W)": np.round(curve.bests(midnight - pd.Timedelta(days=YEAR_DAYS))[0], 1),
            }
        )
        note = ""
    return Block(
        "power_curve",
        "Best average output by duration (W)",
        table,
        {"Duration (s)": "#,##0", "All time (W)": "0", "Last 90 days (W)": "0", "Last 365 days (W)": "0"},
        dict(CURVE_COLOURS),
        note,
    )


def ftp_blocks(
    curve: PowerCurve | None, today: date, peloton_ftp: float | None, months: pd.DatetimeIndex
) -> tuple[Block, Block]:
    """The FTP headline (estimated all time, last 90 days, Peloton's; beside it the critical power and
    W' fitted to the all-time bests) and the estimate for each of the monthly charts' `months`."""
    from pelotonxl.model.power_curve import RECENT_DAYS, critical_power, ftp_history

    since = datetime.combine(today, datetime.min.time()) - pd.Timedelta(days=RECENT_DAYS)
    fit = critical_power(curve.durations, curve.bests()[0]) if curve is not None else None
    all_time, recent = (curve.ftp(), curve.ftp(since)) if curve else (None, None)
    figures = pd.DataFrame(
        [
            [
                "FTP (W)",
                all_time,
                recent,
                peloton_ftp,
                round(fit[0], 1) if fit else None,
                round(fit[1] / 1000, 1) if fit else None,
            ]
        ],
        columns=["", "All-time est.", "90-day est.", "Peloton's", "CP (W)", "W′ (kJ)"],
    )
    formats = {c: "0" for c in figures.columns[1:]}
    formats["W′ (kJ)"] = "0.0"
    # A blank estimate says why, beside the figures (short: two columns before the bests' block).
    if all_time is None:
        why = "No 20-min ride yet"
    elif recent is None:
        why = f"No 20-min ride in {RECENT_DAYS} days"
    else:
        why = ""
    headline_block = Block("ftp", "FTP", figures, formats, caption=why)
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
        {"Estimated FTP (W)": BRICK},
        note,
    )
