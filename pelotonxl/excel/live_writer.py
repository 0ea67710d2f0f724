"""The live writer: the refresh's tables and Dashboard written into a workbook open in Excel, through
xlwings. What the ribbon's buttons and the CLI (when Excel holds the workbook) write with.

The xlwings calls used here, and nothing else (the tests run them against autospecs of xlwings' own
classes, tests/support/xlwings_autospec.py, so a call xlwings lacks fails there):
    book.sheets (iterate, [name], [-1])      book.sheets.add(name=, after=)
    book.names: `name in`, [name].refers_to_range, [name].refers_to, book.names.add(name, refers_to)
    sheet.name, sheet.used_range, sheet.range((row, col), (row, col)), sheet.tables
    range.options(ndim=2).value, range.options(ndim=2).formula (the member's columns),
    range.value = 2D list / scalar, range.row, range.column,
    range.shape, range.number_format = , range.column_width = , range.clear_contents()
    sheet.tables (iterate), sheet.tables.add(source=, name=, table_style_name=)
    table.name, table.range, table.header_row_range, table.resize(range)
    book.sheets.add(name=, before=)          range.left/.top/.width/.height
    sheet.charts (iterate), sheet.charts.add(left, top, width, height)
    chart.name (get/set), chart.chart_type = , chart.set_source_data(range, plot_by="columns")
    chart.series (iterate), series.set(fill_color= | line_color=, marker_*_color=), series.chart_type,
    series.set(chart_type=) (a combination chart: Form's area under the Fitness and Fatigue lines)
    chart.api (Windows: the power curve's log axis, which xlwings' ChartAxis cannot set; skipped where
    it is missing)
and, in excel/live_notes.py, sheet.notes (iterate), note.location, note.text, note.delete(), range.note,
range.add_note(text), range.comment; in excel/recalc.py, range.formula2 (get/set) and range.has_array;
in excel/live_pivots.py, sheet.pivot_tables (iterate), pivot.name, pivot.api (its source: Excel's object
model), pivot.refresh().
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl.utils import get_column_letter

from pelotonxl.excel import live_notes, live_pivots, recalc
from pelotonxl.excel.cell_values import excel_value
from pelotonxl.excel.live_member_columns import read_member_columns, refuse_covered_cells
from pelotonxl.member import columns as member_rules
from pelotonxl.model.dashboard import Dashboard
from pelotonxl.model.dashboard_blocks import ChartKind, SeriesKind
from pelotonxl.model.dashboard_layout import ChartPlace, Rect, SheetPlan, plan
from pelotonxl.model.excel_values import day_numbers, wall_clock
from pelotonxl.model.workbook import TABLE_STYLE, WorkbookContent, Written, follow_renamed
from pelotonxl.xlsx import drawn_sheets  # the record of drawn areas, shared with the headless writer

if TYPE_CHECKING:
    import xlwings as xw

    from pelotonxl.model.ride_view import RideView
    from pelotonxl.model.tables import SheetTable


log = logging.getLogger(__name__)


def write_tables_live(book: xw.Book, content: WorkbookContent, recalculate: bool = True) -> int:
    """Each table into its sheet's Excel Table of the same name, the Dashboard into its two sheets
    and charts, then the status cells; last (unless `recalculate` is False: a refresh does it once it
    is recorded, `recalculate_after`), the workbook's PELOTON_* formulas recalculated so they answer
    from the new data. Returns how many removed workouts' notes were dropped."""
    _refuse_members_cells_on_drawn_sheets(book, content)  # before anything is written
    places: list[live_pivots.TablePlace] = []
    dropped = max(
        [_write_table(book, table, content.full, content.renamed_ids, places) for table in content.tables], default=0
    )
    if content.dashboard is not None:
        _write_dashboard(book, content.dashboard)
    if content.ride is not None:
        write_ride_live(book, content.ride.view)
    for defined_name, value in content.status.cells(dropped).items():
        if defined_name in book.names:  # a member may have deleted one; the refresh still counts
            book.names[defined_name].refers_to_range.value = excel_value(value)
    live_pivots.refresh_pivots(book, places)  # the member's pivots on our tables see the new workouts
    if recalculate:
        recalculate_after(book, content)
    return dropped


