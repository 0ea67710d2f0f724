"""Comments (notes) on the Workouts table move with their workout in a headless refresh (issue 20): the
comment on a workout's cell is on that workout's row after new workouts push the rows down; one on a
removed workout stays with its row (at the bottom) or, with --full, goes and is counted; one outside the
table stays in its cell, and one the grown table would cover stops the refresh, naming the cell."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from support import libreoffice
from support.ooxml_check import assert_valid
from support.workbook_samples import SampleTable, make_workbook, sample_content

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import sheet_comments, writer

OLD = ["w5", "w4", "w3", "w2", "w1"]
NEW = [f"n{i}" for i in range(8, 0, -1)]


def refreshed(path: Path, ids: list[str], *, full: bool = False, columns=("Output",)) -> writer.WriteReport:
    frame = pd.DataFrame({"Workout ID": ids, **{c: [float(100 + i) for i in range(len(ids))] for c in columns}})
    content = sample_content([SampleTable("Workouts", frame, {}, {})])
    content.full = full
    return writer.write_tables(path, content)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    refreshed(path, OLD)
    return path


def comment_on(path: Path, comments: dict[str, str]) -> None:
    wb = load_workbook(path, keep_vba=True)
    for ref, text in comments.items():
        wb["Workouts"][ref].comment = Comment(text, "Member")
    wb.save(path)


def comments_of(path: Path) -> dict[str, str]:
    ws = load_workbook(path)["Workouts"]
    return {cell.coordinate: cell.comment.text for row in ws.iter_rows() for cell in row if cell.comment}


def id_rows(path: Path) -> dict[str, int]:
    ws = load_workbook(path)["Workouts"]
    return {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}


def vml_cells(path: Path) -> list[tuple[int, int]]:
    """(row, column), 0-based, of each note's shape in the sheet's VML drawing."""
    with zipfile.ZipFile(path) as zf:
        vml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml"))
    rows = [int(r) for r in re.findall(r"<(?:\w+:)?Row>(\d+)<", vml)]
    cols = [int(c) for c in re.findall(r"<(?:\w+:)?Column>(\d+)<", vml)]
    return sorted(zip(rows, cols, strict=True))


def test_a_comment_on_a_workouts_row_moves_with_it_when_new_workouts_arrive(book: Path):
    rows = id_rows(book)
    comment_on(book, {f"B{rows['w4']}": "felt strong", f"A{rows['w1']}": "first ride!", "A1": "ids", "F9": "goal"})
    refreshed(book, NEW + OLD)
    rows = id_rows(book)
    assert comments_of(book) == {
        f"B{rows['w4']}": "felt strong",
        f"A{rows['w1']}": "first ride!",
        "A1": "ids",  # the header row stays the header row
        "F9": "goal",  # outside the table: stays in its cell
    }
    assert rows["w4"] == 11 and rows["w1"] == 14
    assert vml_cells(book) == [(0, 0), (8, 5), (10, 1), (13, 0)]
    assert_valid(book)


def test_a_comment_follows_its_column_when_the_refresh_adds_one_before_it(book: Path):
    comment_on(book, {"B3": "w4's output"})
    refreshed(book, OLD, columns=("Avg Cadence (rpm)", "Output"))
    assert comments_of(book) == {"C3": "w4's output"}
    assert vml_cells(book) == [(2, 2)]


def test_a_comment_on_a_removed_workout_stays_with_its_row_and_goes_with_full(book: Path):
    rows = id_rows(book)
    comment_on(book, {f"B{rows['w3']}": "new bike", f"B{rows['w2']}": "tired"})
    refreshed(book, ["n1", "w5", "w4", "w2", "w1"])
    rows = id_rows(book)
    assert rows["w3"] == 7  # kept at the bottom: a comment is the member's note on it
    assert comments_of(book) == {"B7": "new bike", f"B{rows['w2']}": "tired"}
    report = refreshed(book, ["n1", "w5", "w4", "w1"], full=True)
    assert report.notes_dropped == 2
    assert "w3" not in id_rows(book)
    assert comments_of(book) == {}
    with zipfile.ZipFile(book) as zf:
        names = zf.namelist()
        sheet = zf.read("xl/worksheets/sheet4.xml").decode()
    assert not [n for n in names if "comment" in n.lower() or n.endswith(".vml")]
    assert "legacyDrawing" not in sheet
    assert_valid(book)


def test_a_comment_the_grown_table_would_cover_stops_the_refresh_naming_its_cell(book: Path):
    comment_on(book, {"B9": "under the table"})
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"Workouts!B9\b"):
        refreshed(book, NEW + OLD)
    assert book.read_bytes() == before


def test_a_comment_on_a_column_the_refresh_no_longer_writes_stops_it_naming_the_cell(book: Path):
    comment_on(book, {"B4": "on Output"})
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"Workouts!B4: "):
        refreshed(book, OLD, columns=("Avg Cadence (rpm)",))
    assert book.read_bytes() == before


def test_form_controls_on_the_table_sheet_are_still_refused(book: Path):
    comment_on(book, {"B3": "note"})
    with zipfile.ZipFile(book) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    vml = next(n for n in parts if n.endswith(".vml"))
    parts[vml] = parts[vml].replace(b'ObjectType="Note"', b'ObjectType="Button"')
    with zipfile.ZipFile(book, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    with pytest.raises(WorkbookError, match="form controls"):
        refreshed(book, NEW + OLD)


@pytest.mark.libreoffice
def test_comments_saved_by_libreoffice_move_and_libreoffice_reads_them_there(book: Path, tmp_path: Path):
    rows = id_rows(book)
    comment_on(book, {f"B{rows['w4']}": "felt strong", "F9": "goal"})
    saved = libreoffice.convert(book, "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "saved")
    refreshed(saved, NEW + OLD)
    rows = id_rows(saved)
    assert comments_of(saved) == {f"B{rows['w4']}": "felt strong", "F9": "goal"}
    again = libreoffice.convert(saved, "xlsx", tmp_path / "again")
    assert comments_of(again) == {f"B{rows['w4']}": "felt strong", "F9": "goal"}


THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"


def add_threaded(path: Path, refs: list[str]) -> None:
    """Excel's threaded comments beside the legacy ones (Excel writes both): a part of its own per sheet."""
    comment_on(path, {ref: "[Threaded comment] see the thread" for ref in refs})
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    threads = "".join(
        f'<threadedComment ref="{ref}" dT="2026-12-01T07:00:00.00" personId="{{P1}}" id="{{T{i}}}"><text>thread {ref}'
        f'</text></threadedComment><threadedComment ref="{ref}" dT="2026-12-01T08:00:00.00" personId="{{P1}}" '
        f'id="{{R{i}}}" parentId="{{T{i}}}"><text>reply</text></threadedComment>'
        for i, ref in enumerate(refs)
    )
    parts["xl/threadedComments/threadedComment1.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="{THREADED_NS}">'
        f"{threads}</ThreadedComments>"
    ).encode()
    rels = "xl/worksheets/_rels/sheet4.xml.rels"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdT" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"'
        b' Target="../threadedComments/threadedComment1.xml"/></Relationships>',
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/threadedComments/threadedComment1.xml" '
        b'ContentType="application/vnd.ms-excel.threadedcomments+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def threads_of(path: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(path) as zf:
        if "xl/threadedComments/threadedComment1.xml" not in zf.namelist():
            return []
        xml = zf.read("xl/threadedComments/threadedComment1.xml").decode()
    return re.findall(r'<threadedComment ref="([^"]*)"[^>]*>.*?<text>([^<]*)</text>', xml)


