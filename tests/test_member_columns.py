"""The member's own table columns and cells on the Workouts sheet survive a headless refresh."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.table import TableColumn, TableFormula
from support import table_values
from support.ooxml_check import assert_valid
from support.workbook_samples import SampleTable, make_workbook, sample_content

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import writer


def workouts(ids: list[str]) -> SampleTable:
    frame = pd.DataFrame({"Workout ID": ids, "Output": [float(100 + i) for i in range(len(ids))]})
    return SampleTable("Workouts", frame, {}, {})


def refreshed(path: Path, ids: list[str], *, full: bool = False) -> writer.WriteReport:
    content = sample_content([workouts(ids)])
    content.full = full
    return writer.write_tables(path, content)


def add_member_columns(path: Path, notes: dict[str, str], *, beside: dict[str, str] | None = None) -> None:
    """As a member does in a spreadsheet program: a "My Notes" column between our two, a formula
    column at the end, a note typed beside the table (saved by openpyxl)."""
    wb = load_workbook(path, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    last = ws.max_row
    ws.insert_cols(2)
    ws["B1"] = "My Notes"
    for row in range(2, last + 1):
        note = notes.get(ws.cell(row, 1).value)
        if note:
            ws.cell(row, 2, note).number_format = "@"
    ws["D1"] = "Double"
    for row in range(2, last + 1):
        ws.cell(row, 4, "=Workouts[[#This Row],[Output]]*2")
    cols = list(table.tableColumns)
    table.tableColumns = []
    for i, name in enumerate(["Workout ID", "My Notes", "Output", "Double"], start=1):
        column = TableColumn(id=i, name=name)
        if name == "Double":
            column.calculatedColumnFormula = TableFormula(attr_text="Workouts[[#This Row],[Output]]*2")
        table.tableColumns.append(column)
    assert len(cols) == 2
    table.ref = f"A1:D{last}"
    table.autoFilter.ref = table.ref
    ws.column_dimensions["B"].width = 33
    for ref, text in (beside or {}).items():
        ws[ref] = text
    wb.save(path)


def sheet_rows(path: Path) -> tuple[str, list[list]]:
    return table_values(path, "Workouts")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    refreshed(path, ["w5", "w4", "w3", "w2", "w1"])
    return path


def test_notes_follow_their_workout_when_eight_new_workouts_arrive_on_top(book: Path):
    add_member_columns(book, {"w4": "felt strong", "w2": "knee sore", "w1": "first ride!"}, beside={"H2": "goal 200"})
    new = [f"n{i}" for i in range(8, 0, -1)]
    refreshed(book, new + ["w5", "w4", "w3", "w2", "w1"])
    ref, rows = sheet_rows(book)
    assert ref == "A1:D14"
    assert rows[0] == ["Workout ID", "My Notes", "Output", "Double"]
    notes = {r[0]: r[1] for r in rows[1:]}
    assert notes == {
        **{i: None for i in new},
        "w5": None,
        "w4": "felt strong",
        "w3": None,
        "w2": "knee sore",
        "w1": "first ride!",
    }
    assert all(r[3] == "=Workouts[[#This Row],[Output]]*2" for r in rows[1:])
    ws = load_workbook(book, keep_vba=True)["Workouts"]
    assert ws["H2"].value == "goal 200"
    assert ws.column_dimensions["B"].width == 33
    assert ws["B11"].number_format == "@"  # w4's note kept its format on its new row
    table = ws.tables["Workouts"]
    assert table.tableColumns[3].calculatedColumnFormula.attr_text == "Workouts[[#This Row],[Output]]*2"
    assert_valid(book)


def test_notes_of_a_workout_gone_from_peloton_stay_unless_full(book: Path):
    add_member_columns(book, {"w3": "gone soon", "w1": "stays"})
    report = refreshed(book, ["w5", "w4", "w2", "w1"])
    assert report.notes_dropped == 0
    _, rows = sheet_rows(book)
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("w5", None),
        ("w4", None),
        ("w2", None),
        ("w1", "stays"),
        ("w3", "gone soon"),
    ]
    report = refreshed(book, ["w5", "w4", "w2", "w1"], full=True)
    assert report.notes_dropped == 1
    _, rows = sheet_rows(book)
    assert [(r[0], r[1]) for r in rows[1:]] == [("w5", None), ("w4", None), ("w2", None), ("w1", "stays")]
    assert_valid(book)


def test_a_re_sorted_table_keeps_each_note_with_its_workout(book: Path):
    add_member_columns(book, {"w5": "five", "w1": "one"})
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Workouts"]
    rows = [[c.value for c in row] for row in ws["A2:C6"]]
    for r, row in enumerate(reversed(rows), start=2):  # the member sorts oldest first
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
    wb.save(book)
    refreshed(book, ["w6", "w5", "w4", "w3", "w2", "w1"])
    _, rows = sheet_rows(book)
    assert {r[0]: r[1] for r in rows[1:] if r[1]} == {"w5": "five", "w1": "one"}


def test_a_cell_beside_the_table_that_the_grown_table_would_cover_is_refused_by_address(book: Path):
    add_member_columns(book, {}, beside={"B9": "my total", "E3": "x"})
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"Workouts!B9: .*move them to your own sheet or into the table"):
        refreshed(book, [f"n{i}" for i in range(10)])
    assert book.read_bytes() == before


def test_two_rows_with_one_workout_id_and_notes_on_both_are_refused_naming_them(book: Path):
    """A Workout ID typed or pasted over another row's: keeping notes by ID would put one row's note in the
    other's place and drop the other, silently. Refused instead, both ID cells named."""
    add_member_columns(book, {"w5": "five's", "w4": "four's"})
    wb = load_workbook(book, keep_vba=True)
    wb["Workouts"]["A3"] = "w5"  # w4's ID cell now says w5
    wb.save(book)
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"Workouts!A2, A3: these rows hold the same Workout ID \(w5\)"):
        refreshed(book, ["n1", "w5", "w4", "w3", "w2", "w1"])
    assert book.read_bytes() == before
    wb = load_workbook(book, keep_vba=True)
    wb["Workouts"]["B3"] = None  # a note on one of them only: it stays with the ID its row says
    wb.save(book)
    refreshed(book, ["n1", "w5", "w4", "w3", "w2", "w1"])
    _, rows = sheet_rows(book)
    assert {r[0]: r[1] for r in rows[1:] if r[1]} == {"w5": "five's"}


