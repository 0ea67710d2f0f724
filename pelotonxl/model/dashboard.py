"""The Dashboard's figures: weekly volume, output trend, heart-rate zones, records, streaks, totals.

Computed with pandas from the Workouts and Metrics `SheetTable`s that `tables.build_tables`
returns (store → tables → dashboard → workbook). Nothing here knows about Excel: the result is a
`Dashboard` of small frames (`Block`s) and chart descriptions (`ChartSpec`s), which
`dashboard_layout` places on the Dashboard and data sheets for both writers.

"Now" is passed in (the refresh time; tests pin it). A week is an ISO week (Monday to Sunday) and
dates are the workouts' own local dates, as in the Workouts sheet. Every block has at least one
row and one series, so a chart never points at an empty range: an account with nothing to show
gets zeros and a "no data yet" note instead.

Old data is not no data: when the newest workout is more than 52 weeks old, the weekly and monthly
charts end at it (the last year that has data) and their notes say so, rather than drawing a year
of zeros; a "no ... yet" note appears only when the account has never had that figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pelotonxl.model.catalog import METRES_PER
from pelotonxl.model.dashboard_blocks import MONTH_FORMAT, Block, ChartSpec
from pelotonxl.model.dashboard_power import (
    CURVE_CHART,
    FTP_CHART,
    curve_block,
    ftp_blocks,
)
from pelotonxl.model.workbook import (
    BRICK,
    CRIMSON,
    DASHBOARD_DATA_SHEET,
    DASHBOARD_SHEET,
    ID_COLUMN,
    LIGHT_GREY,
    ORANGE_RED,
    PURPLE,
    STEEL_BLUE,
)

if TYPE_CHECKING:
    from pelotonxl.model.power_curve import PowerCurve
    from pelotonxl.model.tables import SheetTable

SHEET = DASHBOARD_SHEET
DATA_SHEET = DASHBOARD_DATA_SHEET
WEEKS = 52
WEEKS_FORMAT = '[=1]0 "week";0 "weeks"'  # "1 week", "3 weeks"
MIN_MONTHS, MAX_MONTHS = 12, 36
ROLLING_RIDES = 10
RECORD_LENGTHS = (10, 20, 30, 45, 60)
TOP_INSTRUCTORS = 10
RIDE = "Cycling"

# One colour per discipline, the same in every chart and table (RGB hex, no '#').
DISCIPLINE_COLOURS = {
    "Cycling": ORANGE_RED,
    "Running": STEEL_BLUE,
    "Walking": "76B041",
    "Strength": PURPLE,
    "Yoga": "F2A541",
    "Stretching": "17BEBB",
    "Meditation": "B39DDB",
    "Rowing": "1B4F72",
    "Cardio": "F25F5C",
    "Bike Bootcamp": "A23B72",
    "Tread Bootcamp": "3D5A80",
    "Row Bootcamp": "5C946E",
    "Circuit": "8D6E63",
    "Beyond the Ride": "607D8B",
}
# For disciplines Peloton adds later, in order of first appearance (sorted by name).
SPARE_COLOURS = ("C9A227", "4E937A", "B5838D", "6D597A", "355070", "E56B6F", "84A59D", "9C6644")
ZONE_COLOURS = ("8FB8DE", "76B041", "F2C14E", "F78154", CRIMSON)
OUTPUT_COLOURS = {"Avg output (W)": "F4A38C", f"{ROLLING_RIDES}-ride average (W)": BRICK}
NO_DATA_COLOUR = LIGHT_GREY

MINUTES_FORMAT = "#,##0"
KJ_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
TABLE_DATE_FORMAT = 'yyyy-mm-dd"  "'  # two spaces keep a date off the text beside it
COUNT_FORMAT = '#,##0;-#,##0;"–"'  # a dash for zero: "no output" reads better than 0
WEEK_FORMAT = "d mmm yy"


@dataclass
class Dashboard:
    now: datetime
    distance_unit: str | None
    workout_count: int
    headline: Block
    charts: list[tuple[ChartSpec, Block]]  # each chart with the data block it plots
    tables: list[Block]  # records, streaks, totals: shown as cells
    last_workout: date | None = None  # the newest workout's local date
    signed_in: bool = False  # built by a refresh (an account answered), not the template
    name: str = SHEET
    data_sheet: str = DATA_SHEET

    def block(self, key: str) -> Block:
        return next(b for b in [self.headline, *self.tables, *(b for _, b in self.charts)] if b.key == key)


# --- the input, tidied ------------------------------------------------------------------------------


def workouts_frame(
    workouts_table: SheetTable | None, metrics_table: SheetTable | None
) -> tuple[pd.DataFrame, str | None]:
    """One row per workout (start, week, month, discipline, minutes, kJ and the metrics used here,
    found by slug), and the member's distance unit. A table that is None counts as empty."""
    workouts = workouts_table.frame if workouts_table else pd.DataFrame(columns=[ID_COLUMN, "Start"])
    metrics = metrics_table.frame if metrics_table else pd.DataFrame(columns=[ID_COLUMN])
    columns = metrics_table.metric_columns if metrics_table else {}
    frame = pd.DataFrame(
        {
            "id": workouts[ID_COLUMN],
            "start": pd.to_datetime(workouts["Start"]),
            "discipline": _column(workouts, "Discipline", "object").fillna("Other"),
            "title": _column(workouts, "Class Title", "object"),
            "instructor": _column(workouts, "Instructor", "object"),
            "length": _column(workouts, "Class Length (min)", "float64"),
            "kj": _column(workouts, "Total Output (kJ)", "float64"),
        }
    )
    duration = pd.to_timedelta(_column(workouts, "Duration", "timedelta64[ns]"))
    # An unfinished workout has no duration yet: count its class length.
    frame["minutes"] = (duration.dt.total_seconds() / 60).fillna(frame["length"]).fillna(0.0)
    frame = frame[frame["start"].notna()].reset_index(drop=True)
    wanted = {"watts": "avg_output", "kcal": "calories", **{f"zone{n}": f"hr_zone_{n}" for n in range(1, 6)}}
    extra = pd.DataFrame({"id": metrics[ID_COLUMN]})
    for name, slug in wanted.items():
        column = _metric_column(metrics, [c for (s, _), c in columns.items() if s == slug])
        extra[name] = metrics[column].astype("float64") if column else np.nan
    unit, distance = _distance(metrics, {u: c for (s, u), c in columns.items() if s == "distance" and c in metrics})
    extra["distance"] = distance
    frame = frame.merge(extra.drop_duplicates("id"), on="id", how="left")
    frame["day"] = frame["start"].dt.normalize()
    frame["week"] = frame["day"] - pd.to_timedelta(frame["day"].dt.day_of_week, unit="D")
    frame["month"] = frame["day"].dt.to_period("M").dt.to_timestamp()
    return frame, unit