def test_threaded_comments_and_their_replies_move_with_their_workout_too(book: Path):
    rows = id_rows(book)
    add_threaded(book, [f"B{rows['w4']}", f"A{rows['w2']}"])
    refreshed(book, NEW + OLD)
    rows = id_rows(book)
    w4, w2 = f"B{rows['w4']}", f"A{rows['w2']}"
    assert threads_of(book) == [(w4, "thread B3"), (w4, "reply"), (w2, "thread A5"), (w2, "reply")]
    assert set(comments_of(book)) == {w4, w2}
    refreshed(book, NEW + ["w5", "w4", "w3", "w1"], full=True)
    w4 = f"B{id_rows(book)['w4']}"
    assert threads_of(book) == [(w4, "thread B3"), (w4, "reply")]
    assert set(comments_of(book)) == {w4}
    refreshed(book, NEW + ["w5", "w3", "w1"], full=True)
    with zipfile.ZipFile(book) as zf:
        names = zf.namelist()
        types = zf.read("[Content_Types].xml").decode()
    assert not [n for n in names if "omment" in n] and "threadedComment" not in types


EXCEL_VML = """<xml xmlns:v="urn:schemas-microsoft-com:vml"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel">
 <o:shapelayout v:ext="edit">
  <o:idmap v:ext="edit" data="1"/>
 </o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202"
  path="m,l,21600r21600,l21600,xe">
  <v:stroke joinstyle="miter"/>
  <v:path gradientshapeok="t" o:connecttype="rect"/>
 </v:shapetype><v:shape id="_x0000_s1025" type="#_x0000_t202" style='position:absolute;
  margin-left:107.25pt;margin-top:21pt;width:108pt;height:59.25pt;z-index:1;
  visibility:hidden' fillcolor="#ffffe1" o:insetmode="auto">
  <v:fill color2="#ffffe1"/>
  <v:textbox style='mso-direction-alt:auto'>
   <div style='text-align:left'></div>
  </v:textbox>
  <x:ClientData ObjectType="Note">
   <x:MoveWithCells/>
   <x:SizeWithCells/>
   <x:Anchor>
    2, 15, 1, 10, 4, 15, 5, 4</x:Anchor>
   <x:AutoFill>False</x:AutoFill>
   <x:Row>2</x:Row>
   <x:Column>1</x:Column>
  </x:ClientData>
 </v:shape></xml>"""


