"""The Dashboard's training-load charts: fitness, fatigue and form over the last 365 days, and the
weekly minutes in each power zone. Apart from `dashboard` to keep each module short; the same `Block`s
and `ChartSpec`s, placed by `dashboard_layout` like the others.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from pelotonxl.model import fitness
from pelotonxl.model import training_load as tl
from pelotonxl.model.dashboard_blocks import Block, ChartSpec

DAYS = 365
WEEKS = 52
WEEK_FORMAT = "d mmm yy"
FITNESS_CHART = ChartSpec(
    "PelotonFitness",
    f"Fitness, fatigue and form, last {DAYS} days",
    "line",
    "Day",
    "Load per day (TSS)",
    axis_format="mmm yy",
    drawn_as=(("Form (TSB)", "area"),),  # the lines for CTL and ATL, an area for TSB
)
POWER_ZONES_CHART = ChartSpec(
    "PelotonPowerZones",
    f"Time in power zones per week, {WEEKS} weeks",
    "stacked_column",
    "Week starting (Monday)",
    "Minutes",
    label_every=4,
)
FITNESS_COLOURS = {"Fitness (CTL)": "2E86AB", "Fatigue (ATL)": "E4572E", "Form (TSB)": "7A9E3E"}
# Cool to hot, one per power zone.
POWER_ZONE_COLOURS = ("9DB4C0", "5C9EAD", "76B041", "F2C14E", "F78154", "D7263D", "7B2D26")
ZONE_HEADERS = tuple(f"Z{z} (min)" for z in range(1, tl.ZONES + 1))


def fitness_block(table: pd.DataFrame | None, today: date) -> Block:
    """CTL, ATL and TSB for each of the last DAYS days up to `today` (from the Fitness table's rows)."""
    days = pd.date_range(end=pd.Timestamp(today), periods=DAYS, freq="D")
    columns = list(FITNESS_COLOURS)
    source = {
        "Fitness (CTL)": fitness.COLUMNS[2],
        "Fatigue (ATL)": fitness.COLUMNS[3],
        "Form (TSB)": fitness.COLUMNS[4],
    }
    if table is None or table.empty:
        frame = pd.DataFrame({"Day": days, **{c: np.nan for c in columns}})
        note = "No workout with power or heart rate yet: no training load."
    else:
        indexed = table.set_index(fitness.COLUMNS[0])
        frame = pd.DataFrame({"Day": days})
        for name in columns:
            frame[name] = indexed[source[name]].reindex(days).round(1).to_numpy()
        note = ""
    return Block(
        "fitness",
        "Fitness, fatigue and form (per day)",
        frame,
        {"Day": "yyyy-mm-dd", **{c: "0.0" for c in columns}},
        dict(FITNESS_COLOURS),
        note,
    )


def power_zones_block(metrics: pd.DataFrame | None, end: date) -> Block:
    """Minutes in each power zone, per week (Monday to Sunday), the WEEKS weeks up to `end`."""
    monday = pd.Timestamp(end) - pd.Timedelta(days=end.weekday())
    weeks = pd.date_range(end=monday, periods=WEEKS, freq="7D")
    zone_columns = [f"Power Zone {z} (min)" for z in range(1, tl.ZONES + 1)]
    table = pd.DataFrame(0.0, index=weeks, columns=list(ZONE_HEADERS))
    note = "No ride scored against an FTP yet: no power zones."
    if metrics is not None and set(zone_columns) <= set(metrics.columns) and metrics[zone_columns].notna().any().any():
        starts = pd.to_datetime(metrics["Start"])
        week = (starts.dt.normalize() - pd.to_timedelta(starts.dt.day_of_week, unit="D")).rename("week")
        sums = metrics[zone_columns].fillna(0.0).groupby(week).sum()
        sums.columns = list(ZONE_HEADERS)
        table = sums.reindex(weeks).fillna(0.0).round(1)
        recent = table.to_numpy().sum() > 0
        note = "" if recent else f"No ride with power zones in these {WEEKS} weeks."
    return Block(
        "power_zones",
        "Minutes in power zones per week",
        table.reset_index(names="Week starting"),
        {"Week starting": WEEK_FORMAT, **{c: "#,##0" for c in ZONE_HEADERS}},
        dict(zip(ZONE_HEADERS, POWER_ZONE_COLOURS, strict=True)),
        note,
    )
