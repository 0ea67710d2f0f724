"""The headless writer's Ride and Ride Data sheets: one ride, its earlier attempts and its charts,
regenerated whole; part names are reused from the previous refresh, as on the Dashboard.
"""

from __future__ import annotations

from pelotonxl.model import ride_layout
from pelotonxl.model.ride_view import DATA_SHEET, SHEET, RideView
from pelotonxl.xlsx import drawn_sheets
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.dashboard_sheet import worksheet_xml, write_drawing
from pelotonxl.xlsx.styles import StyleBook

OWNED_SHEETS = (SHEET, DATA_SHEET)


def owned_charts() -> dict[str, str]:
    """Sheet -> the data sheet its own charts plot (for `safety.check_workbook`, which knows a chart of
    the refresh's by that, not by a name another program may rewrite)."""
    return {SHEET: DATA_SHEET}


def write_ride(pkg: xp.Package, styles: StyleBook, view: RideView | None) -> set[int]:
    """Regenerate the Ride sheet (a note when there is no ride) and its data sheet; returns their sheetIds
    (for the calc chain)."""
    sheet = drawn_sheets.find(pkg, SHEET) or xp.add_sheet(pkg, SHEET, pkg.unused_name("xl/worksheets/sheet{}.xml"))
    old = pkg.text(sheet.part) if pkg.has(sheet.part) else None
    drawn_sheets.check_members_cells(pkg, SHEET, old)
    data_entry = drawn_sheets.find(pkg, DATA_SHEET)
    layout = ride_layout.plan(view, data_entry.name if data_entry is not None else DATA_SHEET)
    if data_entry is not None and pkg.has(data_entry.part):
        drawn_sheets.check_members_cells(pkg, DATA_SHEET, pkg.text(data_entry.part))
    drawing_rel = write_drawing(pkg, sheet.part, layout)
    pkg.put(
        sheet.part,
        worksheet_xml(
            layout.dashboard, layout.dashboard_widths, layout.row_heights, styles, old, drawing_rel, landscape=True
        ),
    )
    # The data sheet after the Ride sheet's part exists, so the two never get the same part name.
    data = data_entry or xp.add_sheet(pkg, DATA_SHEET, pkg.unused_name("xl/worksheets/sheet{}.xml"))
    old_data = pkg.text(data.part) if pkg.has(data.part) else None
    pkg.put(data.part, worksheet_xml(layout.data, layout.data_widths, {}, styles, old_data, drawing_rel=None))
    drawn_sheets.record_areas(pkg, SHEET, layout.dashboard)
    drawn_sheets.record_areas(pkg, DATA_SHEET, layout.data)
    drawn_sheets.record_sheet(pkg, SHEET, sheet.name)
    drawn_sheets.record_sheet(pkg, DATA_SHEET, data.name)
    return {sheet.sheet_id, data.sheet_id}