def _column(frame: pd.DataFrame, name: str, dtype: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=dtype)


def _metric_column(metrics: pd.DataFrame, candidates: list[str]) -> str | None:
    """Of a metric's columns (one per unit), the one most workouts have."""

    def filled(column: str) -> int:
        values: pd.Series = metrics[column]
        return values.count()

    return max(candidates, key=filled, default=None)


def _distance(metrics: pd.DataFrame, by_unit: dict[str | None, str]) -> tuple[str | None, pd.Series]:
    """The member's distance unit (mi or km: whichever more workouts use; else the only one there is)
    and each workout's distance converted to it: a row's metres count in a total of miles."""
    counts = {unit: int(metrics[column].notna().sum()) for unit, column in by_unit.items() if unit in METRES_PER}
    counts = {unit: n for unit, n in counts.items() if n}
    if not counts:
        return None, pd.Series(np.nan, index=metrics.index)
    road = {unit: n for unit, n in counts.items() if unit in ("mi", "km")} or counts
    unit = max(road, key=lambda u: (road[u], u == "mi"))
    distance = pd.Series(np.nan, index=metrics.index)
    for other in sorted(counts, key=lambda u: u != unit):  # the member's own unit first, unconverted
        converted = metrics[by_unit[other]].astype("float64") * (METRES_PER[other] / METRES_PER[unit])
        distance = distance.fillna(converted)
    return unit, distance


