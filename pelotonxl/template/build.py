"""Build PelotonWorkbook.xlsm from the text sources in workbook/, byte-for-byte reproducibly.

    python -m pelotonxl.workbook_build [--output PATH]

Steps: xlwings' standalone quickstart workbook (it carries the `xlwings` VBA module, the
`Dictionary` class and the Office reference IRibbonControl needs) -> sheets laid out with
openpyxl from workbook/layout.json and settings.FIELDS -> VBA modules written with pyOpenVBA
(Peloton.bas, and the UDF wrappers generated from peloton_xl.py) -> the empty Dashboard (its
sheets, charts and "no data yet" notes) written by the refresh's own Dashboard writer -> the
ribbon part added by zip editing -> every zip entry rewritten with fixed timestamps and a fixed order.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import sys
import tempfile
import types
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from xml.etree import ElementTree

from pelotonxl.errors import WorkbookError
from pelotonxl.model.workbook import HEADER_FILL, HEADER_TEXT, NOTE_COLOUR, TITLE_COLOUR
from pelotonxl.settings import FIELDS, STATUS_NAMES
from pelotonxl.xlsx.styles import StyleBook

XLWINGS_VERSION = "0.37.8"  # the template's `xlwings` VBA module names this version's DLL

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES_DIR = REPO_ROOT / "workbook"
DEFAULT_OUTPUT = REPO_ROOT / "PelotonWorkbook.xlsm"
DEFAULT_UDF_MODULE = REPO_ROOT / "peloton_xl.py"
UDF_MODULE_NAME = "peloton_xl"
UDF_WRAPPER_NAME = "xlwings_udfs"

CUSTOMUI_PART = "customUI/customUI.xml"
CUSTOMUI_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
PACKAGE_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

# Fixed so two builds are byte-identical: docProps times and every zip entry's time.
BUILD_TIME = datetime(2025, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# openpyxl styling of the Config sheet (colours match TableStyleMedium2).
INPUT_FILL = "F2F2F2"
ROW_HEIGHT = 20  # points; the help texts fit on one line at the layout's column width


@dataclass(frozen=True)
class BuildResult:
    output: Path
    udf_wrapper: str  # text of the generated xlwings_udfs module (LF line ends)


# ----------------------------------------------------------------------------- xlwings

def xlwings_template() -> Path:
    """The standalone quickstart workbook of the pinned xlwings, or WorkbookError."""
    import xlwings

    if xlwings.__version__ != XLWINGS_VERSION:
        raise WorkbookError(
            f"xlwings {xlwings.__version__} is installed but the workbook is built with "
            f"{XLWINGS_VERSION}: pip install xlwings=={XLWINGS_VERSION}.")
    return Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


@contextlib.contextmanager
def _windows_udf_decorators() -> Iterator[None]:
    """Make xlwings' real (Windows-only) UDF decorators importable and active for a while.

    On Linux `xw.func` is inert; xlwings.udfs has the real one but imports pywin32 modules at
    import time, so stand-ins take their place. Everything is put back afterwards.
    """
    import xlwings

    stand_ins = {name: types.ModuleType(name)
                 for name in ("pythoncom", "pywintypes", "win32com", "win32com.client")}
    stand_ins["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
    stand_ins["pywintypes"].com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
    stand_ins["win32com.client"].Dispatch = None  # type: ignore[attr-defined]
    touched = [*stand_ins, "xlwings.udfs"]
    saved_modules = {name: sys.modules.get(name) for name in touched}
    decorator_names = ("func", "arg", "ret", "sub", "script")
    saved_decorators = {name: getattr(xlwings, name, None) for name in decorator_names}
    try:
        sys.modules.update(stand_ins)
        sys.modules.pop("xlwings.udfs", None)
        from xlwings import udfs

        for name, real in (("func", udfs.xlfunc), ("arg", udfs.xlarg), ("ret", udfs.xlret),
                           ("sub", udfs.xlsub), ("script", udfs.xlsub)):
            setattr(xlwings, name, real)
        yield
    finally:
        for name, value in saved_decorators.items():
            setattr(xlwings, name, value)
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _load_udf_module(path: Path, name: str) -> types.ModuleType:
    """Import a fresh copy of the UDF module from `path`, under its own name, then unregister it."""
    if not path.is_file():
        raise WorkbookError(f"{path} not found: the workbook's worksheet functions come from it.")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.path.insert(0, str(path.parent))
    sys.modules[name] = module  # dataclasses and typing look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise WorkbookError(f"Cannot import {path.name} to generate the worksheet functions: "
                            f"{type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(path.parent))
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
    return module


def generate_udf_wrapper(module_path: Path = DEFAULT_UDF_MODULE,
                         module_name: str = UDF_MODULE_NAME) -> str:
    """The `xlwings_udfs` VBA module for every @xw.func in `module_path` (LF line ends).

    What xlwings' "Import Functions" button would put in the workbook on Windows, generated
    with xlwings' own (internal, hence pinned) generator.
    """
    xlwings_template()  # the version check
    with _windows_udf_decorators():
        from xlwings import udfs

        module = _load_udf_module(module_path, module_name)
        functions = sorted(name for name in dir(module)
                           if hasattr(getattr(module, name), "__xlfunc__"))
        if not functions:
            raise WorkbookError(f"{module_path.name} has no @xw.func functions to put in the workbook.")
        body = io.StringIO()
        book = types.SimpleNamespace(Name=DEFAULT_OUTPUT.name)  # only .Name is read
        udfs.generate_vba_wrapper(module_name, module, body, book)
    header = (f'Attribute VB_Name = "{UDF_WRAPPER_NAME}"\n'
              f"' Generated by pelotonxl.workbook_build from {module_path.name} with xlwings "
              f"{XLWINGS_VERSION}: do not edit.\n"
              "#Const App = \"Microsoft Excel\" 'the generated code tests App\n\n")
    return header + _with_error_values(body.getvalue())


# Python cannot hand Excel a real error value through xlwings, so a UDF answers "#N/A why" or
# "#VALUE! why" and this line, added after each call, turns that text into the error value itself.
_CALL_LINE = re.compile(r"^(?P<indent>[ \t]+)(?P<name>\w+) = XLPy\.CallUDF\(.*\)$", re.M)
_ERROR_LINE = ('{indent}If VarType({name}) = vbString Then {name} = ExcelErrorFromText({name})')
_ERROR_FUNCTION = """
' "#N/A why" -> #N/A, "#VALUE! why" -> #VALUE! (2042 and 2015 are Excel's xlErrNA and xlErrValue).
Private Function ExcelErrorFromText(ByVal text As String) As Variant
    If Left$(text, 5) = "#N/A " Then
        ExcelErrorFromText = CVErr(2042)
    ElseIf Left$(text, 8) = "#VALUE! " Then
        ExcelErrorFromText = CVErr(2015)
    Else
        ExcelErrorFromText = text
    End If
