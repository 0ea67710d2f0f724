"""The headless writer's Dashboard: the Dashboard and data worksheets, their drawing and chart parts.

The writer owns these parts and regenerates them on every refresh from `dashboard_layout.plan`.
Part names are reused from the previous refresh (the drawing, the charts in order), so repeated
refreshes do not grow the zip; a workbook without a Dashboard gets one as its first sheet.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from openpyxl.utils import get_column_letter

from pelotonxl.model.dashboard import Dashboard
from pelotonxl.model.dashboard_layout import Cell, Rect, Role, SheetPlan, plan
from pelotonxl.model.workbook import HEADER_FILL, HEADER_TEXT, NOTE_COLOUR, TITLE_COLOUR
from pelotonxl.xlsx import charts, drawn_sheets, table_sheet
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.cells import DATETIME_FORMAT, XML_DECLARATION, value_tail
from pelotonxl.xlsx.styles import StyleBook


def write_dashboard(pkg: xp.Package, styles: StyleBook, board: Dashboard) -> set[int]:
    """Regenerate the Dashboard and its data sheet; returns their sheetIds (for the calc chain)."""
    data = drawn_sheets.find(pkg, board.data_sheet) or xp.add_sheet(
        pkg, board.data_sheet, pkg.unused_name("xl/worksheets/sheet{}.xml")
    )
    old_data = pkg.text(data.part) if pkg.has(data.part) else None
    sheet = drawn_sheets.find(pkg, board.name) or xp.add_sheet(
        pkg, board.name, pkg.unused_name("xl/worksheets/sheet{}.xml"), first=True
    )
    layout = plan(replace(board, name=sheet.name, data_sheet=data.name))  # the charts plot the data sheet by its name
    old_sheet = pkg.text(sheet.part) if pkg.has(sheet.part) else None
    drawn_sheets.check_members_cells(pkg, board.name, old_sheet)
    drawn_sheets.check_members_cells(pkg, board.data_sheet, old_data)
    pkg.put(data.part, worksheet_xml(layout.data, layout.data_widths, {}, styles, old_data, drawing_rel=None))
    drawing_rel = write_drawing(pkg, sheet.part, layout)
    pkg.put(
        sheet.part,
        worksheet_xml(
            layout.dashboard,
            layout.dashboard_widths,
            layout.row_heights,
            styles,
            old_sheet,
            drawing_rel,
            landscape=True,
        ),
    )
    drawn_sheets.record_areas(pkg, board.name, layout.dashboard)
    drawn_sheets.record_areas(pkg, board.data_sheet, layout.data)
    drawn_sheets.record_sheet(pkg, board.name, sheet.name)
    drawn_sheets.record_sheet(pkg, board.data_sheet, data.name)
    return {sheet.sheet_id, data.sheet_id}


def write_drawing(pkg: xp.Package, sheet_part: str, layout: SheetPlan) -> str:
    """The drawing part with one chart part per placed chart; returns the sheet's rel id to it."""
    drawing_rel = next((r for r in xp.read_rels(pkg, sheet_part) if r.type == xp.REL_DRAWING), None)
    if drawing_rel is not None:
        drawing = drawing_rel.part
        rel_id = drawing_rel.id
    else:
        drawing = pkg.unused_name("xl/drawings/drawing{}.xml")
        rel_id = xp.add_rel(pkg, sheet_part, xp.REL_DRAWING, drawing)
    xp.add_override(pkg, drawing, xp.CT_DRAWING)
    old_charts = [r for r in xp.read_rels(pkg, drawing) if r.type == xp.REL_CHART] if pkg.has(drawing) else []
    chart_rel_ids = []
    for index, place in enumerate(layout.charts):
        if index < len(old_charts):
            part, chart_rel = old_charts[index].part, old_charts[index].id
        else:
            part = pkg.unused_name("xl/charts/chart{}.xml")
            chart_rel = xp.add_rel(pkg, drawing, xp.REL_CHART, part)
        xp.add_override(pkg, part, xp.CT_CHART)
        pkg.put(part, charts.chart_xml(place))
        chart_rel_ids.append(chart_rel)
    for extra in old_charts[len(layout.charts) :]:
        pkg.remove(extra.part)
        xp.remove_rel(pkg, drawing, extra.id)
        xp.remove_override(pkg, extra.part)
    pkg.put(drawing, charts.drawing_xml(layout.charts, chart_rel_ids))
    return rel_id