def write_for_refresh(book: xw.Book, content: WorkbookContent) -> Written:
    """A refresh's write (the ribbon's, or the CLI's when Excel holds the workbook): the formulas are
    recalculated by `Written.finish`, once the refresh is recorded, so they find its store."""
    dropped = write_tables_live(book, content, recalculate=False)
    return Written(dropped, finish=lambda: recalculate_after(book, content))


def recalculate_after(book: xw.Book, content: WorkbookContent) -> None:
    """The workbook's PELOTON_* formulas entered again, so Excel recalculates them from the new data."""
    recalc.recalculate_functions(book, skip=_drawn_sheet_names(content))


def _write_table(
    book: xw.Book,
    table: SheetTable,
    full: bool = False,
    renamed: dict[str, str] | None = None,
    places: list[live_pivots.TablePlace] | None = None,
) -> int:
    """One table into its Excel Table, the member's own columns kept on their workouts' rows;
    returns how many removed workouts' notes went with them (`full` only). Where the table was and is
    now goes into `places` (for the member's pivots)."""
    sheet, xl_table = _table_named(book, table.name)
    if sheet is None:
        sheet = _sheet_named(book, table.name) or book.sheets.add(name=table.name, after=book.sheets[-1])
    rows = table_rows(table.frame)
    member = read_member_columns(sheet, xl_table, table.name, rows[0], _recorded_columns(book, table.name))
    # Notes typed on a CSV row go to the API's record of that workout.
    member.by_id, member.notes = (
        follow_renamed(member.by_id, renamed or {}),
        follow_renamed(member.notes, renamed or {}),
    )
    adopted = member.names[len(member.names) - member.adopted :] if member.adopted else []
    notes = live_notes.read_notes(sheet, xl_table, adopted)
    notes.follow_renamed(renamed or {})
    dropped = 0
    if member.names or notes.workout_ids():
        rows, dropped = member.rows(rows[0], rows[1:] if len(table.frame) else [], full, notes.workout_ids())
        if len(rows) == 1:
            rows.append([None] * len(rows[0]))
    n_rows, n_cols = len(rows), len(rows[0])
    old_ref = None
    if xl_table is None:
        top, left, old_rows, old_cols = 1, 1, 0, 0
    else:
        old = xl_table.range
        top, left = old.row, old.column
        old_rows, old_cols = old.shape
        old_ref = _a1(top, left, top + old_rows - 1, left + old_cols - 1)  # before the member's columns join it
        old_cols += member.adopted  # the member's columns typed beside the table are written into it
    bottom, right = top + n_rows - 1, left + n_cols - 1
    if xl_table is not None:
        refuse_covered_cells(sheet, (top, left, top + old_rows - 1, left + old_cols - 1), (top, left, bottom, right))
    live_notes.refuse_covered_notes(sheet, notes, (top, left, bottom, right))
    id_at = next((i for i, n in enumerate(rows[0]) if n == member_rules.ID_COLUMN), None)
    body_ids = [str(row[id_at]).removeprefix("'") if id_at is not None else "" for row in rows[1:]]
    note_places = member_rules.comment_places(
        notes.in_table, rows[0], body_ids, sheet.name, live_notes.reading_order
    )  # refused here, before anything is written, when a note has nowhere to go
    live_notes.refuse_notes_onto_threads(sheet, notes, note_places, top, left)
    new_range = sheet.range((top, left), (bottom, right))
    if xl_table is None:
        new_range.value = rows  # the one bulk write: a call per cell would take minutes
        xl_table = sheet.tables.add(source=new_range, name=table.name, table_style_name=TABLE_STYLE)
    else:
        # Resize first, then write: Excel keeps a table's column names unique, so a header written while
        # the table still holds a column of that name elsewhere comes back as "Distance (mi)2".
        header = xl_table.header_row_range  # None when the member hid the header row
        header_now = ((header.options(ndim=2).value[0] if header is not None else []) + [None] * n_cols)[:n_cols]
        xl_table.resize(new_range)  # the same ListObject: style, filters and references survive
        if _names_move(header_now, rows[0]):
            # Names that change column go through names no column has, so no cell meets its twin.
            sheet.range((top, left), (top, right)).value = [[f"peloton_xl column {i + 1}" for i in range(n_cols)]]
        new_range.value = rows  # the one bulk write: a call per cell would take minutes
    # Resizing leaves the old cells' values behind: clear what lay below and right of the new table.
    old_bottom, old_right = top + old_rows - 1, left + old_cols - 1
    if old_bottom > bottom:
        sheet.range((bottom + 1, left), (old_bottom, max(old_right, right))).clear_contents()
    if old_right > right:
        sheet.range((top, right + 1), (old_bottom, old_right)).clear_contents()
    live_notes.move_notes(sheet, notes, note_places, top, left)
    hidden_name(book, member_rules.record_name(table.name), "=" + member_rules.record_value(table_rows_header(table)))
    if places is not None:
        places.append(live_pivots.TablePlace(table.name, sheet.name, old_ref, _a1(top, left, bottom, right)))
    positions = {name: i for i, name in enumerate(rows[0])}
    for column in table.frame.columns:
        col = left + positions[str(column)]
        # "General" where no format is given, so a column that moved does not keep a stale date format.
        sheet.range((top + 1, col), (bottom, col)).number_format = table.number_formats.get(column, "General")
        if column in table.widths:
            sheet.range((top, col), (top, col)).column_width = table.widths[column]
    return dropped


