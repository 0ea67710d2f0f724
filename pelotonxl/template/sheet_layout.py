"""The template's sheets, laid out with openpyxl: Config (from settings.FIELDS and layout.json),
xlwings.conf, the empty Workouts and Metrics tables, and the Dashboard's two (still empty) sheets.

Used by build.py; not needed at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pelotonxl.model.workbook import HEADER_FILL, HEADER_TEXT, LIGHT_GREY, NOTE_COLOUR, STATUS_NAMES, TITLE_COLOUR
from pelotonxl.settings import FIELDS

# openpyxl styling of the Config sheet (colours match TableStyleMedium2).
INPUT_FILL = "F2F2F2"
ROW_HEIGHT = 20  # points; the help texts fit on one line at the layout's column width


def _config_value(field: Any) -> Any:
    """What the Config sheet shows for a field: the default, never anything secret."""
    if field.secret or field.default in ("", None):
        return None
    return field.default


def _font(size: int = 12, **style: Any) -> Any:
    """The template's body font (Calibri 12), so styled cells do not fall back to another."""
    from openpyxl.styles import Font

    return Font(name="Calibri", family=2, scheme="minor", size=size, **style)


def _lay_out_config(ws: Any, layout: dict[str, Any], workbook: Any) -> None:
    from openpyxl.styles import Alignment, Border, PatternFill, Side
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    ws.title = layout["sheet"]
    ws["A1"] = layout["title"]
    ws["A1"].font = _font(18, bold=True, color=TITLE_COLOUR)
    ws["A2"] = layout["intro"]
    ws["A2"].font = _font(italic=True)
    header_row = 4
    for column, text in zip("ABC", layout["header"], strict=False):
        cell = ws[f"{column}{header_row}"]
        cell.value = text
        cell.font = _font(bold=True, color=HEADER_TEXT)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)

    edge = Side(style="thin", color=LIGHT_GREY)
    input_style = {
        "fill": PatternFill("solid", fgColor=INPUT_FILL),
        "border": Border(left=edge, right=edge, top=edge, bottom=edge),
    }
    note_font = _font(color=NOTE_COLOUR)
    wrap = Alignment(wrap_text=True, vertical="center")
    middle = Alignment(vertical="center")
    ws.row_dimensions[header_row].height = ROW_HEIGHT
    for row, field in enumerate(FIELDS, start=header_row + 1):
        ws.row_dimensions[row].height = ROW_HEIGHT
        label = ws.cell(row, 1, field.label)
        label.font, label.alignment = _font(), middle
        value = ws.cell(row, 2, _config_value(field))
        value.font = _font()
        value.number_format = "0" if field.kind is int else "@"
        value.alignment = Alignment(horizontal="left", vertical="center")
        value.fill, value.border = input_style["fill"], input_style["border"]
        help_cell = ws.cell(row, 3, field.help)
        help_cell.font, help_cell.alignment = note_font, wrap
        rule = layout["validation"].get(field.name)
        if rule:
            check = DataValidation(
                type="whole",
                operator="between",
                formula1=str(rule["min"]),
                formula2=str(rule["max"]),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=field.label,
                error=rule["error"],
            )
            check.add(value.coordinate)
            ws.add_data_validation(check)
        elif field.choices:  # a drop-down of the words the setting takes (Sign-in method)
            words = ", ".join(field.choices)
            check = DataValidation(
                type="list",
                formula1=f'"{",".join(field.choices)}"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=field.label,
                error=f"One of {words}.",
            )
            check.add(value.coordinate)
            ws.add_data_validation(check)

    status_row = header_row + len(FIELDS) + 2
    ws.cell(status_row, 1, layout["status_title"]).font = _font(14, bold=True, color=TITLE_COLOUR)
    for row, (key, (defined_name, label)) in enumerate(STATUS_NAMES.items(), start=status_row + 1):
        ws.row_dimensions[row].height = ROW_HEIGHT
        ws.cell(row, 1, label).font = _font()
        ws.cell(row, 1).alignment = middle
        cell = ws.cell(row, 2)
        cell.font = _font()
        cell.number_format = layout["status_formats"].get(key, "General")
        cell.alignment = Alignment(horizontal="left", vertical="center")
        cell.border = Border(bottom=edge)
        workbook.defined_names[defined_name] = DefinedName(defined_name, attr_text=f"'{ws.title}'!$B${row}")

    for column, width in layout["column_widths"].items():
        ws.column_dimensions[column].width = width
    ws.sheet_view.showGridLines = False
    first_value = f"B{header_row + 1}"  # the email cell: where a new member starts typing
    ws.sheet_view.selection[0].activeCell = ws.sheet_view.selection[0].sqref = first_value
    _fit_to_page_width(ws)