def worksheet_xml(
    rects: list[Rect],
    widths: dict[int, float],
    heights: dict[int, float],
    styles: StyleBook,
    old_xml: str | None,
    drawing_rel: str | None,
    landscape: bool = False,
) -> str:
    cells: dict[int, dict[int, Cell]] = {}
    for rect in rects:
        for r, row in enumerate(rect.cells, start=rect.row):
            for c, cell in enumerate(row, start=rect.col):
                cells.setdefault(r, {})[c] = cell
    rows = []
    for r in sorted(set(cells) | set(heights)):
        height = f' ht="{heights[r]:g}" customHeight="1"' if r in heights else ""
        body = "".join(
            f'<c r="{get_column_letter(c)}{r}"{_tail(cell, styles)}' for c, cell in sorted(cells.get(r, {}).items())
        )
        rows.append(f'<row r="{r}"{height}>{body}</row>')
    last_row = max(cells, default=1)
    last_col = max((c for row in cells.values() for c in row), default=1)
    scale = styles.width_scale()  # the workbook's own units: its default font's digits
    cols = "".join(
        f'<col min="{c}" max="{c}" width="{round(w * scale, 2):g}" customWidth="1"/>' for c, w in sorted(widths.items())
    )
    kept = table_sheet.KeptSheetBits.from_xml(old_xml)
    code_name = re.search(r'<sheetPr\b[^>]*\scodeName="([^"]*)"', old_xml or "")
    code_attr = f' codeName="{code_name.group(1)}"' if code_name else ""
    selected = ' tabSelected="1"' if kept.tab_selected else ""
    page = '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="1"/>' if landscape else ""
    return "".join(
        [
            XML_DECLARATION,
            f'<worksheet xmlns="{xp.MAIN_NS}" xmlns:r="{xp.REL_NS}">',
            f'<sheetPr{code_attr}><pageSetUpPr fitToPage="1"/></sheetPr>',
            f'<dimension ref="A1:{get_column_letter(last_col)}{last_row}"/>',
            f'<sheetViews><sheetView showGridLines="0"{selected} workbookViewId="0"/></sheetViews>',
            '<sheetFormatPr defaultRowHeight="15"/>',
            f"<cols>{cols}</cols>" if cols else "",
            "<sheetData>",
            *rows,
            "</sheetData>",
            '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>',
            page,
            f'<drawing r:id="{drawing_rel}"/>' if drawing_rel else "",
            "</worksheet>",
        ]
    )


def _tail(cell: Cell, styles: StyleBook) -> str:
    s_attr = f' s="{_style(cell, styles)}"'
    value = cell.value
    if value is None:
        return f"{s_attr}/>"
    if isinstance(value, (dt.datetime, dt.date)) and cell.number_format == "General":
        s_attr = f' s="{styles.styled(DATETIME_FORMAT)}"'
    return value_tail(value, s_attr, s_attr, s_attr) or f"{s_attr}/>"  # NaN, NaT: a blank cell


def _style(cell: Cell, styles: StyleBook) -> int:
    fmt = cell.number_format
    if cell.fill:
        return styles.styled(fmt, bold=True, colour=HEADER_TEXT, fill=cell.fill)
    return {
        Role.TITLE: lambda: styles.styled(fmt, bold=True, size=20, colour=TITLE_COLOUR),
        Role.SUBTITLE: lambda: styles.styled(fmt, italic=True, colour=NOTE_COLOUR),
        Role.SECTION: lambda: styles.styled(fmt, bold=True, size=14, colour=TITLE_COLOUR),
        Role.HEADER: lambda: styles.styled(fmt, bold=True, colour=HEADER_TEXT, fill=HEADER_FILL),
        Role.LABEL: lambda: styles.styled(fmt, bold=True),
        Role.NOTE: lambda: styles.styled(fmt, italic=True, colour=NOTE_COLOUR),
        Role.BIG: lambda: styles.styled(fmt, bold=True, size=16, colour=TITLE_COLOUR),
        Role.BODY: lambda: styles.styled(fmt),
    }[cell.role]()
