"""The headless writer against real .xlsm files: what it replaces, what it must leave alone."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from support import REPO, libreoffice, table_values
from support.workbook_samples import (
    STATUS_CELLS,
    SampleTable,
    add_calc_chain,
    add_shape,
    add_sparklines,
    edit_zip,
    make_workbook,
    read_parts,
    sample_content,
    sheet_parts,
    to_shared_strings,
)

from pelotonxl.errors import WorkbookError
from pelotonxl.model.workbook import Status
from pelotonxl.xlsx import cell_edit, cells, config_sheet, safety, table_sheet, writer

STATUS = Status(last_refresh=dt.datetime(2024, 5, 1, 12, 34), workout_count=3, last_result="OK: 3 workouts <new>")


def workouts_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Workout ID": ["a1", "b2", "c3"],
            "Start": pd.to_datetime(["2024-03-01 06:15", "2024-03-02 18:40", None]),
            "Duration": pd.to_timedelta(["0:45:00", "0:20:30", "1:00:00"]),
            "Output kJ": [412.5, np.nan, 120.0],
            "Calories": pd.array([500, None, 300], dtype="Int64"),
            "Is PR": [True, False, True],
            "Title": ["45 min Power Zone <PZ> & more", "  spaced  ", None],
        }
    )


def tables(frame: pd.DataFrame | None = None) -> list[SampleTable]:
    frame = workouts_frame() if frame is None else frame
    metrics = pd.DataFrame({"Workout ID": ["a1", "a1"], "Metric": ["Heart rate", "Cadence"], "Value": [141.0, 85.0]})
    return [
        SampleTable(
            "Workouts", frame, {"Output kJ": "0.0", "Start": "yyyy-mm-dd hh:mm"}, {"Workout ID": 34.0, "Title": 40.5}
        ),
        SampleTable("Metrics", metrics, {}, {}),
    ]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_workbook(tmp_path / "PelotonWorkbook.xlsm")


def owned_parts(path: Path) -> set[str]:
    sheets = sheet_parts(path)
    owned = {sheets["Workouts"], sheets["Metrics"], sheets["Config"], "xl/styles.xml"}
    return owned | {"xl/tables/table1.xml", "xl/tables/table2.xml"}


# --- what is kept ---------------------------------------------------------------------------------


def test_every_part_it_does_not_own_is_unchanged(book: Path):
    before = read_parts(book)
    writer.write_tables(book, sample_content(tables(), STATUS))
    after = read_parts(book)
    assert list(after) == list(before)
    owned = owned_parts(book)
    for name in before:
        if name not in owned:
            assert _without_column_records(after[name]) == _without_column_records(before[name]), name
    assert {"xl/vbaProject.bin", "customUI/customUI.xml", "xl/charts/chart1.xml", "docProps/app.xml"} <= set(after)
    wb = load_workbook(book, keep_vba=True)
    assert wb["My Analysis"]["B1"].value == "=SUM(Workouts[Output])"
    assert "MyTotal" in wb.defined_names


def _without_column_records(part: bytes) -> bytes:
    """The part without the hidden names recording the refresh's columns and the print titles of its table
    sheets (the writer owns those)."""
    part = re.sub(rb'<definedName name="_xlnm\.Print_Titles" localSheetId="\d+">[^<]*</definedName>', b"", part)
    part = re.sub(rb"<definedNames></definedNames>|<definedNames/>", b"", part)
    return re.sub(rb'<definedName name="PelotonXL_\w+_Columns"[^>]*>.*?</definedName>', b"", part)


def test_workouts_table_reads_back_with_the_frame_values(book: Path):
    report = writer.write_tables(book, sample_content(tables(), STATUS))
    assert report.rows_written == {"Workouts": 3, "Metrics": 2}
    ref, rows = table_values(book, "Workouts")
    assert ref == "A1:G4"
    assert rows[0] == list(workouts_frame().columns)
    a1, b2, c3 = rows[1:]
    assert a1[:2] == ["a1", dt.datetime(2024, 3, 1, 6, 15)]
    assert a1[2] == dt.timedelta(minutes=45)
    assert a1[3:] == [412.5, 500, True, "45 min Power Zone <PZ> & more"]
    assert b2[1] == dt.datetime(2024, 3, 2, 18, 40) and b2[2] == dt.timedelta(minutes=20, seconds=30)
    assert b2[3:] == [None, None, False, "  spaced  "]
    assert c3[1] is None and c3[6] is None and c3[4:6] == [300, True]
    ws = load_workbook(book)["Workouts"]
    assert ws.freeze_panes == "A2"
    assert ws["D2"].number_format == "0.0"
    assert ws["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["C2"].number_format == "[h]:mm:ss"
    assert ws.column_dimensions["A"].width == 34.0 and ws.column_dimensions["G"].width == 40.5
    table = ws.tables["Workouts"]
    assert table.tableStyleInfo.name == "TableStyleMedium2" and table.tableStyleInfo.showRowStripes
    assert table.autoFilter.ref == "A1:G4" and table.id == 1
    assert [c.name for c in table.tableColumns] == list(workouts_frame().columns)


def test_second_write_with_fewer_rows_and_other_columns_leaves_nothing_stale(book: Path):
    writer.write_tables(book, sample_content(tables(), STATUS))
    smaller = pd.DataFrame({"Workout ID": ["z9"], "Distance": [12.3]})
    writer.write_tables(book, sample_content([SampleTable("Workouts", smaller)], {}))
    ref, rows = table_values(book, "Workouts")
    assert (ref, rows) == ("A1:B2", [["Workout ID", "Distance"], ["z9", 12.3]])
    ws = load_workbook(book)["Workouts"]
    assert (ws.max_row, ws.max_column) == (2, 2)
    assert table_values(book, "Metrics")[1][1] == ["a1", "Heart rate", 141.0]  # not in this write: kept


def test_repeated_writes_do_not_grow_styles(book: Path):
    writer.write_tables(book, sample_content(tables(), STATUS))
    styles = read_parts(book)["xl/styles.xml"]
    writer.write_tables(book, sample_content(tables(), STATUS))
    assert read_parts(book)["xl/styles.xml"] == styles
    original = read_parts(make_workbook(book.with_name("fresh.xlsm")))["xl/styles.xml"].decode()
    # Appended only: everything up to the old cellXfs close is still there, in order.
    assert styles.decode().count("<xf ") > original.count("<xf ")


def test_header_carries_its_own_style_and_booleans_read_true_false(book: Path):
    """LibreOffice and other readers ignore Excel table styles: the header is styled in its cells."""
    frame = pd.DataFrame({"Workout ID": ["a", "b"], "Personal Record": [True, False]})
    writer.write_tables(book, sample_content([SampleTable("Workouts", frame)], {}))
    ws = load_workbook(book)["Workouts"]
    header = ws["A1"]
    assert header.font.b and header.font.color.rgb == "FFFFFFFF"
    assert header.fill.fgColor.rgb == "FF4472C4"
    assert ws["B2"].value is True and ws["B2"].number_format == cells.BOOLEAN_FORMAT
    assert ws["A2"].font.sz == header.font.sz  # data cells carry an explicit style too


def test_empty_table_keeps_one_blank_row_and_dedupes_headers(book: Path):
    frame = pd.DataFrame(columns=["Workout ID", "Name", "name", ""])
    writer.write_tables(book, sample_content([SampleTable("Workouts", frame)], {}))
    ref, rows = table_values(book, "Workouts")
    assert ref == "A1:D2"
    assert rows == [["Workout ID", "Name", "name2", "Column4"], [None] * 4]


def test_text_with_xml_specials_and_control_characters(book: Path):
    frame = pd.DataFrame({"Workout ID": ["x"], "Note": ['a\x01b "q" </t> & \x1f\nline']})
    writer.write_tables(book, sample_content([SampleTable("Workouts", frame)], {}))
    assert table_values(book, "Workouts")[1][1] == ["x", 'ab "q" </t> & \nline']


def test_object_column_with_mixed_python_values(book: Path):
    values = [np.bool_(True), np.int64(7), dt.date(2024, 2, 29), dt.timedelta(minutes=90), "text", None]
    frame = pd.DataFrame({"Workout ID": list("abcdef"), "Mixed": pd.Series(values, dtype=object)})
    writer.write_tables(book, sample_content([SampleTable("Workouts", frame)], {}))
    got = [row[1] for row in table_values(book, "Workouts")[1][1:]]
    assert got == [True, 7, dt.datetime(2024, 2, 29), dt.timedelta(minutes=90), "text", None]


# --- Config ------------------------------------------------------------------------------------


def test_status_cells_hold_the_values(book: Path):
    writer.write_tables(book, sample_content(tables(), STATUS))
    config = load_workbook(book)["Config"]
    refreshed = config[STATUS_CELLS["last_refresh"]]
    assert refreshed.value == dt.datetime(2024, 5, 1, 12, 34) and refreshed.is_date
    assert config[STATUS_CELLS["workout_count"]].value == 3
    assert config[STATUS_CELLS["last_result"]].value == "OK: 3 workouts <new>"
    assert config["A2"].value == "Peloton email or username"  # the rest of the sheet as it was


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("B1", '<row r="1"><c r="A1"/><c r="B1"><v>5</v></c><c r="C1"/></row><row r="3"><c r="B3"/></row>'),
        ("D1", '<row r="1"><c r="A1"/><c r="C1"/><c r="D1"><v>5</v></c></row><row r="3"><c r="B3"/></row>'),
        (
            "B2",
            '<row r="1" spans="1:3"><c r="A1"/><c r="C1"/></row><row r="2"><c r="B2"><v>5</v></c></row>'
            '<row r="3"><c r="B3"/></row>',
        ),
        ("B3", '<row r="1" spans="1:3"><c r="A1"/><c r="C1"/></row><row r="3"><c r="B3"><v>5</v></c></row>'),
        (
            "A9",
            '<row r="1" spans="1:3"><c r="A1"/><c r="C1"/></row><row r="3"><c r="B3"/></row>'
            '<row r="9"><c r="A9"><v>5</v></c></row>',
        ),
    ],
)
def test_set_cell_edits_only_that_cell(ref: str, expected: str):
    head = '<worksheet xmlns="m" xmlns:mc="mc" mc:Ignorable="x14ac"><sheetData>'
    sheet = (
        head + '<row r="1" spans="1:3"><c r="A1"/><c r="C1"/></row><row r="3"><c r="B3"/></row></sheetData></worksheet>'
    )
    assert cell_edit.set_cell(sheet, ref, "><v>5</v></c>") == head + expected + "</sheetData></worksheet>"


def test_set_cell_keeps_the_style_and_prefix():
    sheet = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        '<x:row r="2"><x:c r="B2" s="7" t="s"><x:v>0</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    edited = cell_edit.set_cell(sheet, "B2", cells.value_tail("new"))
    assert '<x:c r="B2" s="7" t="inlineStr"><x:is><x:t>new</x:t></x:is></x:c>' in edited
    assert cell_edit.set_cell(sheet, "B2", None).count('<x:c r="B2" s="7"/>') == 1
    empty = '<worksheet xmlns="m"><sheetData/></worksheet>'
    assert cell_edit.set_cell(empty, "C4", "><v>1</v></c>") == (
        '<worksheet xmlns="m"><sheetData><row r="4"><c r="C4"><v>1</v></c></row></sheetData></worksheet>'
    )


def test_status_name_missing_is_skipped(book: Path):
    edit_zip(
        book,
        lambda parts: parts.update(
            {
                "xl/workbook.xml": parts["xl/workbook.xml"].replace(
                    f'<definedName name="PelotonWorkoutCount">Config!$B${STATUS_CELLS["workout_count"][1:]}'
                    "</definedName>".encode(),
                    b"",
                )
            }
        ),
    )
    writer.write_tables(book, sample_content(tables(), STATUS))
    config = load_workbook(book)["Config"]
    assert config[STATUS_CELLS["workout_count"]].value is None
    assert config[STATUS_CELLS["last_result"]].value == "OK: 3 workouts <new>"


EXPECTED_CONFIG = {
    "username": "member@example.com",
    "password": "hunter2",
    "every_n": "60",
    "workers": "3",
    "api_url": "http://127.0.0.1:8080",
}


def test_read_config_returns_the_typed_values(book: Path):
    config = config_sheet.read_config(book)
    assert {k: v for k, v in config.items() if v} == EXPECTED_CONFIG
    assert config["home"] == ""
    writer.write_tables(book, sample_content(tables(), STATUS))
    assert {k: v for k, v in config_sheet.read_config(book).items() if v} == EXPECTED_CONFIG


def test_read_config_with_shared_strings(book: Path):
    to_shared_strings(book, sheet_parts(book)["Config"])
    assert b'<c r="B2" t="s">' in read_parts(book)[sheet_parts(book)["Config"]]
    assert {k: v for k, v in config_sheet.read_config(book).items() if v} == EXPECTED_CONFIG
    writer.write_tables(book, sample_content(tables(), STATUS))
    assert {k: v for k, v in config_sheet.read_config(book).items() if v} == EXPECTED_CONFIG


def test_read_config_without_config_sheet_and_on_non_workbooks(tmp_path: Path):
    plain = tmp_path / "plain.xlsx"
    from openpyxl import Workbook

    Workbook().save(plain)
    assert config_sheet.read_config(plain) == {}
    (tmp_path / "notes.xlsm").write_text("not a zip")
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        config_sheet.read_config(tmp_path / "notes.xlsm")


def test_remove_config_value_blanks_the_cell_and_its_shared_string(book: Path):
    to_shared_strings(book, sheet_parts(book)["Config"])
    assert config_sheet.remove_config_value(book, "password") is True
    assert config_sheet.read_config(book)["password"] == ""
    assert config_sheet.read_config(book)["username"] == "member@example.com"
    assert all(b"hunter2" not in data for data in read_parts(book).values())
    assert config_sheet.remove_config_value(book, "password") is False


# --- sheets created when missing --------------------------------------------------------------


def test_missing_metrics_sheet_is_created_and_nothing_else_changes(tmp_path: Path):
    book = make_workbook(tmp_path / "Book.xlsm", with_metrics=False)
    before = read_parts(book)
    writer.write_tables(book, sample_content(tables(), STATUS))
    after = read_parts(book)
    sheets = sheet_parts(book)
    new = {
        sheets["Metrics"],
        "xl/tables/table2.xml",
        "xl/worksheets/_rels/" + sheets["Metrics"].rsplit("/", 1)[1] + ".rels",
    }
    assert set(after) == set(before) | new
    touched = {
        sheets["Workouts"],
        "xl/tables/table1.xml",
        sheets["Config"],
        "xl/styles.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
    }
    for name in before:
        if name not in touched:
            assert after[name] == before[name], name
    assert list(after)[: len(before)] == list(before)
    wb = load_workbook(book, keep_vba=True)
    assert wb.sheetnames[-1] == "Metrics"
    assert wb["Metrics"].tables["Metrics"].ref == "A1:C3"
    assert {wb["Workouts"].tables["Workouts"].id, wb["Metrics"].tables["Metrics"].id} == {1, 2}
    assert table_values(book, "Metrics")[1][1:] == [["a1", "Heart rate", 141.0], ["a1", "Cadence", 85.0]]


def test_calc_chain_naming_a_rewritten_sheet_is_dropped(book: Path):
    add_calc_chain(book, sheet_id=4)  # Workouts
    writer.write_tables(book, sample_content(tables(), STATUS))
    parts = read_parts(book)
    assert "xl/calcChain.xml" not in parts
    assert b"calcChain" not in parts["[Content_Types].xml"] + parts["xl/_rels/workbook.xml.rels"]


def test_calc_chain_of_other_sheets_is_kept(book: Path):
    add_calc_chain(book, sheet_id=6)  # My Analysis
    before = read_parts(book)
    writer.write_tables(book, sample_content(tables(), {}))
    assert read_parts(book)["xl/calcChain.xml"] == before["xl/calcChain.xml"]


def test_full_calc_on_load_is_set(book: Path):
    # openpyxl writes " />" or "/>" depending on whether lxml is installed
    edit_zip(
        book,
        lambda parts: parts.update(
            {
                "xl/workbook.xml": re.sub(
                    rb'<calcPr calcId="124519" fullCalcOnLoad="1" ?/>', b"", parts["xl/workbook.xml"]
                )
            }
        ),
    )
    writer.write_tables(book, sample_content(tables(), {}))
    workbook_xml = read_parts(book)["xl/workbook.xml"].decode()
    assert '<calcPr fullCalcOnLoad="1"/></workbook>' in workbook_xml


def test_the_committed_workbook_recalculates_on_open_and_a_refresh_keeps_it(tmp_path: Path):
    # The headless writer's answer to stale PELOTON_* formulas: Excel recalculates every formula when
    # it opens the file (the live writer re-enters them instead: tests/test_excel_as_excel.py).
    path = tmp_path / "PelotonWorkbook.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", path)
    assert re.search(rb'<calcPr\b[^>]*\bfullCalcOnLoad="1"', read_parts(path)["xl/workbook.xml"])
    edit_zip(
        path,
        lambda parts: parts.update(
            {"xl/workbook.xml": parts["xl/workbook.xml"].replace(b'fullCalcOnLoad="1"', b'fullCalcOnLoad="0"')}
        ),
    )  # as a save by another program may leave it
    writer.write_tables(path, sample_content(tables(), {}))
    assert re.search(rb'<calcPr\b[^>]*\bfullCalcOnLoad="1"', read_parts(path)["xl/workbook.xml"])


# --- refusals -------------------------------------------------------------------------------------


def test_lock_file_beside_the_workbook_refuses(book: Path):
    (book.parent / f"~${book.name}").write_bytes(b"")
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match="close it in Excel, or refresh from the Peloton tab"):
        writer.check_writable(book)
    with pytest.raises(WorkbookError):
        writer.write_tables(book, sample_content(tables(), STATUS))
    assert book.read_bytes() == before


def test_a_workbook_open_in_libreoffice_is_refused_untouched(book: Path):
    lock = book.parent / f".~lock.{book.name}#"  # what LibreOffice writes beside a file it opens
    lock.write_text(",Member,host,06.12.2026 21:00,file:///home/member/.config/libreoffice/4;")
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=rf"^{re.escape(book.name)} is open in LibreOffice \(\.~lock\."):
        writer.check_writable(book)
    with pytest.raises(WorkbookError, match="open in LibreOffice"):
        writer.write_tables(book, sample_content(tables(), STATUS))
    assert book.read_bytes() == before
    lock.unlink()  # closed: the refresh goes ahead
    writer.write_tables(book, sample_content(tables(), STATUS))
    assert book.read_bytes() != before


def _damage_in_place(path: Path, part: str) -> None:
    """One byte of a part's compressed data flipped, the file's size and modification time kept."""
    before = os.stat(path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(part)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    start += int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size


def test_a_workbook_as_a_checked_save_left_it_is_not_read_again_and_a_change_since_is(book: Path, monkeypatch):
    read = []
    check_content = safety._check_content
    monkeypatch.setattr(safety, "_check_content", lambda *args: read.append(1) or check_content(*args))
    checked = writer.check_writable(book)
    writer.write_tables(book, sample_content(tables(), STATUS), checked=safety.identity(book) == checked)
    assert len(read) == 2  # the template: checked up front, and by the writer
    writer.check_writable(book)
    assert len(read) == 2  # as the checked save left it: the content is not read again
    _damage_in_place(book, "xl/styles.xml")  # same size, same modification time: still a change
    with pytest.raises(WorkbookError, match=r"is damaged \(xl/styles.xml cannot be read back\)"):
        writer.check_writable(book)
    assert len(read) == 3


def test_a_save_that_does_not_vouch_for_its_source_is_checked_again(book: Path, monkeypatch):
    writer.write_tables(book, sample_content(tables(), STATUS))  # not checked=True: a caller that did not check
    read = []
    monkeypatch.setattr(safety, "_check_content", lambda *args: read.append(1))
    writer.check_writable(book)
    assert read == [1]


def test_not_a_workbook_and_missing_file_refuse(tmp_path: Path):
    with pytest.raises(WorkbookError, match="not found"):
        writer.check_writable(tmp_path / "nope.xlsm")
    text = tmp_path / "text.xlsm"
    text.write_text("hello")
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        writer.check_writable(text)
    other_zip = tmp_path / "other.xlsm"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(WorkbookError, match="not an Excel workbook"):
        writer.write_tables(other_zip, sample_content(tables(), STATUS))


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root can write read-only files")
def test_read_only_file_refuses(book: Path):
    book.chmod(0o444)
    with pytest.raises(WorkbookError, match="cannot be opened for writing"):
        writer.check_writable(book)


def test_shape_on_workouts_sheet_refuses_and_leaves_the_file_alone(book: Path):
    add_shape(book, sheet_parts(book)["Workouts"])
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"The Workouts sheet holds 1 shape, which a refresh would delete"):
        writer.check_writable(book)
    with pytest.raises(WorkbookError, match="1 shape"):
        writer.write_tables(book, sample_content(tables(), STATUS))
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]


def test_totals_row_on_the_workouts_table_refuses(book: Path):
    edit_zip(
        book,
        lambda parts: parts.update(
            {
                "xl/tables/table1.xml": parts["xl/tables/table1.xml"].replace(
                    b'headerRowCount="1"', b'headerRowCount="1" totalsRowCount="1"'
                )
            }
        ),
    )
    with pytest.raises(WorkbookError, match="a totals row under its table"):
        writer.check_writable(book)


def test_sparklines_on_metrics_sheet_refuse(book: Path):
    add_sparklines(book, sheet_parts(book)["Metrics"])
    with pytest.raises(WorkbookError, match="Metrics sheet holds sparklines"):
        writer.check_writable(book)


def test_shapes_on_other_sheets_are_fine(book: Path):
    add_shape(book, sheet_parts(book)["My Analysis"])
    before = read_parts(book)
    writer.write_tables(book, sample_content(tables(), STATUS))
    after = read_parts(book)
    assert after["xl/drawings/drawing99.xml"] == before["xl/drawings/drawing99.xml"]
    assert after[sheet_parts(book)["My Analysis"]] == before[sheet_parts(book)["My Analysis"]]


# --- atomic save ----------------------------------------------------------------------------------


def test_failure_mid_write_leaves_original_and_no_temp(book: Path, monkeypatch):
    before = book.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safety.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        writer.write_tables(book, sample_content(tables(), STATUS))
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]


def test_failure_while_building_leaves_original(book: Path, monkeypatch):
    before = book.read_bytes()
    bad = pd.DataFrame({"Workout ID": ["a"], "Oops": [object()]})
    monkeypatch.setattr(table_sheet, "table_xml", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        writer.write_tables(book, sample_content([SampleTable("Workouts", bad)], STATUS))
    assert book.read_bytes() == before
    assert [p.name for p in book.parent.iterdir()] == [book.name]


def test_stale_temp_of_a_dead_process_is_removed(book: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = book.parent / f".~peloton_xl-{book.name}.{dead.pid}.tmp"
    live = book.parent / f".~peloton_xl-{book.name}.{os.getppid()}.tmp"
    stale.write_bytes(b"half a zip")
    live.write_bytes(b"another refresh still writing")
    writer.write_tables(book, sample_content(tables(), STATUS))
    assert not stale.exists()
    assert live.exists()


def test_file_mode_is_preserved(book: Path):
    book.chmod(0o640)
    writer.write_tables(book, sample_content(tables(), STATUS))
    assert stat.S_IMODE(book.stat().st_mode) == 0o640


@pytest.mark.slow
def test_five_thousand_rows_by_forty_columns_are_written_whole(book: Path):
    # How fast is the benchmarks' business (bench_refresh: the workbook write of 5,000); this checks
    # the big table comes out complete and right.
    n = 5000
    frame = pd.DataFrame(
        {
            "Workout ID": [f"w{i:05d}" for i in range(n)],
            "Start": pd.date_range("2020-01-01 06:00", periods=n, freq="7h"),
            "Duration": pd.to_timedelta(np.arange(n) % 3600, unit="s"),
            "Title": [f"Ride number {i}" for i in range(n)],
        }
    )
    for j in range(36):
        frame[f"Metric {j}"] = np.where(np.arange(n) % 11 == 0, np.nan, np.arange(n) * 0.25 + j)
    report = writer.write_tables(book, sample_content(tables(frame), STATUS))
    assert report.rows_written["Workouts"] == n
    ref, rows = table_values(book, "Workouts")
    assert ref == "A1:AN5001"
    assert rows[-1][:4] == [
        "w04999",
        dt.datetime(2020, 1, 1, 6) + dt.timedelta(hours=7 * 4999),
        dt.timedelta(seconds=4999 % 3600),
        "Ride number 4999",
    ]
    assert rows[1][4] is None and rows[2][4] == 0.25


# --- a real spreadsheet application ------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.parametrize("with_metrics", [True, False], ids=["sheets-replaced", "metrics-created"])
def test_libreoffice_opens_the_written_workbook(tmp_path: Path, with_metrics: bool):
    book = make_workbook(tmp_path / "PelotonWorkbook.xlsm", with_metrics=with_metrics)
    writer.write_tables(book, sample_content(tables(), STATUS))
    # data_only: LibreOffice stores booleans as =TRUE() formulas with a cached value.
    converted = load_workbook(libreoffice.convert(book, "xlsx", tmp_path / "out"), data_only=True)
    ws = converted["Workouts"]
    rows = [[c.value for c in row] for row in ws["A1:G4"]]
    assert rows[0] == list(workouts_frame().columns)
    assert rows[1][:2] == ["a1", dt.datetime(2024, 3, 1, 6, 15)]
    assert rows[1][3:] == [412.5, 500, True, "45 min Power Zone <PZ> & more"]
    assert rows[2][3] is None and rows[2][6] == "  spaced  "
    assert converted["Config"][STATUS_CELLS["workout_count"]].value == 3
    assert [[c.value for c in row] for row in converted["Metrics"]["A2:C3"]] == [
        ["a1", "Heart rate", 141],
        ["a1", "Cadence", 85],
    ]
    assert "My Analysis" in converted.sheetnames


def test_unreadable_config_sheet_is_a_workbook_error(book: Path):
    config = sheet_parts(book)["Config"]
    edit_zip(book, lambda parts: parts.update({config: b"<worksheet><sheetData>"}))
    with pytest.raises(WorkbookError, match="Config sheet .* cannot be read"):
        config_sheet.read_config(book)
