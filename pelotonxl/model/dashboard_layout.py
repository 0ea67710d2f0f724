"""Where the Dashboard's pieces go: cells on the Dashboard and data sheets, and each chart's ranges.

Both writers (headless `xlsx.dashboard_sheet`, live `excel.live_writer`) draw from the same `SheetPlan`, so
the two cannot disagree about a cell or a chart range. The data blocks sit side by side on the
data sheet, each as a title row, a header row and its rows; a chart's series refer to exactly the
rows and columns its block has at this refresh, which is how the ranges follow the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from pelotonxl.model.dashboard import WEEKS, Block, ChartSpec, Dashboard
from pelotonxl.model.dashboard_blocks import SeriesKind
from pelotonxl.model.excel_values import excel_value

if TYPE_CHECKING:
    import pandas as pd

# Dashboard geometry (1-based rows and columns). Charts in a 2 x 2 grid, tables around them.
LEFT, RIGHT = 2, 11  # columns B and K: the two columns of the grid
CHART_COLS = 8  # a chart spans 8 columns: B..I, K..R
CHART_ROWS = 18
CHART_TOPS = (13, 33, 53, 73)  # rows under the headline, then under each row of charts
TABLES_TOP = 93
FTP_ROW = 10  # the FTP figures, under the headline
DASHBOARD_WIDTHS = {1: 2.0, **{c: 13.0 for c in range(2, 19)}, 2: 22.0, 10: 3.0, 11: 22.0}
DATA_WIDTH = 12.0
TITLE_HEIGHT = 30.0


class Role(Enum):
    """What a cell is; the headless writer turns it into a font and fill (through Excel, the template's stay)."""

    TITLE = "title"
    SUBTITLE = "subtitle"
    SECTION = "section"
    HEADER = "header"
    BODY = "body"
    LABEL = "label"
    NOTE = "note"
    BIG = "big"


@dataclass
class Cell:
    value: Any
    role: Role = Role.BODY
    number_format: str = "General"
    fill: str | None = None  # RGB hex for a colour swatch (discipline names)


@dataclass
class Rect:
    """A rectangle of cells written in one go (one bulk write in Excel)."""

    sheet: str
    row: int
    col: int
    cells: list[list[Cell]]

    @property
    def last_row(self) -> int:
        return self.row + len(self.cells) - 1

    @property
    def last_col(self) -> int:
        return self.col + max((len(r) for r in self.cells), default=1) - 1


@dataclass
class SeriesRef:
    name: str
    name_ref: str  # the header cell
    values_ref: str
    colour: str
    marker: bool = False  # a point with no neighbour to draw a line to (one ride, one month): shown as a dot
    kind: SeriesKind = "line"  # in a "line" chart: a line, or an area or columns on the same axes


@dataclass
class ChartPlace:
    spec: ChartSpec
    col: int  # top-left cell (1-based) and size in cells on the Dashboard
    row: int
    cols: int
    rows: int
    categories_ref: str
    series: list[SeriesRef]
    source: tuple[int, int, int, int]  # data block incl. header row: first row, first col, last row, last col
    number_format: str = "General"  # of the category axis
    note: str = ""


@dataclass
class SheetPlan:
    dashboard: list[Rect] = field(default_factory=list)
    data: list[Rect] = field(default_factory=list)
    charts: list[ChartPlace] = field(default_factory=list)
    dashboard_widths: dict[int, float] = field(default_factory=dict)
    data_widths: dict[int, float] = field(default_factory=dict)
    row_heights: dict[int, float] = field(default_factory=dict)  # Dashboard rows


def area(sheet: str, row: int, col: int, last_row: int | None = None, last_col: int | None = None) -> str:
    """An absolute reference such as 'Dashboard Data'!$B$3:$B$54."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    first = f"${get_column_letter(col)}${row}"
    if last_row is None or (last_row, last_col) == (row, col):
        return f"{quoted}!{first}"
    return f"{quoted}!{first}:${get_column_letter(last_col or col)}${last_row}"


def plan(board: Dashboard) -> SheetPlan:
    """Where everything of the Dashboard goes: cells and styles of each block on the Dashboard sheet,
    the chart data on the Dashboard Data sheet, and each chart's place and series ranges.

    Both writers draw from this one plan, so the headless file and the live workbook cannot differ.
    """
    result = SheetPlan(dashboard_widths=dict(DASHBOARD_WIDTHS), row_heights={1: TITLE_HEIGHT})
    sheet = board.name
    result.dashboard.append(
        Rect(sheet, 1, LEFT, [[Cell("Peloton dashboard", Role.TITLE)], [Cell(_subtitle(board), Role.SUBTITLE)]])
    )
    result.dashboard.append(_headline(sheet, board.headline))
    tables = {b.key: b for b in board.tables}
    result.dashboard.append(_table(sheet, 4, RIGHT, tables["bests"]))
    if "ftp" in tables:
        result.dashboard.append(_ftp(sheet, tables["ftp"]))
    # Data blocks side by side on the data sheet, a blank column between them.
    col = 1
    for index, (spec, block) in enumerate(board.charts):
        rect, place = _chart_data(board.data_sheet, col, spec, block)
        result.data.append(rect)
        place.col = LEFT if index % 2 == 0 else RIGHT
        place.row = CHART_TOPS[index // 2]
        result.charts.append(place)
        result.dashboard.append(Rect(sheet, place.row - 1, place.col, [[Cell(block.note or "", Role.NOTE)]]))
        for c in range(rect.col, rect.last_col + 1):
            result.data_widths[c] = DATA_WIDTH
        col = rect.last_col + 2
    left = _table(sheet, TABLES_TOP, LEFT, tables["records"])
    result.dashboard.append(left)
    result.dashboard.append(_table(sheet, left.last_row + 2, LEFT, tables["disciplines"]))
    result.dashboard.append(_table(sheet, TABLES_TOP, RIGHT, tables["instructors"]))
    return result


def _subtitle(board: Dashboard) -> str:
    if board.workout_count == 0 and board.signed_in:  # Peloton answered: the account is set up, just empty
        return (
            f"Signed in; Peloton has no workouts for this account yet (last refresh {board.now:%Y-%m-%d %H:%M}). "
            "Take a class, then Peloton → Refresh."
        )
    if board.workout_count == 0:
        return "No workouts yet: fill in your email on the Config sheet, then Peloton → Refresh."
    unit = f" · distances in {board.distance_unit}" if board.distance_unit else ""
    old = ""
    if board.last_workout is not None and board.last_workout < board.now.date() - timedelta(weeks=WEEKS):
        old = f"Nothing in the last {WEEKS} weeks; last workout {board.last_workout:%Y-%m-%d} · "
    return (
        f"{old}Last refresh {board.now:%Y-%m-%d %H:%M} · {board.workout_count:,} workouts{unit} · "
        "the charts' numbers are on the Dashboard Data sheet"
    )


def _headline(sheet: str, block: Block) -> Rect:
    columns = list(block.frame.columns)
    rows = [[Cell(block.title, Role.SECTION)], [Cell(c, Role.HEADER) for c in columns]]
    for values in block.frame.itertuples(index=False):
        rows.append(
            [Cell(values[0], Role.LABEL)]
            + [
                Cell(excel_value(v), Role.BIG, block.number_formats.get(c, "General"))
                for c, v in zip(columns[1:], values[1:], strict=False)
            ]
        )
    return Rect(sheet, 4, LEFT, rows)


def _ftp(sheet: str, block: Block) -> Rect:
    """The FTP figures as headline numbers: a header row and one row of big values."""
    columns = list(block.frame.columns)
    values = block.frame.iloc[0].tolist()
    return Rect(
        sheet,
        FTP_ROW,
        LEFT,
        [
            [Cell("", Role.HEADER)] + [Cell(c, Role.HEADER) for c in columns[1:]],
            [Cell(values[0], Role.LABEL)]
            + [
                Cell(excel_value(v), Role.BIG, block.number_formats.get(c, "General"))
                for c, v in zip(columns[1:], values[1:], strict=False)
            ]
            + ([Cell(block.caption, Role.NOTE)] if block.caption else []),  # why an estimate is blank
        ],
    )


def _table(sheet: str, row: int, col: int, block: Block) -> Rect:
    """A section title, a header and the block's rows; a note row when there is nothing to show."""
    columns = list(block.frame.columns)
    rows = [[Cell(block.title, Role.SECTION)], [Cell(c, Role.HEADER) for c in columns]]
    for values in block.frame.itertuples(index=False):
        label = values[0]
        row_cells = [Cell(excel_value(label), Role.LABEL, fill=block.colours.get(label))]
        for column, value in zip(columns[1:], values[1:], strict=False):
            fmt = block.number_formats.get(column) or block.row_formats.get(label, "General")
            row_cells.append(Cell(excel_value(value), Role.BODY, fmt))
        rows.append(row_cells)
    if block.note and block.frame.empty:
        rows.append([Cell(block.note, Role.NOTE)])
    if block.caption:
        rows.append([Cell(block.caption, Role.NOTE)])
    return Rect(sheet, row, col, rows)


def has_lone_point(values: list[Any]) -> bool:
    """Whether a line would leave a value undrawn: one with no value before or after it (a single ride,
    a month between gaps). Such a series gets markers, so the point shows."""
    present = [v is not None and v == v for v in values]  # v != v: NaN
    return any(
        here and not (i > 0 and present[i - 1]) and not (i + 1 < len(present) and present[i + 1])
        for i, here in enumerate(present)
    )


def _chart_data(data_sheet: str, col: int, spec: ChartSpec, block: Block) -> tuple[Rect, ChartPlace]:
    columns = list(block.frame.columns)
    return chart_data(
        data_sheet,
        col,
        spec,
        block.title,
        block.frame,
        [block.number_formats.get(c, "General") for c in columns],
        [block.colours.get(name, "808080") for name in columns[1:]],
        spec.axis_format or block.number_formats.get(columns[0], "General"),
        block.note,
    )


def chart_data(
    data_sheet: str,
    col: int,
    spec: ChartSpec,
    title: str,
    frame: pd.DataFrame,
    formats: list[str],
    colours: list[str],
    axis_format: str,
    note: str = "",
) -> tuple[Rect, ChartPlace]:
    """A chart's data on its data sheet (a title row, a header row, the frame's rows; `formats` one per
    column) and the chart placed on it, one series per column after the first (`colours` one per series).
    Used for the Dashboard's charts and the Ride sheet's."""
    columns = list(frame.columns)
    # The category column's header stays empty: that is how Excel tells categories from series
    # when a refresh through Excel re-points the chart at the whole block.
    rows = [[Cell(title, Role.SECTION)], [Cell("", Role.HEADER)] + [Cell(c, Role.HEADER) for c in columns[1:]]]
    for values in frame.itertuples(index=False):
        rows.append([Cell(excel_value(v), Role.BODY, f) for v, f in zip(values, formats, strict=False)])
    header, first, last = 2, 3, 2 + len(frame)
    series = [
        SeriesRef(
            name,
            area(data_sheet, header, col + i),
            area(data_sheet, first, col + i, last, col + i),
            colour,
            has_lone_point(frame[name].tolist()),
            spec.series_kind(name),
        )
        for i, (name, colour) in enumerate(zip(columns[1:], colours, strict=False), start=1)
    ]
    place = ChartPlace(
        spec,
        0,
        0,
        CHART_COLS,
        CHART_ROWS,
        area(data_sheet, first, col, last, col),
        series,
        (header, col, last, col + len(columns) - 1),
        axis_format,
        note,
    )
    return Rect(data_sheet, 1, col, rows), place
