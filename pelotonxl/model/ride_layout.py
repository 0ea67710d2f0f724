"""Where the Ride sheet's pieces go, for both writers (as `dashboard_layout` does for the Dashboard).

The Ride sheet holds the title, the attempts' figures and the segments at the top and the charts below;
the numbers the charts plot (a row per sample) are on the Ride Data sheet, side by side, so the Ride
sheet prints on one page and the member can still read every plotted value.
"""

from __future__ import annotations

import pandas as pd

from pelotonxl.model.dashboard import ChartSpec
from pelotonxl.model.dashboard_layout import Cell, ChartPlace, Rect, Role, SheetPlan, chart_data
from pelotonxl.model.excel_values import excel_value
from pelotonxl.model.ride_view import DATA_SHEET, SECOND, SERIES, SHEET, RideView
from pelotonxl.model.workbook import CRIMSON, GREY, LIGHT_GREY, ORANGE_RED, PURPLE, STEEL_BLUE

DATA_COL = 1
CHART_TOP = 16
CHART_COLS, CHART_ROWS = 8, 17
LEFT, RIGHT = 2, 11
WIDTHS = {1: 2.0, 2: 24.0, **{c: 13.0 for c in range(3, 19)}, 10: 3.0}
ATTEMPT_COLOURS = (ORANGE_RED, GREY, LIGHT_GREY)
SERIES_COLOURS = {
    "Output (W)": ORANGE_RED,
    "Cadence (rpm)": STEEL_BLUE,
    "Resistance (%)": PURPLE,
    "Heart Rate (bpm)": CRIMSON,
}

OVERLAY_CHART = ChartSpec("PelotonRideAttempts", "Output against earlier attempts", "scatter", "Second", "Watts (W)")
METRIC_CHARTS = {
    header: ChartSpec(f"PelotonRide{slug.title().replace('_', '')}", header.split(" (")[0], "scatter", "Second", header)
    for slug, header in SERIES.items()
}


def chart_names() -> set[str]:
    """The charts a refresh owns on the Ride sheet."""
    return {OVERLAY_CHART.key, *(spec.key for spec in METRIC_CHARTS.values())}


def plan(view: RideView | None, data_sheet: str = DATA_SHEET) -> SheetPlan:
    """The Ride sheet (`dashboard`), the Ride Data sheet (`data`) and the charts."""
    result = SheetPlan(dashboard_widths=dict(WIDTHS), row_heights={1: 30.0})
    if view is None:
        result.dashboard.append(
            Rect(
                SHEET,
                1,
                LEFT,
                [
                    [Cell("Ride", Role.TITLE)],
                    [Cell("No Bike ride with a performance graph yet: refresh after a ride.", Role.NOTE)],
                ],
            )
        )
        return result
    when = f"{view.start:%Y-%m-%d %H:%M}" if view.start else ""
    who = f" with {view.instructor}" if view.instructor else ""
    result.dashboard.append(
        Rect(
            SHEET,
            1,
            LEFT,
            [
                [Cell(f"Ride: {view.title}", Role.TITLE)],
                [
                    Cell(
                        f"{when}{who} · Workout {view.workout_id} · select a row with a Workout ID, then "
                        "Peloton → Show ride to see another ride",
                        Role.SUBTITLE,
                    )
                ],
            ],
        )
    )
    figures = view.figures()
    result.dashboard.append(_table(4, LEFT, "This ride and earlier attempts of the class", figures))
    if not view.previous:
        result.dashboard.append(Rect(SHEET, 3, LEFT, [[Cell("No earlier attempt of this class yet.", Role.NOTE)]]))
    if len(view.segments):
        result.dashboard.append(_table(4, LEFT + len(figures.columns) + 1, "Class segments", view.segments))
    col = DATA_COL
    blocks: list[tuple[ChartSpec, pd.DataFrame, tuple[str, ...]]] = [(OVERLAY_CHART, view.overlay(), ATTEMPT_COLOURS)]
    series = view.ride.series
    for header, spec in METRIC_CHARTS.items():
        if header in series and series[header].notna().any():
            blocks.append((spec, series[[SECOND, header]], (SERIES_COLOURS[header],)))
    for index, (spec, frame, colours) in enumerate(blocks):
        rect, place = _chart_data(col, spec, frame, colours, data_sheet)
        place.col = LEFT if index % 2 == 0 else RIGHT
        place.row = CHART_TOP + (index // 2) * (CHART_ROWS + 2)
        result.data.append(rect)
        result.charts.append(place)
        for c in range(rect.col, rect.last_col + 1):
            result.data_widths[c] = 12.0
        col = rect.last_col + 2
    return result


def _table(row: int, col: int, title: str, frame: pd.DataFrame) -> Rect:
    formats = {"Date": "yyyy-mm-dd"}
    rows = [[Cell(title, Role.SECTION)], [Cell(str(c), Role.HEADER) for c in frame.columns]]
    for values in frame.itertuples(index=False):
        label = values[0]
        rows.append(
            [Cell(excel_value(label), Role.LABEL)]
            + [
                Cell(excel_value(v), Role.BODY, formats.get(str(label), "0.0" if isinstance(v, float) else "General"))
                for v in values[1:]
            ]
        )
    return Rect(SHEET, row, col, rows)


def _chart_data(
    col: int, spec: ChartSpec, frame: pd.DataFrame, colours: tuple[str, ...], data_sheet: str = DATA_SHEET
) -> tuple[Rect, ChartPlace]:
    # Seconds in whole numbers, the series to one decimal; the colours in turn.
    n = len(frame.columns)
    series_colours = [colours[i % len(colours)] for i in range(n - 1)]
    return chart_data(data_sheet, col, spec, spec.title, frame, ["0"] + ["0.0"] * (n - 1), series_colours, "0")