def _a1(top: int, left: int, bottom: int, right: int) -> str:
    return f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"


def _recorded_columns(book: xw.Book, table: str) -> set[str] | None:
    """The columns the last refresh wrote to `table`, from the hidden name either writer keeps."""
    name = member_rules.record_name(table)
    return member_rules.recorded(book.names[name].refers_to) if name in book.names else None


def hidden_name(book: xw.Book, name: str, refers_to: str) -> None:
    """Add (or replace) a workbook name and hide it, as the headless writer's records are hidden: a member
    browsing the Name Manager should not delete the refresh's records. xlwings has no call for a name's
    visibility; Excel's object model does (Windows: Name.Visible; a Mac: the name's visible property)."""
    added = book.names.add(name, refers_to)
    try:
        native = added.api
        if hasattr(native, "visible") and not hasattr(native, "Visible"):
            native.visible.set(False)  # appscript, on a Mac
        else:
            native.Visible = False  # COM, on Windows
    except Exception:  # noqa: BLE001 - a visible record still works
        log.debug("could not hide the name %s", name, exc_info=True)


def _names_move(now: list[Any], final: list[str]) -> bool:
    """Would writing `final` over `now`, cell by cell, give a column a name another column still has?"""
    where = {str(name).casefold(): i for i, name in enumerate(now) if name not in (None, "")}
    return any(where.get(name.casefold(), i) != i for i, name in enumerate(final))


CHART_TYPES: dict[ChartKind, str] = {
    "stacked_column": "column_stacked",
    "line": "line",  # xlwings' chart_type names
    "scatter": "xy_scatter_lines_no_markers",
    "scatter_log": "xy_scatter_lines",
}
# A "line" chart's series drawn otherwise (xlwings' names for xlArea and xlColumnClustered).
SERIES_TYPES: dict[SeriesKind, str] = {"line": "line", "area": "area", "column": "column_clustered"}
XL_LOGARITHMIC, XL_CATEGORY = -4133, 1  # Excel's xlScaleLogarithmic and xlCategory (the x axis)


def _write_dashboard(book: xw.Book, board: Dashboard) -> None:
    """Cells in bulk, one write per block; the charts found by name and pointed at their blocks.

    Charts the refresh made before keep the member's styling: only their source data changes.
    Cell fonts and fills are the workbook's (the template styles them); values and number formats
    are rewritten."""
    data = _drawn(book, board.data_sheet) or book.sheets.add(name=board.data_sheet, after=book.sheets[-1])
    sheet = _drawn(book, board.name) or book.sheets.add(name=board.name, before=book.sheets[0])
    layout = plan(replace(board, name=sheet.name, data_sheet=data.name))  # the charts plot the data sheet by its name
    _write_plan(sheet, data, layout, (board.name, board.data_sheet))


def write_ride_live(book: xw.Book, view: RideView | None) -> None:
    """The Ride sheet (one ride, its earlier attempts, its charts) into the open workbook."""
    from pelotonxl.model import ride_layout

    sheet = _drawn(book, ride_layout.SHEET) or book.sheets.add(name=ride_layout.SHEET, after=book.sheets[-1])
    data = _drawn(book, ride_layout.DATA_SHEET) or book.sheets.add(name=ride_layout.DATA_SHEET, after=sheet)
    _write_plan(sheet, data, ride_layout.plan(view, data.name), (ride_layout.SHEET, ride_layout.DATA_SHEET))