def _fit_to_page_width(ws: Any) -> None:
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0


def _lay_out_table_sheet(ws: Any, spec: dict[str, Any], style_name: str) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    for column, (heading, width) in enumerate(zip(spec["columns"], spec["widths"], strict=False), start=1):
        ws.cell(1, column, heading).font = _font(bold=True)
        ws.column_dimensions[get_column_letter(column)].width = width
    # A header row and one empty data row: a table needs at least one data row.
    ref = f"A1:{get_column_letter(len(spec['columns']))}2"
    table = Table(displayName=spec["sheet"], ref=ref)
    table.tableStyleInfo = TableStyleInfo(
        name=style_name, showRowStripes=True, showColumnStripes=False, showFirstColumn=False, showLastColumn=False
    )
    ws.add_table(table)
    ws.freeze_panes = "A2"
    # Portrait, the header row on every page, the width on at most two pages side by side: a file refresh
    # sets the pages from the table's own widths (table_sheet.page_setup); a refresh through Excel keeps these.
    ws.page_setup.orientation = "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 2
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"


def _lay_out_xlwings_conf(ws: Any, layout: dict[str, Any]) -> None:
    ws.delete_rows(1, ws.max_row)  # the template's settings and instructions
    ws.row_dimensions.clear()
    ws.column_dimensions.clear()
    ws.title = layout["sheet"]
    settings = layout["settings"]
    for row, (key, value) in enumerate(settings, start=1):
        ws.cell(row, 1, key).font = _font()
        ws.cell(row, 2, value if value != "" else None).font = _font()
    # xlwings stops reading at the first empty cell in column A: the notes go below a gap, far enough
    # down that --setup-excel's keys (interpreters, PYTHONPATH) fit above it.
    notes_row = max(layout.get("notes_row", 0), len(settings) + 2)
    ws.cell(notes_row, 1, layout["notes_title"]).font = _font(bold=True)
    for row, note in enumerate(layout["notes"], start=notes_row + 1):
        ws.cell(row, 1, note).font = _font(color=NOTE_COLOUR)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 14
    _fit_to_page_width(ws)


def lay_out_sheets(template: Path, destination: Path, layout: dict[str, Any]) -> None:
    """Turn the template's two sheets into Config and xlwings.conf, add the table sheets, save.

    The template's sheets are reused, not replaced: their code names (Sheet1, Sheet2) match
    the document modules in the VBA project.
    """
    from openpyxl import load_workbook

    workbook = load_workbook(template, keep_vba=True)
    sample_sheet, conf_sheet = workbook.worksheets
    _lay_out_config(sample_sheet, layout["config"], workbook)
    _lay_out_xlwings_conf(conf_sheet, layout["xlwings_conf"])
    for spec in layout["tables"]:
        _lay_out_table_sheet(workbook.create_sheet(spec["sheet"]), spec, layout["table_style"])
    board = layout["dashboard"]
    workbook.create_sheet(board["sheet"])  # filled in by add_dashboard
    workbook.create_sheet(board["data_sheet"])

    order = [
        board["sheet"],
        layout["config"]["sheet"],
        *(t["sheet"] for t in layout["tables"]),
        board["data_sheet"],
        layout["xlwings_conf"]["sheet"],
    ]
    for index, name in enumerate(order):
        workbook.move_sheet(name, index - workbook.sheetnames.index(name))
    workbook.active = 0
    for ws in workbook.worksheets:
        ws.sheet_view.tabSelected = ws is workbook.active
    workbook.save(destination)