def _with_platform(ids: list[str], platform: bool) -> SampleTable:
    """A Workouts table as an earlier version wrote it (with Platform) or as this one does (without)."""
    frame = pd.DataFrame(
        {
            "Workout ID": ids,
            "Device": ["Bike"] * len(ids),
            **({"Platform": ["home_bike"] * len(ids)} if platform else {}),
            "Output": [float(100 + i) for i in range(len(ids))],
        }
    )
    return SampleTable("Workouts", frame, {}, {})


@pytest.mark.parametrize("recorded", [True, False], ids=["record-kept", "record-lost"])
def test_a_column_the_refresh_stops_writing_goes_and_the_members_column_after_it_stays(tmp_path: Path, recorded: bool):
    """Platform (dropped by issue 12) goes; "My Notes", typed just after it, keeps its notes and moves
    beside Device, the column before Platform, rather than to the far end. Also when a program lost
    the hidden record of our columns (then Platform is still known as one of ours)."""
    path = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    ids = ["w3", "w2", "w1"]
    writer.write_tables(path, sample_content([_with_platform(ids, True)]))
    wb = load_workbook(path, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    ws.insert_cols(4)
    ws["D1"] = "My Notes"
    ws["D3"] = "knee sore"  # w2
    table.tableColumns = [
        TableColumn(id=i, name=n)
        for i, n in enumerate(["Workout ID", "Device", "Platform", "My Notes", "Output"], start=1)
    ]
    table.ref = table.autoFilter.ref = "A1:E4"
    if not recorded:
        del wb.defined_names["PelotonXL_Workouts_Columns"]
    wb.save(path)

    writer.write_tables(path, sample_content([_with_platform(ids, False)]))
    _, rows = sheet_rows(path)
    assert rows[0] == ["Workout ID", "Device", "My Notes", "Output"]
    assert {r[0]: r[2] for r in rows[1:]} == {"w3": None, "w2": "knee sore", "w1": None}
    assert_valid(path)


def test_a_full_refresh_counts_no_notes_for_a_formula_column(book: Path):
    """A calculated column is on every row: a removed workout without a typed note took no notes with it."""
    add_member_columns(book, {"w1": "stays"})
    report = refreshed(book, ["w5", "w4", "w1"], full=True)
    assert report.notes_dropped == 0
    _, rows = sheet_rows(book)
    assert [r[0] for r in rows[1:]] == ["w5", "w4", "w1"]


def type_beside_the_table(path: Path, header: dict[str, str], cells: dict[str, object]) -> None:
    """As LibreOffice or openpyxl leave it: headers typed in the header row just right of the table and
    values under them, the table not grown."""
    wb = load_workbook(path, keep_vba=True)
    ws = wb["Workouts"]
    for ref, text in {**header, **cells}.items():
        ws[ref] = text
    wb.save(path)


def test_notes_typed_beside_the_table_are_adopted_and_follow_their_workouts(book: Path):
    # The table is A1:B6 (Workout ID, Output): w5..w1 in rows 2-6.
    type_beside_the_table(
        book, {"C1": "My Notes", "D1": "Output"}, {"C3": "felt strong", "C6": "first ride!", "D5": 7, "F2": "loose"}
    )
    new = [f"n{i}" for i in range(8, 0, -1)]
    refreshed(book, new + ["w5", "w4", "w3", "w2", "w1"])
    ref, rows = sheet_rows(book)
    assert ref == "A1:D14"
    assert rows[0] == ["Workout ID", "Output", "My Notes", "Output2"]
    assert {r[0]: r[2] for r in rows[1:] if r[2]} == {"w4": "felt strong", "w1": "first ride!"}
    assert {r[0]: r[3] for r in rows[1:] if r[3]} == {"w2": 7}
    ws = load_workbook(book, keep_vba=True)["Workouts"]
    assert ws["F2"].value == "loose"  # a cell under no header stays where it was typed
    assert_valid(book)
    refreshed(book, ["n9", *new, "w5", "w4", "w3", "w2", "w1"])  # from now on an ordinary member column
    _, rows = sheet_rows(book)
    assert {r[0]: r[2] for r in rows[1:] if r[2]} == {"w4": "felt strong", "w1": "first ride!"}


def test_a_value_below_an_adopted_column_that_the_grown_table_would_cover_is_refused(book: Path):
    type_beside_the_table(book, {"C1": "My Notes"}, {"C3": "felt strong", "C9": "my total"})
    before = book.read_bytes()
    with pytest.raises(WorkbookError, match=r"Workouts!C9: the refreshed table now reaches"):
        refreshed(book, [f"n{i}" for i in range(5)] + ["w5", "w4", "w3", "w2", "w1"])
    assert book.read_bytes() == before
