"""Faults in the workbook, end to end: open or locked, holding what a rewrite would drop, sheets missing,
renamed or damaged, or not a workbook at all. The CLI runs in this process against the local server.

tests/test_faults.py has the network and kill stories; docs/what-happens-when.md the member's version.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from support import one_line_error, table_rows
from support.workbook_samples import add_sparklines, edit_zip, read_parts, sheet_parts

from pelotonxl.demo.account import make_account
from pelotonxl.xlsx.safety import TEMP_PREFIX

# openpyxl reads back workbooks holding data bars and sparklines on other sheets: it says it would drop them.
pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

N = 20  # workouts in the account: the workbook is the point here, not the sync


@pytest.fixture
def account():
    return make_account(N, seed=11)


# --- the workbook itself ------------------------------------------------------------------------


def test_a_workbook_open_in_excel_is_refused_before_signing_in(server, workbook, home, run_cli):
    lock = workbook.with_name("~$" + workbook.name)
    lock.write_bytes(b"\x0bMember Name")
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert "open in Excel" in message and lock.name in message
    assert workbook.read_bytes() == before
    assert server.requests == []


def test_a_workbook_locked_by_another_program_at_save_time_is_left_whole(
    server, workbook, home, capsys, monkeypatch, run_cli
):
    """Windows refuses to replace a file Excel holds open: os.replace raises PermissionError."""
    before = workbook.read_bytes()

    real_replace = os.replace

    def locked(src, dst):
        if Path(dst) == workbook:
            raise PermissionError(13, "The process cannot access the file because it is being used")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", locked)
    result = run_cli(server, workbook, home)
    code, _, err = result.returncode, result.stdout, result.stderr
    assert code == 1 and "open in another program" in err and len(err.strip().splitlines()) == 1
    assert workbook.read_bytes() == before
    assert list(workbook.parent.glob(f"{TEMP_PREFIX}*")) == []


DRAWING_CT = "application/vnd.openxmlformats-officedocument.drawing+xml"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"


def rels_of(part: str) -> str:
    folder, name = part.rsplit("/", 1)
    return f"{folder}/_rels/{name}.rels"


def add_drawing(path: Path, sheet_part: str, anchored_xml: str, number: int) -> None:
    """Attach a drawing part holding one anchored object to a worksheet, as Excel lays it out."""
    drawing = (
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        "<xdr:oneCellAnchor><xdr:from><xdr:col>2</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>"
        '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="1800000" cy="600000"/>'
        f"{anchored_xml}<xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
    )
    folder, name = sheet_part.rsplit("/", 1)
    rels_name = f"{folder}/_rels/{name}.rels"
    part = f"xl/drawings/drawing{number}.xml"

    def edit(parts: dict[str, bytes]) -> None:
        parts[part] = drawing.encode()
        rel = (
            f'<Relationship Id="rIdDraw{number}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/drawing" Target="../drawings/drawing{number}.xml"/>'
        )
        rels = parts.get(
            rels_name,
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>',
        ).decode()
        parts[rels_name] = rels.replace("</Relationships>", rel + "</Relationships>").encode()
        sheet = parts[sheet_part].decode()
        anchor = "<tableParts" if "<tableParts" in sheet else "</worksheet>"
        ns = (
            ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
            if 'xmlns:r="' not in sheet
            else ""
        )
        parts[sheet_part] = sheet.replace(anchor, f'<drawing{ns} r:id="rIdDraw{number}"/>' + anchor, 1).encode()
        types = parts["[Content_Types].xml"].decode()
        override = f'<Override PartName="/{part}" ContentType="{DRAWING_CT}"/>'
        parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>").encode()

    edit_zip(path, edit)


SHAPE = (
    '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="Arrow 1"/><xdr:cNvSpPr/></xdr:nvSpPr>'
    '<xdr:spPr><a:prstGeom prst="rightArrow"><a:avLst/></a:prstGeom></xdr:spPr></xdr:sp>'
)
TEXT_BOX = (
    '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="3" name="TextBox 2"/><xdr:cNvSpPr txBox="1"/>'
    '</xdr:nvSpPr><xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody>'
    "<a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>My FTP went up here</a:t></a:r></a:p></xdr:txBody></xdr:sp>"
)
SLICER_FRAME = (
    '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    '<mc:Choice xmlns:sle15="http://schemas.microsoft.com/office/drawing/2012/slicer" Requires="sle15">'
    '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="4" name="Discipline"/>'
    '<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/>'
    '<a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic><a:graphicData '
    'uri="http://schemas.microsoft.com/office/drawing/2010/slicer"><sle:slicer '
    'xmlns:sle="http://schemas.microsoft.com/office/drawing/2010/slicer" name="Discipline"/>'
    "</a:graphicData></a:graphic></xdr:graphicFrame></mc:Choice></mc:AlternateContent>"
)


def add_data_bars(path: Path, sheet_part: str) -> None:
    """A 2010-style data bar: a classic rule pointing at its x14 twin in the sheet's extLst."""
    guid = "{3F8C2A51-0B7E-4C51-9E0A-5D1C7B2E9A10}"
    rule = (
        '<conditionalFormatting sqref="C2:C10"><cfRule type="dataBar" priority="1"><dataBar>'
        '<cfvo type="min"/><cfvo type="max"/><color rgb="FF638EC6"/></dataBar><extLst>'
        f'<ext uri="{{B025F937-C7B1-47D3-B67F-A62EFF666E3E}}" xmlns:x14="{X14}"><x14:id>{guid}</x14:id>'
        "</ext></extLst></cfRule></conditionalFormatting>"
    )
    ext = (
        f'<extLst><ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" xmlns:x14="{X14}">'
        "<x14:conditionalFormattings><x14:conditionalFormatting "
        'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        f'<x14:cfRule type="dataBar" id="{guid}"><x14:dataBar minLength="0" maxLength="100">'
        '<x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/></x14:dataBar></x14:cfRule>'
        "<xm:sqref>C2:C10</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>"
    )

    def edit(parts: dict[str, bytes]) -> None:
        sheet = parts[sheet_part].decode()
        sheet = re.sub(r"(</sheetData>|<sheetData\s*/>)", lambda m: m.group(1) + rule, sheet, count=1)
        parts[sheet_part] = sheet.replace("</worksheet>", ext + "</worksheet>").encode()

    edit_zip(path, edit)


