"""The headless writer's Ride sheet: one ride, its earlier attempts and its charts, regenerated whole.

The sheet holds its own chart data (columns from AA), so it is one worksheet part, one drawing and
one chart part per chart; part names are reused from the previous refresh, as on the Dashboard.
"""

from __future__ import annotations

from pelotonxl.model import ride_layout
from pelotonxl.model.ride_view import SHEET, RideView
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.dashboard_sheet import worksheet_xml, write_drawing
from pelotonxl.xlsx.styles import StyleBook

OWNED_SHEETS = (SHEET,)


def owned_charts() -> dict[str, set[str]]:
    """Sheet -> the charts a refresh regenerates there (for `safety.check_workbook`)."""
    return {SHEET: ride_layout.chart_names()}


def write_ride(pkg: xp.Package, styles: StyleBook, view: RideView | None) -> set[int]:
    """Regenerate the Ride sheet (a note when there is no ride); returns its sheetId (for the calc chain)."""
    layout = ride_layout.plan(view)
    sheet = xp.find_sheet(pkg, SHEET) or xp.add_sheet(pkg, SHEET, pkg.unused_name("xl/worksheets/sheet{}.xml"))
    old = pkg.text(sheet.part) if pkg.has(sheet.part) else None
    drawing_rel = write_drawing(pkg, sheet.part, layout)
    pkg.put(sheet.part, worksheet_xml(layout.dashboard + layout.data,
                                      {**layout.data_widths, **layout.dashboard_widths},
                                      layout.row_heights, styles, old, drawing_rel, landscape=True))
    return {sheet.sheet_id}