def _drawn_sheet_names(content: WorkbookContent) -> list[str]:
    """The sheets this refresh draws whole (Dashboard, Ride and their data sheets)."""
    from pelotonxl.model import ride_layout

    return ([content.dashboard.name, content.dashboard.data_sheet] if content.dashboard is not None else []) + (
        [ride_layout.SHEET, ride_layout.DATA_SHEET] if content.ride is not None else []
    )


def _refuse_members_cells_on_drawn_sheets(book: xw.Book, content: WorkbookContent) -> None:
    """What the member typed on a sheet the refresh redraws, outside the areas it last wrote: refused by
    address (the same record, a workbook name, as the headless writer keeps)."""
    for name in _drawn_sheet_names(content):
        sheet, record = _drawn(book, name), drawn_sheets.record_name(name)
        if sheet is None or record not in book.names:
            continue
        used = sheet.used_range
        values = used.options(ndim=2).value
        cells = [
            (f"{get_column_letter(used.column + j)}{used.row + i}", used.row + i, used.column + j)
            for i, row in enumerate(values)
            for j, value in enumerate(row)
            if value not in (None, "")
        ]
        drawn_sheets.refuse_outside(sheet.name, drawn_sheets.areas_of(book.names[record].refers_to or ""), cells)


def _write_plan(sheet: xw.Sheet, data: xw.Sheet, layout: SheetPlan, keys: tuple[str, str]) -> None:
    """A planned sheet and the sheet of its chart data: cells, widths, charts, and the records of the
    areas written (checked first, so clearing the used range drops nothing of the member's) and of the
    sheets, under `keys` (their own names: Dashboard, Dashboard Data), whatever the member renamed them to."""
    for target, rects, widths, key in (
        (data, layout.data, layout.data_widths, keys[1]),
        (sheet, layout.dashboard, layout.dashboard_widths, keys[0]),
    ):
        target.used_range.clear_contents()
        for rect in rects:
            _write_rect(target, rect)
        for first, last, width in _runs(sorted(widths.items())):
            target.range((1, first), (1, last)).column_width = width
        hidden_name(target.book, drawn_sheets.record_name(key), "=" + drawn_sheets.areas_formula(rects))
        hidden_name(target.book, drawn_sheets.sheet_record_name(key), "=" + drawn_sheets.sheet_reference(target.name))
    charts = {c.name: c for c in sheet.charts}
    # A program that saved the workbook may have renamed our charts ("Chart 1"): one standing where a
    # chart of ours goes is ours, and gets its name back, rather than a second chart on top of it.
    strangers = [c for c in sheet.charts if c.name not in {p.spec.key for p in layout.charts}]
    for place in layout.charts:
        chart = charts.get(place.spec.key)
        spot = sheet.range((place.row, place.col), (place.row + place.rows - 1, place.col + place.cols - 1))
        if chart is None:
            chart = next((c for c in strangers if abs(c.left - spot.left) < 1 and abs(c.top - spot.top) < 1), None)
            if chart is not None:
                strangers.remove(chart)
                chart.name = place.spec.key
        if chart is None:
            chart = sheet.charts.add(spot.left, spot.top, spot.width, spot.height)
            chart.name = place.spec.key
            chart.chart_type = CHART_TYPES[place.spec.kind]
            if place.spec.kind == "scatter_log":
                _log_x_axis(chart)
        first_row, first_col, last_row, last_col = place.source
        # Series are the block's columns, whatever its shape (Excel would guess rows for a short block).
        chart.set_source_data(data.range((first_row, first_col), (last_row, last_col)), plot_by="columns")
        if place.spec.kind == "line":  # a lone point draws no line: markers show it (a member's own type stays)
            wanted = "line_markers" if any(ref.marker and ref.kind == "line" for ref in place.series) else "line"
            if chart.chart_type in ("line", "line_markers") and chart.chart_type != wanted:
                chart.chart_type = wanted  # Excel gives every series this type: the loop below redraws the others
            _series_types(chart, place)
        _colour_series(chart, place)


def _series_types(chart: xw.Chart, place: ChartPlace) -> None:
    """A line chart's series drawn as an area or columns (Form) get that type: one plot, the same axes, as
    the headless writer's combination chart. Only a series still drawn as a line changes (a new chart, an
    older workbook's all-line chart): one the member made something else stays theirs."""
    for series, ref in zip(chart.series, place.series, strict=False):
        if ref.kind != "line" and series.chart_type in ("line", "line_markers"):
            series.set(chart_type=SERIES_TYPES[ref.kind])