def add_slicer(path: Path, sheet_part: str) -> None:
    ext = (
        f'<extLst><ext uri="{{3A4CF648-6AED-40f4-86FF-DC5316D8AED3}}" xmlns:x14="{X14}"><x14:slicerList>'
        '<x14:slicer r:id="rIdDraw7" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"/></x14:slicerList></ext></extLst>'
    )
    add_drawing(path, sheet_part, SLICER_FRAME, 7)
    edit_zip(
        path,
        lambda parts: parts.__setitem__(
            sheet_part, parts[sheet_part].decode().replace("</worksheet>", ext + "</worksheet>").encode()
        ),
    )


ADDITIONS = {
    "shape": (lambda path, part: add_drawing(path, part, SHAPE, 5), "1 shape"),
    "text box": (lambda path, part: add_drawing(path, part, TEXT_BOX, 5), "1 text box"),
    "sparklines": (add_sparklines, "sparklines"),
    "data bars": (add_data_bars, "data bars"),
    "slicer": (add_slicer, "slicers"),
}


@pytest.mark.parametrize(
    "thing, sheet",
    [
        ("shape", "Workouts"),
        ("text box", "Metrics"),
        ("sparklines", "Workouts"),
        ("data bars", "Metrics"),
        ("slicer", "Workouts"),
    ],
)
def test_content_a_rewrite_would_drop_on_a_data_sheet_is_refused_before_touching_anything(
    server, workbook, home, sheet, thing, run_cli
):
    add, words = ADDITIONS[thing]
    add(workbook, sheet_parts(workbook)[sheet])
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert f"The {sheet} sheet holds" in message and words in message and "move them" in message
    assert workbook.read_bytes() == before
    assert server.requests == []  # refused before even signing in