End Function
"""


def _with_error_values(vba: str) -> str:
    def add_check(match: re.Match) -> str:
        return match.group(0) + "\n" + _ERROR_LINE.format(**match.groupdict())

    return _CALL_LINE.sub(add_check, vba) + _ERROR_FUNCTION


# ----------------------------------------------------------------------------- sheets

def load_layout(sources: Path = SOURCES_DIR) -> dict[str, Any]:
    return json.loads((sources / "layout.json").read_text(encoding="utf-8"))


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
    for column, text in zip("ABC", layout["header"]):
        cell = ws[f"{column}{header_row}"]
        cell.value = text
        cell.font = _font(bold=True, color=HEADER_TEXT)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)

    edge = Side(style="thin", color="BFBFBF")
    input_style = dict(fill=PatternFill("solid", fgColor=INPUT_FILL),
                       border=Border(left=edge, right=edge, top=edge, bottom=edge))
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
            check = DataValidation(type="whole", operator="between",
                                   formula1=str(rule["min"]), formula2=str(rule["max"]),
                                   allow_blank=True, showErrorMessage=True,
                                   errorTitle=field.label, error=rule["error"])
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
        workbook.defined_names[defined_name] = DefinedName(
            defined_name, attr_text=f"'{ws.title}'!$B${row}")

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

    for column, (heading, width) in enumerate(zip(spec["columns"], spec["widths"]), start=1):
        ws.cell(1, column, heading).font = _font(bold=True)
        ws.column_dimensions[get_column_letter(column)].width = width
    # A header row and one empty data row: a table needs at least one data row.
    ref = f"A1:{get_column_letter(len(spec['columns']))}2"
    table = Table(displayName=spec["sheet"], ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=style_name, showRowStripes=True,
                                          showColumnStripes=False,
                                          showFirstColumn=False, showLastColumn=False)
    ws.add_table(table)
    ws.freeze_panes = "A2"
    _fit_to_page_width(ws)


def _lay_out_xlwings_conf(ws: Any, layout: dict[str, Any]) -> None:
    ws.delete_rows(1, ws.max_row)  # the template's settings and instructions
    ws.row_dimensions.clear()
    ws.column_dimensions.clear()
    ws.title = layout["sheet"]
    settings = layout["settings"]
    for row, (key, value) in enumerate(settings, start=1):
        ws.cell(row, 1, key).font = _font()
        ws.cell(row, 2, value if value != "" else None).font = _font()
    # xlwings stops reading at the first empty cell in column A: the notes go below a gap.
    notes_row = len(settings) + 2
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
    workbook.create_sheet(board["sheet"])        # filled in by add_dashboard
    workbook.create_sheet(board["data_sheet"])

    order = [board["sheet"], layout["config"]["sheet"], *(t["sheet"] for t in layout["tables"]),
             board["data_sheet"], layout["xlwings_conf"]["sheet"]]
    workbook._sheets = [workbook[name] for name in order]  # openpyxl has no public reorder
    workbook.active = 0
    for ws in workbook.worksheets:
        ws.sheet_view.tabSelected = ws is workbook.active
    workbook.save(destination)


def add_dashboard(workbook: Path, destination: Path, layout: dict[str, Any]) -> None:
    """Write the Dashboard of an account with no workouts yet, as a refresh would."""
    from pelotonxl.model.dashboard import build_dashboard
    from pelotonxl.xlsx import dashboard_sheet
    from pelotonxl.xlsx import package as xlsx_parts

    board = build_dashboard([], BUILD_TIME)
    board.name, board.data_sheet = layout["dashboard"]["sheet"], layout["dashboard"]["data_sheet"]
    with xlsx_parts.open_package(workbook) as pkg:
        styles_part = next(r.part for r in xlsx_parts.read_rels(pkg, xlsx_parts.workbook_part(pkg))
                           if r.type == xlsx_parts.REL_STYLES)
        styles = StyleBook(pkg.text(styles_part))
        dashboard_sheet.write_dashboard(pkg, styles, board)
        pkg.put(styles_part, styles.xml)
        with open(destination, "wb") as stream:
            pkg.write_zip(stream)


# ----------------------------------------------------------------------------- VBA

def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def write_vba(workbook: Path, destination: Path, peloton_source: str, udf_wrapper: str) -> None:
    """Replace the template's sample Module1 with Peloton and add the UDF wrappers.

    The template's `xlwings` module and `Dictionary` class are left as they are.
    """
    from pyopenvba import ExcelFile

    with ExcelFile(workbook) as book:
        project = book.vba_project()
        project.rename_module("Module1", "Peloton")
        book.set_module("Peloton", _crlf(peloton_source))
        project.add_module(UDF_WRAPPER_NAME, _crlf(udf_wrapper))
        book.save(destination)
    with ExcelFile(destination) as written:  # streams exist only once saved
        problems = written.validate()
    if problems:
        raise WorkbookError(f"The VBA project did not validate: {'; '.join(problems)}")


# ----------------------------------------------------------------------------- package

def _xml_bytes(root: ElementTree.Element) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            + ElementTree.tostring(root, encoding="utf-8"))


def _with_customui_relationship(rels: bytes) -> bytes:
    ElementTree.register_namespace("", PACKAGE_RELS_NS)
    root = ElementTree.fromstring(rels)
    ids = {rel.get("Id") for rel in root}
    number = 1
    while f"rId{number}" in ids:
        number += 1
    ElementTree.SubElement(root, f"{{{PACKAGE_RELS_NS}}}Relationship",
                           Id=f"rId{number}", Type=CUSTOMUI_REL_TYPE, Target=CUSTOMUI_PART)
    return _xml_bytes(root)


def _with_customui_content_type(content_types: bytes) -> bytes:
    ElementTree.register_namespace("", CONTENT_TYPES_NS)
    root = ElementTree.fromstring(content_types)
    ElementTree.SubElement(root, f"{{{CONTENT_TYPES_NS}}}Override",
                           PartName=f"/{CUSTOMUI_PART}", ContentType="application/xml")
    return _xml_bytes(root)


def _core_properties() -> bytes:
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.xml.functions import tostring

    props = DocumentProperties(creator="peloton_xl", lastModifiedBy="peloton_xl",
                               title="Peloton workbook", created=BUILD_TIME, modified=BUILD_TIME)
    return tostring(props.to_tree())


def _part_order(name: str) -> tuple[int, str]:
    # Content types and package relationships first, as Office writes them; the rest sorted.
    first = {"[Content_Types].xml": 0, "_rels/.rels": 1}
    return (first.get(name, 2), name)


def finish_package(workbook: Path, destination: Path, customui: bytes) -> None:
    """Add the ribbon part and write every entry in a fixed order with fixed metadata."""
    with zipfile.ZipFile(workbook) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts[CUSTOMUI_PART] = customui
    parts["_rels/.rels"] = _with_customui_relationship(parts["_rels/.rels"])
    parts["[Content_Types].xml"] = _with_customui_content_type(parts["[Content_Types].xml"])
    parts["docProps/core.xml"] = _core_properties()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in sorted(parts, key=_part_order):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            package.writestr(entry, parts[name], compresslevel=6)
    destination.write_bytes(buffer.getvalue())


# ----------------------------------------------------------------------------- build

def build_workbook(output: Path = DEFAULT_OUTPUT, *, sources: Path = SOURCES_DIR,
                   udf_module: Path = DEFAULT_UDF_MODULE) -> BuildResult:
    """Build the workbook at `output` (replaced atomically) and return what went into it."""
    template = xlwings_template()
    udf_wrapper = generate_udf_wrapper(udf_module)
    layout = load_layout(sources)
    peloton_source = (sources / "vba" / "Peloton.bas").read_text(encoding="utf-8")
    customui = (sources / "customUI.xml").read_bytes()

    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="workbook_build_") as scratch:
        sheets = Path(scratch) / "sheets.xlsm"
        with_vba = Path(scratch) / "vba.xlsm"
        with_dashboard = Path(scratch) / "dashboard.xlsm"
        lay_out_sheets(template, sheets, layout)
        write_vba(sheets, with_vba, peloton_source, udf_wrapper)
        add_dashboard(with_vba, with_dashboard, layout)
        staged = output.with_name(f".{output.name}.building")
        try:
            finish_package(with_dashboard, staged, customui)
            os.replace(staged, output)
        finally:
            staged.unlink(missing_ok=True)
    return BuildResult(output=output, udf_wrapper=udf_wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pelotonxl.workbook_build",
        description="Build PelotonWorkbook.xlsm from workbook/ and peloton_xl.py.")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the workbook (default: {DEFAULT_OUTPUT.name} "
                             "at the top of the repository)")
    args = parser.parse_args(argv)
    try:
        result = build_workbook(args.output)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # The generated wrappers are committed beside Peloton.bas so reviewers see them.
    udf_copy = SOURCES_DIR / "vba" / f"{UDF_WRAPPER_NAME}.bas"
    udf_copy.write_text(result.udf_wrapper, encoding="utf-8", newline="\n")
    print(f"wrote {result.output} and {udf_copy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