def _colour_series(chart: xw.Chart, place: ChartPlace) -> None:
    """Each series in its colour from the layout (a discipline's colour, as the headless writer draws it).
    Excel colours series by position, so a discipline that appears or goes would shift every colour after
    it: they are set on every refresh."""
    for series, ref in zip(chart.series, place.series, strict=False):
        colour = "#" + ref.colour
        if place.spec.kind == "stacked_column" or ref.kind != "line":  # columns and areas are filled
            series.set(fill_color=colour)
        elif place.spec.kind == "scatter_log":  # the power curve's points are markers
            series.set(line_color=colour, marker_foreground_color=colour, marker_background_color=colour)
        else:
            series.set(line_color=colour)


def _log_x_axis(chart: xw.Chart) -> None:
    """The power curve's duration axis on a log scale. xlwings has no call for it: the Excel object
    model does (Windows: chart.api is (ChartObject, Chart)); elsewhere the axis stays linear."""
    try:
        native = chart.api[1] if isinstance(chart.api, tuple) else chart.api
        native.Axes(XL_CATEGORY).ScaleType = XL_LOGARITHMIC
    except Exception:  # noqa: BLE001 - a linear axis is still a correct chart
        log.debug("could not put %s on a log scale", chart.name, exc_info=True)


def _write_rect(sheet: xw.Sheet, rect: Rect) -> None:
    width = rect.last_col - rect.col + 1
    values = [[excel_value(c.value) for c in row] + [None] * (width - len(row)) for row in rect.cells]
    sheet.range((rect.row, rect.col), (rect.last_row, rect.last_col)).value = values
    for offset in range(width):
        formats = [(row[offset].number_format if offset < len(row) else "General") for row in rect.cells]
        for first, last, fmt in _runs(enumerate(formats)):
            col = rect.col + offset
            sheet.range((rect.row + first, col), (rect.row + last, col)).number_format = fmt


def _runs(items: Iterable[tuple[int, Any]]) -> list[tuple[int, int, Any]]:
    """(first, last, value) for each run of consecutive keys with the same value."""
    runs: list[tuple[int, int, Any]] = []
    for key, value in items:
        if runs and runs[-1][1] == key - 1 and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], key, value)
        else:
            runs.append((key, key, value))
    return runs


def table_rows_header(table: SheetTable) -> list[str]:
    """The columns this refresh writes to `table`, as the record of them lists them."""
    return [str(c) for c in table.frame.columns]


def table_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """Header plus one list per row, every value something Excel takes as is.

    An Excel Table always has a body row, so an empty frame gives the header and one blank row.
    """
    header = [str(c) for c in frame.columns]
    columns = [_column_values(frame[c]) for c in frame.columns]
    body = [list(row) for row in zip(*columns, strict=False)] if len(frame) else [[None] * len(header)]
    return [header] + body


def _column_values(series: pd.Series) -> list[Any]:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in wall_clock(series)]
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return [None if math.isnan(v) else v for v in day_numbers(series).tolist()]
    return [excel_value(v) for v in series.tolist()]


def _table_named(book: xw.Book, name: str) -> tuple[xw.Sheet | None, xw.main.Table | None]:
    """The Excel Table `name` and its sheet, wherever the member moved or renamed the sheet."""
    for sheet in book.sheets:
        for xl_table in sheet.tables:
            if xl_table.name.casefold() == name.casefold():
                return sheet, xl_table
    return None, None


def _drawn(book: xw.Book, key: str) -> xw.Sheet | None:
    """The sheet the refresh draws as `key` (Dashboard…): the one its record names (Excel rewrites the
    reference when the member renames the sheet), else the sheet called `key`."""
    record = drawn_sheets.sheet_record_name(key)
    name = drawn_sheets.sheet_in(book.names[record].refers_to) if record in book.names else None
    return (_sheet_named(book, name) if name else None) or _sheet_named(book, key)


def _sheet_named(book: xw.Book, name: str) -> xw.Sheet | None:
    # Excel sheet names are case-insensitive.
    return next((s for s in book.sheets if s.name.casefold() == name.casefold()), None)