def test_such_content_on_other_sheets_is_kept_byte_for_byte(server, workbook, home, run_cli):
    sheets = sheet_parts(workbook)
    add_drawing(workbook, sheets["Config"], SHAPE, 5)
    add_data_bars(workbook, sheets["Config"])
    add_drawing(workbook, sheets["xlwings.conf"], TEXT_BOX, 6)
    add_sparklines(workbook, sheets["xlwings.conf"])
    before = read_parts(workbook)
    config_before = before[sheets["Config"]].decode()
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    after = read_parts(workbook)
    members = [
        sheets["xlwings.conf"],
        "xl/drawings/drawing5.xml",
        "xl/drawings/drawing6.xml",
        rels_of(sheets["xlwings.conf"]),
        rels_of(sheets["Config"]),
        "xl/vbaProject.bin",
        "customUI/customUI.xml",
    ]
    assert all(after[name] == before[name] for name in members)
    # The Config sheet only had its status cells edited: its drawing and data bars are there verbatim.
    config_after = after[sheets["Config"]].decode()
    for piece in (
        r'<drawing xmlns:r="[^"]+" r:id="rIdDraw5"/>',
        r"<conditionalFormatting .*?</conditionalFormatting>",
        r"<extLst>.*?</extLst>",
    ):
        assert re.search(piece, config_after).group(0) == re.search(piece, config_before).group(0)
    assert config_after != config_before  # the status cells did change
    assert len(table_rows(workbook, "Workouts")) == N


# --- missing, renamed or damaged sheets; not a workbook ---------------------------------------------


def remove_sheet(name: str):
    """Delete a sheet the way Excel does: its entry, relationship, part, rels, table and content types."""

    def edit(parts: dict[str, bytes]) -> None:
        book = parts["xl/workbook.xml"].decode()
        entry = re.search(rf'<sheet [^>]*name="{name}"[^>]*/>', book)
        rel_id = re.search(r'r:id="([^"]+)"', entry.group(0)).group(1)
        parts["xl/workbook.xml"] = book.replace(entry.group(0), "").encode()
        rels = parts["xl/_rels/workbook.xml.rels"].decode()
        rel = re.search(rf'<Relationship [^>]*Id="{rel_id}"[^>]*/>', rels).group(0)
        target = "xl/" + re.search(r'Target="([^"]+)"', rel).group(1).lstrip("/").removeprefix("xl/")
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(rel, "").encode()
        folder, file = target.rsplit("/", 1)
        gone = [target, f"{folder}/_rels/{file}.rels"]
        sheet_rels = parts.get(gone[1], b"").decode()
        gone += ["xl/tables/" + t for t in re.findall(r'Target="(?:\.\./|/xl/)tables/([^"]+)"', sheet_rels)]
        types = parts["[Content_Types].xml"].decode()
        for part in gone:
            parts.pop(part, None)
            types = re.sub(rf'<Override PartName="/{re.escape(part)}"[^>]*/>', "", types)
        parts["[Content_Types].xml"] = types.encode()

    return edit


# Sheets a first refresh adds to a workbook made before the power curve and the Ride sheet.
NEW_SHEETS = ["PowerCurve", "Fitness", "Ride", "Ride Data"]


def rename_sheet(name: str, new: str):
    return lambda parts: parts.__setitem__(
        "xl/workbook.xml", parts["xl/workbook.xml"].decode().replace(f'name="{name}"', f'name="{new}"').encode()
    )


@pytest.mark.parametrize("sheet", ["Workouts", "Metrics"])
def test_a_missing_data_sheet_is_recreated_and_nothing_else_changes(server, workbook, home, sheet, run_cli):
    edit_zip(workbook, remove_sheet(sheet))
    before = read_parts(workbook)
    order_before = list(sheet_parts(workbook))
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(workbook)
    assert sheet in book.sheetnames and sheet in book[sheet].tables  # the table keeps its name
    assert len(table_rows(workbook, "Workouts")) == N
    after = read_parts(workbook)
    untouched = [
        sheet_parts(workbook)["xlwings.conf"],
        "xl/vbaProject.bin",
        "customUI/customUI.xml",
        "xl/theme/theme1.xml",
        "docProps/core.xml",
    ]
    assert all(after[name] == before[name] for name in untouched)
    assert [
        s for s in sheet_parts(workbook) if s not in (sheet, *NEW_SHEETS)
    ] == order_before  # the others, as they were