def test_an_excel_notes_box_moves_with_its_anchor():
    moved = sheet_comments._moved_shapes(EXCEL_VML, {"B3": "D12"})
    assert "<x:Row>11</x:Row>" in moved and "<x:Column>3</x:Column>" in moved
    assert "<x:Anchor>4, 15, 10, 10, 6, 15, 14, 4</x:Anchor>" in moved
    assert sheet_comments.only_notes(EXCEL_VML)
    assert sheet_comments._moved_shapes(EXCEL_VML, {"B3": None}).count("<v:shape ") == 0
    assert sheet_comments._moved_shapes(EXCEL_VML, {"C9": "C10"}) == EXCEL_VML  # another cell's note


@pytest.mark.parametrize("ref", ["#REF!", "A0"])
def test_a_comment_on_no_cell_is_the_damaged_line_and_the_file_is_untouched(book: Path, ref: str):
    from support.workbook_samples import edit_zip

    comment_on(book, {"B3": "note"})

    def point_nowhere(parts: dict[str, bytes]) -> None:
        (name,) = [k for k in parts if k.startswith("xl/comments") and k.endswith(".xml")]
        parts[name] = parts[name].replace(b'ref="B3"', f'ref="{ref}"'.encode())

    edit_zip(book, point_nowhere)
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"is damaged \(the comments of xl/worksheets/sheet\d+\.xml cannot be read"):
        refreshed(book, NEW + OLD)
    assert book.read_bytes() == before


def test_a_cell_past_the_last_column_is_the_damaged_line_and_the_file_is_untouched(book: Path):
    from support.workbook_samples import edit_zip, sheet_parts

    part = sheet_parts(book)["Workouts"]
    far = b'<row r="50"><c r="ZZZZ50" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    edit_zip(book, lambda parts: parts.__setitem__(part, parts[part].replace(b"</sheetData>", far)))
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=rf"is damaged \({part} cannot be read back\)"):
        refreshed(book, NEW + OLD)
    assert book.read_bytes() == before
