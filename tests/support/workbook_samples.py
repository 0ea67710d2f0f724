"""Test workbooks made with openpyxl, shaped like a member's PelotonWorkbook.xlsm.

The base is xlwings' real macro-enabled quickstart template (VBA project kept), to which we add a
Config sheet, the Workouts and Metrics tables, a member's own sheet (chart, formula on the Workouts
table, a defined name) and, by zip editing, a ribbon part openpyxl would not create.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import xlwings
from openpyxl import load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

from pelotonxl.model.workbook import STATUS_NAMES, Status, WorkbookContent
from pelotonxl.settings import FIELD_BY_NAME, FIELDS
from pelotonxl.xlsx import package as xp

TEMPLATE = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"

CONFIG_VALUES = {
    "username": "member@example.com",
    "password": "hunter2",
    "every_n": 60,  # typed as a number
    "workers": "3",  # typed as text
    "api_url": "http://127.0.0.1:8080",
}
FIRST_STATUS_ROW = len(FIELDS) + 3
STATUS_CELLS = {key: f"B{FIRST_STATUS_ROW + i}" for i, key in enumerate(STATUS_NAMES)}

CUSTOM_UI = (
    '<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui"><ribbon><tabs>'
    '<tab id="peloton" label="Peloton"><group id="g" label="Data">'
    '<button id="refresh" label="Refresh" onAction="RefreshPeloton"/></group></tab>'
    "</tabs></ribbon></customUI>"
)
UI_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"


@dataclass
class SampleTable:
    """Same shape as pelotonxl.tables.SheetTable, for tests that must not depend on tables.py."""

    name: str
    frame: pd.DataFrame
    number_formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)


def sample_content(tables: list[SampleTable], status: Status | None = None) -> WorkbookContent:
    """A writer's input from sample tables, each placed by its name (Workouts, Metrics)."""
    by_name = {t.name: t for t in tables}
    return WorkbookContent(by_name.get("Workouts"), by_name.get("Metrics"), status=status or Status())


def make_workbook(path: Path, *, with_metrics: bool = True) -> Path:
    """Write a member-like .xlsm to path and return it."""
    shutil.copyfile(TEMPLATE, path)
    wb = load_workbook(path, keep_vba=True)

    config = wb.create_sheet("Config")
    config.append(["Setting", "Value", "Help"])
    for f in FIELDS:
        config.append([f.label, CONFIG_VALUES.get(f.name), f.help])
    config.append([])
    for key, (defined_name, label) in STATUS_NAMES.items():
        cell = STATUS_CELLS[key]
        config[f"A{cell[1:]}"] = label
        wb.defined_names[defined_name] = DefinedName(defined_name, attr_text=f"Config!${cell[0]}${cell[1:]}")
    config[STATUS_CELLS["last_result"]] = "never refreshed"

    _add_table(
        wb.create_sheet("Workouts"),
        "Workouts",
        [
            ["Workout ID", "Start", "Output"],
            ["w1", dt.datetime(2024, 1, 2, 7, 30), 250],
            ["w2", dt.datetime(2024, 1, 3, 6, 0), 300],
        ],
    )
    if with_metrics:
        _add_table(
            wb.create_sheet("Metrics"), "Metrics", [["Workout ID", "Metric", "Value"], ["w1", "Heart rate", 140]]
        )

    # As a refresh leaves it: the columns it wrote, recorded (pelotonxl.xlsx.member_columns).
    wb.defined_names["PelotonXL_Workouts_Columns"] = DefinedName(
        "PelotonXL_Workouts_Columns", attr_text='{"Workout ID","Start","Output"}', hidden=True
    )
    wb.defined_names["PelotonXL_Metrics_Columns"] = DefinedName(
        "PelotonXL_Metrics_Columns", attr_text='{"Workout ID","Metric","Value"}', hidden=True
    )
    mine = wb.create_sheet("My Analysis")
    mine["A1"] = "Total output"
    mine["B1"] = "=SUM(Workouts[Output])"
    chart = BarChart()
    chart.add_data(Reference(wb["Workouts"], min_col=3, min_row=1, max_row=3), titles_from_data=True)
    mine.add_chart(chart, "D2")
    wb.defined_names["MyTotal"] = DefinedName("MyTotal", attr_text="'My Analysis'!$B$1")
    wb.save(path)
    _add_custom_ui(path)
    return path