def test_a_renamed_data_sheet_keeps_its_name_and_its_table_is_refreshed_there(server, workbook, home, run_cli):
    """The Workouts table, not the tab's name, marks the sheet: renaming the tab is the member's right."""
    edit_zip(workbook, rename_sheet("Workouts", "Rides 2023"))
    sheets_before = openpyxl.load_workbook(workbook).sheetnames
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == sheets_before + NEW_SHEETS  # no second "Workouts" sheet
    assert list(book["Rides 2023"].tables) == ["Workouts"]  # the table kept its name
    rows = list(book["Rides 2023"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == N and rows[0][0]


@pytest.mark.parametrize("change", ["missing", "renamed"])
def test_a_missing_or_renamed_config_sheet_falls_back_to_environment_and_defaults(
    server, workbook, home, change, run_cli
):
    edit_zip(workbook, remove_sheet("Config") if change == "missing" else rename_sheet("Config", "Notes"))
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    assert "has no Config sheet" in result.stderr
    assert len(table_rows(workbook, "Workouts")) == N


def test_a_damaged_config_sheet_is_one_clear_line_and_nothing_is_written(server, workbook, home, run_cli):
    edit_zip(workbook, lambda parts: parts.__setitem__(sheet_parts(workbook)["Config"], b"<worksheet><sheetData>"))
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    assert "Config sheet" in one_line_error(result)
    assert workbook.read_bytes() == before


@pytest.mark.parametrize("sheet", ["Workouts"])
def test_a_damaged_data_sheet_is_rebuilt_from_the_store(server, workbook, home, sheet, run_cli):
    edit_zip(workbook, lambda parts: parts.__setitem__(sheet_parts(workbook)[sheet], b"<worksheet garbage"))
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    assert len(table_rows(workbook, "Workouts")) == N and table_rows(workbook, "Metrics")


@pytest.mark.parametrize("sheet", ["Workouts", "Dashboard"])
def test_a_data_sheet_damaged_after_a_refresh_the_same_day_is_rebuilt(server, workbook, home, sheet, run_cli):
    """The stamp says the workbook already shows today's data, so a nothing-new refresh writes only the status:
    not when the sheet it vouches for can no longer be read (saved damaged by another program)."""
    assert run_cli(server, workbook, home).returncode == 0
    edit_zip(workbook, lambda parts: parts.__setitem__(sheet_parts(workbook)[sheet], b"<worksheet garbage"))
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(workbook) as zf:
        ElementTree.fromstring(zf.read(sheet_parts(workbook)[sheet]))  # readable again
    assert len(table_rows(workbook, "Workouts")) == N


def damaged_zip(path: Path) -> None:
    """Flip bytes inside one compressed entry, as a bad disk or an interrupted copy would."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet2.xml")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(4, 12):
        raw[start + i] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_an_untouched_part_whose_headers_disagree_is_the_damaged_line_naming_it(server, workbook, home, run_cli):
    """zipfile reads a part by its central record alone, so the damage check passes; the raw copy at save time
    meets the local header's CRC, says which part, and the workbook stays as it was."""
    with zipfile.ZipFile(workbook) as zf:
        info = zf.getinfo("xl/vbaProject.bin")
    raw = bytearray(workbook.read_bytes())
    raw[info.header_offset + 14] ^= 0xFF  # the CRC field of its local header
    workbook.write_bytes(bytes(raw))
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"{workbook.name} is damaged (xl/vbaProject.bin cannot be read back): restore it from a backup" in line
    assert workbook.read_bytes() == bytes(raw)
    assert not list(workbook.parent.glob(TEMP_PREFIX + "*"))


@pytest.mark.parametrize("kind", ["text", "truncated", "damaged entry", "zip of something else"])
def test_a_file_that_is_not_a_workbook_is_one_clear_line_and_left_alone(server, workbook, home, kind, run_cli):
    if kind == "text":
        workbook.write_text("Date,Output\n2024-01-01,300\n")
    elif kind == "empty":
        workbook.write_bytes(b"")
    elif kind == "truncated":
        workbook.write_bytes(workbook.read_bytes()[:20_000])
    elif kind == "damaged entry":
        damaged_zip(workbook)
    else:
        with zipfile.ZipFile(workbook, "w") as zf:
            zf.writestr("notes.txt", "hello")
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert workbook.name in message and ("not an Excel workbook" in message or "damaged" in message)
    assert workbook.read_bytes() == before
    assert server.requests == []