def discipline_colours(disciplines: Iterable[str]) -> dict[str, str]:
    """Each discipline's colour: the fixed one, else a spare one by name order."""
    names = sorted(set(disciplines))
    spare = iter(SPARE_COLOURS * (1 + len(names) // len(SPARE_COLOURS)))
    return {d: DISCIPLINE_COLOURS[d] if d in DISCIPLINE_COLOURS else next(spare) for d in names}


def _discipline_order(frame: pd.DataFrame) -> list[str]:
    """Disciplines by all-time minutes, most first: the stacking order of every chart."""
    totals = frame.groupby("discipline")["minutes"].sum()
    return sorted(totals.index, key=lambda d: (-totals[d], d))


# --- the charts' data --------------------------------------------------------------------------------


def _monday(day: date) -> pd.Timestamp:
    return pd.Timestamp(day) - pd.Timedelta(days=day.weekday())


def chart_end(frame: pd.DataFrame, today: date) -> date:
    """The day the weekly and monthly charts end: today, or the newest workout's day when that is
    more than 52 weeks ago (so an account whose workouts are years old shows its last year of them)."""
    last = last_workout(frame, today)
    return last if last is not None and last < today - timedelta(weeks=WEEKS) else today


def last_workout(frame: pd.DataFrame, today: date) -> date | None:
    """The newest workout's local date up to today; None for an account without workouts."""
    days = frame.loc[frame["day"] <= pd.Timestamp(today), "day"]
    return days.max().date() if len(days) else None


def _note(
    frame: pd.DataFrame,
    shown: bool,
    end: date,
    today: date,
    span: str,
    has: pd.Series | None = None,
    what: str = "",
    never: str = "",
) -> str:
    """A weekly or monthly chart's note: which span it shows when the newest workout is old; when it
    has nothing to draw, `never` if no workout ever had the figure, else when the last one did."""
    if shown:
        return (
            ""
            if end == today
            else f"Nothing in the last {WEEKS} weeks; last workout {end:%Y-%m-%d}: these are the {span} up to it."
        )
    dated = frame.loc[has, "day"] if has is not None else frame["day"].iloc[:0]
    return f"No {what} in these months; the last was on {dated.max():%Y-%m-%d}." if len(dated) else never


def weekly_minutes(frame: pd.DataFrame, today: date, order: list[str], end: date | None = None) -> Block:
    end = end or today
    weeks = pd.date_range(end=_monday(end), periods=WEEKS, freq="7D")
    recent = frame[frame["week"].isin(weeks)]
    table = recent.pivot_table(index="week", columns="discipline", values="minutes", aggfunc="sum")
    columns = [d for d in order if d in table.columns]
    table = table.reindex(index=weeks, columns=columns).fillna(0.0).round(1)
    note = _note(
        frame, bool(columns), end, today, f"{WEEKS} weeks", never=f"No workouts in the last {WEEKS} weeks yet."
    )
    if not columns:
        table["No workouts yet"] = 0.0
    block_frame = table.reset_index(names="Week starting")
    return Block(
        "weekly_minutes",
        "Minutes per week by discipline",
        block_frame,
        {"Week starting": WEEK_FORMAT, **{c: MINUTES_FORMAT for c in table.columns}},
        _series_colours(table.columns),
        note,
    )


def chart_months(frame: pd.DataFrame, today: date) -> pd.DatetimeIndex:
    """The months the monthly charts show: back to the first workout, 12 to 36 of them, ending with
    the month of `today` (the chart_end)."""
    current = pd.Timestamp(today.year, today.month, 1)
    first = frame["month"].min() if len(frame) else current
    span = (current.year - first.year) * 12 + current.month - first.month + 1
    return pd.date_range(end=current, periods=min(max(span, MIN_MONTHS), MAX_MONTHS), freq="MS")


def monthly_output(frame: pd.DataFrame, today: date, order: list[str], end: date | None = None) -> Block:
    end = end or today
    months = chart_months(frame, end)
    recent = frame[frame["month"].isin(months) & frame["kj"].notna()]
    table = recent.pivot_table(index="month", columns="discipline", values="kj", aggfunc="sum")
    columns = [d for d in order if d in table.columns]
    table = table.reindex(index=months, columns=columns).fillna(0.0).round(1)
    note = _note(
        frame,
        bool(columns),
        end,
        today,
        "months",
        frame["kj"].gt(0),
        "output (kJ)",
        "No output (kJ) yet: rides and rows measure it.",
    )
    if not columns:
        table["No output yet"] = 0.0
    return Block(
        "monthly_output",
        "Total output per month (kJ)",
        table.reset_index(names="Month"),
        {"Month": MONTH_FORMAT, **{c: KJ_FORMAT for c in table.columns}},
        _series_colours(table.columns),
        note,
    )


def monthly_zones(frame: pd.DataFrame, today: date, end: date | None = None) -> Block:
    end = end or today
    months = chart_months(frame, end)
    zones = [f"zone{n}" for n in range(1, 6)]
    recent = frame[frame["month"].isin(months)]
    table = recent.groupby("month")[zones].sum(min_count=1).reindex(months)
    has_data = bool(table.notna().any().any())
    table = table.fillna(0.0).round(1)
    table.columns = [f"Zone {n}" for n in range(1, 6)]
    note = _note(
        frame,
        has_data,
        end,
        today,
        "months",
        frame[zones].notna().any(axis=1),
        "heart-rate data",
        "No heart-rate data yet: wear a heart-rate monitor to see your zones.",
    )
    return Block(
        "monthly_zones",
        "Minutes in each heart-rate zone per month",
        table.reset_index(names="Month"),
        {"Month": MONTH_FORMAT, **{c: MINUTES_FORMAT for c in table.columns}},
        dict(zip(table.columns, ZONE_COLOURS, strict=False)),
        note,
    )


def ride_output(frame: pd.DataFrame) -> Block:
    rides = frame[(frame["discipline"] == RIDE) & frame["watts"].notna()].sort_values("start")
    average = f"{ROLLING_RIDES}-ride average (W)"
    table = pd.DataFrame(
        {
            "Ride": rides["start"].to_numpy(),
            "Avg output (W)": rides["watts"].round(1).to_numpy(),
            average: rides["watts"].rolling(ROLLING_RIDES, min_periods=1).mean().round(1).to_numpy(),
        }
    )
    note = ""
    if table.empty:
        note = "No rides with output yet."
        table = pd.DataFrame({"Ride": [pd.NaT], "Avg output (W)": [np.nan], average: [np.nan]})
    return Block(
        "ride_output",
        "Average output per ride (W)",
        table,
        {"Ride": DATE_FORMAT, "Avg output (W)": "0", average: "0"},
        dict(OUTPUT_COLOURS),
        note,
    )


def _series_colours(columns: Iterable[str]) -> dict[str, str]:
    columns = list(columns)
    colours = discipline_colours(c for c in columns if not c.startswith("No "))
    return {c: colours.get(c, NO_DATA_COLOUR) for c in columns}


# --- records, streaks, totals ------------------------------------------------------------------------


def headline(frame: pd.DataFrame, today: date) -> Block:
    periods = {
        "This week": frame["week"] == _monday(today),
        "This month": frame["month"] == pd.Timestamp(today.year, today.month, 1),
        "This year": frame["start"].dt.year == today.year,
        "All time": pd.Series(True, index=frame.index),
    }
    rows: dict[str, list[int]] = {"Workouts": [], "Minutes": [], "Output (kJ)": []}
    for chosen in periods.values():
        picked = frame[chosen & (frame["day"] <= pd.Timestamp(today))]
        rows["Workouts"].append(int(len(picked)))
        rows["Minutes"].append(int(round(picked["minutes"].sum())))
        rows["Output (kJ)"].append(int(round(picked["kj"].sum())))
    table = pd.DataFrame([[label, *values] for label, values in rows.items()], columns=["", *periods])
    return Block("headline", "At a glance", table, {p: "#,##0" for p in periods})


def weekly_streaks(frame: pd.DataFrame, today: date) -> tuple[int, pd.Timestamp | None, int, pd.Timestamp | None]:
    """(current streak, its first week, longest streak, its first week), in weeks with a workout.

    The current streak still counts while this week has no workout yet: it ends only when a
    whole week passes without one.
    """
    weeks = sorted(set(frame.loc[frame["day"] <= pd.Timestamp(today), "week"]))
    longest, longest_start, run, run_start, previous = 0, None, 0, None, None
    for week in weeks:
        if previous is not None and week - previous == pd.Timedelta(days=7):
            run += 1
        else:
            run, run_start = 1, week
        if run > longest:
            longest, longest_start = run, run_start
        previous = week
    this_week = _monday(today)
    alive = previous is not None and this_week - previous <= pd.Timedelta(days=7)
    return (run, run_start, longest, longest_start) if alive else (0, None, longest, longest_start)


def records_by_length(frame: pd.DataFrame) -> Block:
    rides = frame[(frame["discipline"] == RIDE) & frame["kj"].notna()]
    rows: list[list[object]] = []
    for minutes in RECORD_LENGTHS:
        same = rides[rides["length"].round(2) == minutes]
        if same.empty:
            rows.append([f"{minutes} min", None, None, None, "no ride yet"])
            continue
        best = same.iloc[same["kj"].argmax()]
        rows.append([f"{minutes} min", float(best["kj"]), _or_none(best["watts"]), best["start"], _named(best)])
    table = pd.DataFrame(rows, columns=["Class length", "Best (kJ)", "Avg (W)", "Date", "Workout"])
    note = "" if len(rides) else "No rides with output yet."
    return Block(
        "records",
        "Best ride output by class length",
        table,
        {"Best (kJ)": "0.0", "Avg (W)": "0", "Date": TABLE_DATE_FORMAT},
        note=note,
    )


def bests_and_streaks(frame: pd.DataFrame, today: date, unit: str | None) -> Block:
    current, current_start, longest, longest_start = weekly_streaks(frame, today)
    rides = frame[frame["discipline"] == RIDE]
    rows: list[list[object]] = []
    formats: dict[str, str] = {}

    def add(label: str, value: object, number_format: str, when: object, what: object) -> None:
        rows.append([label, value, when, what])
        formats[label] = number_format

    # A streak is no workout: its Workout cell stays empty, and the caption says what the date is.
    add("Current weekly streak", current, WEEKS_FORMAT, current_start, None)
    add("Longest weekly streak", longest, WEEKS_FORMAT, longest_start, None)
    if rides["minutes"].gt(0).any():
        ride = rides.iloc[rides["minutes"].argmax()]
        add("Longest ride", round(float(ride["minutes"]), 1), '0 "min"', ride["start"], _named(ride))
    else:
        add("Longest ride", None, "General", None, "no ride yet")
    if unit and rides["distance"].notna().any():
        ride = rides.iloc[rides["distance"].argmax()]
        add(f"Farthest ride ({unit})", float(ride["distance"]), f'0.0 "{unit}"', ride["start"], _named(ride))
    if frame["kcal"].notna().any():
        top = frame.iloc[frame["kcal"].argmax()]
        add("Most calories", float(top["kcal"]), '0 "kcal"', top["start"], _named(top))
    else:
        add("Most calories", None, "General", None, "no calories measured yet")
    table = pd.DataFrame(rows, columns=["Record", "Value", "Date", "Workout"])
    caption = "A weekly streak counts weeks in a row with a workout, from the Monday shown."
    if current == 0:
        caption += " No workout last week or this week: no current streak."
    return Block("bests", "Streaks and bests", table, {"Date": TABLE_DATE_FORMAT}, row_formats=formats, caption=caption)


def _named(workout: pd.Series) -> str:
    """A record's workout as the Dashboard names it: its discipline, then its title ("Cycling: 30 min HIIT")."""
    title = workout.get("title")
    discipline = workout.get("discipline")
    if not isinstance(title, str) or not title:
        return str(discipline) if isinstance(discipline, str) else ""
    return f"{discipline}: {title}" if isinstance(discipline, str) and discipline else title


def discipline_totals(frame: pd.DataFrame, order: list[str], unit: str | None) -> Block:
    distance = f"Distance ({unit})" if unit else "Distance"
    grouped = frame.groupby("discipline")
    table = pd.DataFrame(
        {
            "Discipline": order,
            "Workouts": [int(grouped.size().get(d, 0)) for d in order],
            "Minutes": [round(float(grouped["minutes"].sum().get(d, 0.0))) for d in order],
            "Output (kJ)": [round(float(grouped["kj"].sum().get(d, 0.0))) for d in order],
            distance: [round(float(grouped["distance"].sum().get(d, 0.0)), 1) for d in order],
        }
    )
    note = "" if order else "No workouts yet: Peloton → Refresh fills this in."
    return Block(
        "disciplines",
        "Totals by discipline",
        table,
        {
            "Workouts": COUNT_FORMAT,
            "Minutes": COUNT_FORMAT,
            "Output (kJ)": COUNT_FORMAT,
            distance: '#,##0.0;-#,##0.0;"–"',
        },
        discipline_colours(order),
        note,
    )


def top_instructors(frame: pd.DataFrame) -> Block:
    taught = frame[frame["instructor"].notna()]
    stats = taught.groupby("instructor").agg(workouts=("id", "size"), minutes=("minutes", "sum"))
    stats = stats.reset_index().sort_values(["workouts", "minutes", "instructor"], ascending=[False, False, True])
    stats = stats.head(TOP_INSTRUCTORS)
    table = pd.DataFrame(
        {
            "Instructor": stats["instructor"].to_list(),
            "Workouts": stats["workouts"].astype(int).to_list(),
            "Minutes": [int(round(m)) for m in stats["minutes"]],
        }
    )
    note = "" if len(table) else "No classes with an instructor yet."
    return Block(
        "instructors", f"Top {TOP_INSTRUCTORS} instructors", table, {"Workouts": "#,##0", "Minutes": "#,##0"}, note=note
    )


def _or_none(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


# --- all of it ---------------------------------------------------------------------------------------

# "52 weeks", not "the last 52": an account whose workouts are old shows the 52 weeks up to its newest.
WEEKLY_CHART = ChartSpec(
    "PelotonWeeklyVolume",
    f"Minutes per week, {WEEKS} weeks",
    "stacked_column",
    "Week starting (Monday)",
    "Minutes",
    label_every=4,
)
OUTPUT_CHART = ChartSpec(
    "PelotonRideOutput", "Average output per ride", "line", "Ride date", "Watts (W)", axis_format="mmm yy"
)
MONTHLY_KJ_CHART = ChartSpec("PelotonMonthlyOutput", "Total output per month", "stacked_column", "Month", "Output (kJ)")
ZONES_CHART = ChartSpec(
    "PelotonHeartRateZones", "Time in heart-rate zones per month", "stacked_column", "Month", "Minutes"
)


def chart_names() -> set[str]:
    """The names of the charts a refresh owns on the Dashboard sheet."""
    return {spec.key for spec in (WEEKLY_CHART, OUTPUT_CHART, MONTHLY_KJ_CHART, ZONES_CHART, CURVE_CHART, FTP_CHART)}


def build_dashboard(
    workouts: SheetTable | None,
    metrics: SheetTable | None,
    now: datetime,
    curve: PowerCurve | None = None,
    peloton_ftp: float | None = None,
    *,
    signed_in: bool = False,
) -> Dashboard:
    """Every figure the Dashboard shows, as of `now` (the refresh time, naive local); `curve` from
    `power_curve.power_curve` and Peloton's own FTP (from /api/me) when the refresh has them.
    `signed_in`: a refresh built it, so an empty account is one Peloton answered for, not one not set up."""
    frame, unit = workouts_frame(workouts, metrics)
    today = now.date()
    end = chart_end(frame, today)
    order = _discipline_order(frame)
    ftp, ftp_by_month = ftp_blocks(curve, today, peloton_ftp, chart_months(frame, end))
    return Dashboard(
        now=now,
        distance_unit=unit,
        workout_count=len(frame),
        headline=headline(frame, today),
        charts=[
            (WEEKLY_CHART, weekly_minutes(frame, today, order, end)),
            (OUTPUT_CHART, ride_output(frame)),
            (MONTHLY_KJ_CHART, monthly_output(frame, today, order, end)),
            (ZONES_CHART, monthly_zones(frame, today, end)),
            (CURVE_CHART, curve_block(curve, today)),
            (FTP_CHART, ftp_by_month),
        ],
        tables=[
            bests_and_streaks(frame, today, unit),
            records_by_length(frame),
            discipline_totals(frame, order, unit),
            top_instructors(frame),
            ftp,
        ],
        last_workout=last_workout(frame, today),
        signed_in=signed_in,
    )