def _add_table(ws, name: str, rows: list[list]) -> None:
    for row in rows:
        ws.append(row)
    table = Table(displayName=name, ref=f"A1:{chr(64 + len(rows[0]))}{len(rows)}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)


def _add_custom_ui(path: Path) -> None:
    def edit(parts: dict[str, bytes]) -> None:
        parts["customUI/customUI.xml"] = CUSTOM_UI.encode()
        rels = parts["_rels/.rels"].decode()
        rel = f'<Relationship Id="rIdUI" Type="{UI_REL_TYPE}" Target="customUI/customUI.xml"/>'
        parts["_rels/.rels"] = rels.replace("</Relationships>", rel + "</Relationships>").encode()

    edit_zip(path, edit)


def add_shape(path: Path, sheet_part: str) -> None:
    """Give a worksheet a drawing with one rectangle, as Excel writes it (a shape openpyxl would drop)."""
    drawing = (
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        "<xdr:twoCellAnchor><xdr:from><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>"
        "<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff>"
        '<xdr:row>6</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink="">'
        '<xdr:nvSpPr><xdr:cNvPr id="2" name="Rectangle 1"/><xdr:cNvSpPr/></xdr:nvSpPr><xdr:spPr>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:sp><xdr:clientData/>'
        "</xdr:twoCellAnchor></xdr:wsDr>"
    )
    folder, name = sheet_part.rsplit("/", 1)
    rels_name = f"{folder}/_rels/{name}.rels"

    def edit(parts: dict[str, bytes]) -> None:
        parts["xl/drawings/drawing99.xml"] = drawing.encode()
        rel = (
            '<Relationship Id="rIdShape" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/drawing" Target="../drawings/drawing99.xml"/>'
        )
        rels = parts.get(
            rels_name,
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>',
        ).decode()
        parts[rels_name] = rels.replace("</Relationships>", rel + "</Relationships>").encode()
        sheet = parts[sheet_part].decode()
        anchor = "<tableParts" if "<tableParts" in sheet else "</worksheet>"
        parts[sheet_part] = sheet.replace(anchor, '<drawing r:id="rIdShape"/>' + anchor, 1).encode()
        types = parts["[Content_Types].xml"].decode()
        override = (
            '<Override PartName="/xl/drawings/drawing99.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.drawing+xml"/>'
        )
        parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()

    edit_zip(path, edit)


def edit_zip(path: Path, edit) -> None:
    """Rewrite a zip with edit(parts) applied to its {name: bytes} (entry order kept, new ones last)."""
    parts = read_parts(path)
    edit(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> worksheet part name, read the way Excel does (workbook.xml + its rels)."""
    parts = read_parts(path)
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({i: t for t, i in re.findall(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', book):
        target = targets[rid].lstrip("/")
        out[name] = target if target.startswith("xl/") else "xl/" + target
    return out


def type_into_config(workbook: Path, field: str, value: str | int | float) -> None:
    """Type a value into the Config cell beside a setting's label, as a member would."""
    from pelotonxl.xlsx import cell_edit, cells

    label = FIELD_BY_NAME[field].label
    part = sheet_parts(workbook)["Config"]
    tail = cells.string_tail(value) if isinstance(value, str) else cells.number_tail(value)

    def edit(parts: dict[str, bytes]) -> None:
        xml = parts[part].decode()
        row = re.search(rf'<c r="A(\d+)"[^>]*><is><t>{re.escape(label)}</t></is></c>', xml).group(1)
        parts[part] = cell_edit.set_cell(xml, f"B{row}", tail).encode()

    edit_zip(workbook, edit)


def to_shared_strings(path: Path, sheet_part: str) -> None:
    """Store a sheet's inline strings in sharedStrings.xml, as Excel does when it saves."""

    def edit(parts: dict[str, bytes]) -> None:
        strings: list[str] = []
        sst_name = "xl/sharedStrings.xml"
        if sst_name in parts:
            strings = re.findall(r"<si><t[^>]*>(.*?)</t></si>", parts[sst_name].decode())
        else:
            _register_workbook_part(parts, "sharedStrings", "rIdSST")

        def shared(match: re.Match) -> str:
            text = match.group(2)
            strings.append(text)
            return f'{match.group(1)} t="s"><v>{len(strings) - 1}</v></c>'

        sheet = parts[sheet_part].decode()
        parts[sheet_part] = re.sub(
            r'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="inlineStr"><is><t>(.*?)</t></is></c>', shared, sheet
        ).encode()
        items = "".join(f"<si><t>{s}</t></si>" for s in strings)
        parts[sst_name] = (
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
        ).encode()

    edit_zip(path, edit)


def add_calc_chain(path: Path, sheet_id: int) -> None:
    """A calcChain.xml listing one formula cell of the sheet with this sheetId."""

    def edit(parts: dict[str, bytes]) -> None:
        parts["xl/calcChain.xml"] = (
            f'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            f'main"><c r="B1" i="{sheet_id}"/></calcChain>'
        ).encode()
        _register_workbook_part(parts, "calcChain", "rIdCalc")

    edit_zip(path, edit)


def _register_workbook_part(parts: dict[str, bytes], kind: str, rel_id: str) -> None:
    """Relate xl/<kind>.xml to the workbook and give it its content type (sharedStrings, calcChain)."""
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    rel = (
        f'<Relationship Id="{rel_id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/{kind}" Target="{kind}.xml"/>'
    )
    parts["xl/_rels/workbook.xml.rels"] = rels.replace("</Relationships>", rel + "</Relationships>").encode()
    types = parts["[Content_Types].xml"].decode()
    override = (
        f'<Override PartName="/xl/{kind}.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.{kind}+xml"/>'
    )
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()


def add_sparklines(path: Path, sheet_part: str) -> None:
    """An x14 extLst with a sparkline group on the sheet (openpyxl would drop it)."""
    ext = (
        '<extLst><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" '
        'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:sparklineGroups xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        "<x14:sparklineGroup><x14:sparklines><x14:sparkline><xm:f>Workouts!C2:C3</xm:f><xm:sqref>E2</xm:sqref>"
        "</x14:sparkline></x14:sparklines></x14:sparklineGroup></x14:sparklineGroups></ext></extLst>"
    )

    def edit(parts: dict[str, bytes]) -> None:
        parts[sheet_part] = parts[sheet_part].decode().replace("</worksheet>", ext + "</worksheet>").encode()

    edit_zip(path, edit)


def add_pivot(path: Path, sheet_part: str, source: str, n: int = 1) -> tuple[str, str]:
    """A pivot table on the worksheet `sheet_part`, its cache fed by `source` (the attributes of
    <worksheetSource>: 'name="Workouts"' for a table, 'ref="A1:B9" sheet="Mine"' for a range), as Excel
    writes one before its first refresh. Returns the (cache definition, pivot table) part names."""
    cache, pivot = f"xl/pivotCache/pivotCacheDefinition{n}.xml", f"xl/pivotTables/pivotTable{n}.xml"
    column = "ACEGIK"[n - 1]  # side by side in row 3: pivot tables may not overlap
    cache_xml = (
        f'<pivotCacheDefinition xmlns="{xp.MAIN_NS}" xmlns:r="{xp.REL_NS}" refreshedBy="Member" '
        f'recordCount="0"><cacheSource type="worksheet"><worksheetSource {source}/></cacheSource>'
        '<cacheFields count="1"><cacheField name="Workout ID" numFmtId="0"><sharedItems/></cacheField>'
        "</cacheFields></pivotCacheDefinition>"
    )
    pivot_xml = (
        f'<pivotTableDefinition xmlns="{xp.MAIN_NS}" name="PivotTable{n}" cacheId="{n}" '
        f'dataCaption="Values"><location ref="{column}3:{column}4" firstHeaderRow="1" firstDataRow="1" '
        'firstDataCol="0"/><pivotFields count="1"><pivotField showAll="0"/></pivotFields>'
        "</pivotTableDefinition>"
    )
    folder, name = sheet_part.rsplit("/", 1)

    def relate(parts: dict[str, bytes], rels_part: str, rel_id: str, kind: str, target: str) -> None:
        rels = parts.get(rels_part, f'<Relationships xmlns="{xp.PKG_REL_NS}"></Relationships>'.encode()).decode()
        rel = f'<Relationship Id="{rel_id}" Type="{xp.REL_NS}/{kind}" Target="{target}"/>'
        parts[rels_part] = rels.replace("</Relationships>", rel + "</Relationships>").encode()

    def edit(parts: dict[str, bytes]) -> None:
        parts[cache], parts[pivot] = cache_xml.encode(), pivot_xml.encode()
        relate(
            parts,
            "xl/_rels/workbook.xml.rels",
            f"rIdPivotCache{n}",
            "pivotCacheDefinition",
            f"pivotCache/pivotCacheDefinition{n}.xml",
        )
        relate(parts, f"{folder}/_rels/{name}.rels", f"rIdPivot{n}", "pivotTable", f"../pivotTables/pivotTable{n}.xml")
        relate(
            parts,
            f"xl/pivotTables/_rels/pivotTable{n}.xml.rels",
            "rId1",
            "pivotCacheDefinition",
            f"../pivotCache/pivotCacheDefinition{n}.xml",
        )
        book = parts["xl/workbook.xml"].decode()
        entry = f'<pivotCache xmlns:r="{xp.REL_NS}" cacheId="{n}" r:id="rIdPivotCache{n}"/>'
        if "</pivotCaches>" in book:
            book = book.replace("</pivotCaches>", entry + "</pivotCaches>", 1)
        else:
            at = re.search(
                r"<(?:smartTagPr|smartTagTypes|webPublishing|fileRecoveryPr|webPublishObjects|extLst)\b"
                r"|</workbook>",
                book,
            )
            book = book[: at.start()] + f"<pivotCaches>{entry}</pivotCaches>" + book[at.start() :]
        parts["xl/workbook.xml"] = book.encode()
        types = parts["[Content_Types].xml"].decode()
        for part, kind in ((cache, "pivotCacheDefinition"), (pivot, "pivotTable")):
            types = types.replace(
                "</Types>",
                f'<Override PartName="/{part}" ContentType="application/'
                f'vnd.openxmlformats-officedocument.spreadsheetml.{kind}+xml"/></Types>',
            )
        parts["[Content_Types].xml"] = types.encode()

    edit_zip(path, edit)
    return cache, pivot
