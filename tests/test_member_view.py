"""How the member arranged the Workouts table survives a headless refresh (issue 20): their filter (its
criteria on the same column, the workouts it hid still hidden), their sort (applied to the new rows),
the columns they hid, and the order they dragged our columns into."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.filters import CustomFilter, CustomFilters, FilterColumn, SortCondition, SortState
from openpyxl.worksheet.table import TableColumn
from support import libreoffice
from support.ooxml_check import assert_valid
from support.workbook_samples import SampleTable, make_workbook, sample_content

from pelotonxl.xlsx import table_view, writer

OLD = ["w5", "w4", "w3", "w2", "w1"]
NEW = ["n3", "n2", "n1"]
OUTPUT = {"w5": 150.0, "w4": 90.0, "w3": 170.0, "w2": 80.0, "w1": 120.0, "n3": 60.0, "n2": 200.0, "n1": 130.0}


def refreshed(path: Path, ids: list[str], columns=("Output",)) -> None:
    frame = pd.DataFrame({"Workout ID": ids})
    for column in columns:
        frame[column] = [OUTPUT[i] + (0 if column == "Output" else 1) for i in ids]
    writer.write_tables(path, sample_content([SampleTable("Workouts", frame, {}, {})]))


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    refreshed(path, OLD)
    return path


def sheet(path: Path):
    return load_workbook(path)["Workouts"]


def rows_by_id(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}


def test_a_filter_keeps_its_criteria_and_the_workouts_it_hid_stay_hidden(book: Path):
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    over = CustomFilters(customFilter=[CustomFilter(operator="greaterThan", val="100")])
    table.autoFilter.filterColumn.append(FilterColumn(colId=1, customFilters=over))
    for wid, r in rows_by_id(ws).items():
        ws.row_dimensions[r].hidden = OUTPUT[wid] <= 100
    wb.save(book)
    refreshed(book, NEW + OLD, columns=("Avg Cadence (rpm)", "Output"))
    ws = sheet(book)
    (kept,) = ws.tables["Workouts"].autoFilter.filterColumn
    assert kept.colId == 2  # Output moved right of the new column: the filter went with it
    assert kept.customFilters.customFilter[0].val == "100"
    hidden = {wid for wid, r in rows_by_id(ws).items() if ws.row_dimensions[r].hidden}
    assert hidden == {"w4", "w2", "n3"}  # n3's 60 W is not over 100: hidden as the filter would
    assert_valid(book)


def test_a_sort_on_one_of_our_columns_is_applied_to_the_new_rows(book: Path):
    wb = load_workbook(book, keep_vba=True)
    table = wb["Workouts"].tables["Workouts"]
    table.sortState = SortState(ref="A2:B6", sortCondition=[SortCondition(ref="B2:B6", descending=True)])
    wb.save(book)
    refreshed(book, NEW + OLD)
    ws = sheet(book)
    ids = [ws.cell(r, 1).value for r in range(2, 10)]
    assert ids == sorted(OUTPUT, key=OUTPUT.__getitem__, reverse=True)
    assert [ws.cell(r, 2).value for r in range(2, 10)] == sorted(OUTPUT.values(), reverse=True)
    state = ws.tables["Workouts"].sortState
    assert state.ref == "A2:B9" and state.sortCondition[0].ref == "B2:B9" and state.sortCondition[0].descending
    assert_valid(book)


def test_a_hidden_column_stays_hidden_wherever_it_moves(book: Path):
    wb = load_workbook(book, keep_vba=True)
    wb["Workouts"].column_dimensions["B"].hidden = True
    wb.save(book)
    refreshed(book, NEW + OLD, columns=("Avg Cadence (rpm)", "Output"))
    ws = sheet(book)
    assert [ws.cell(1, c).value for c in (1, 2, 3)] == ["Workout ID", "Avg Cadence (rpm)", "Output"]
    assert ws.column_dimensions["C"].hidden and not ws.column_dimensions["B"].hidden
    assert_valid(book)


def test_the_members_order_of_our_columns_is_kept_and_a_new_column_follows_its_neighbour(book: Path):
    refreshed(book, OLD, columns=("Output", "Calories"))
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    ws.move_range("C1:C6", cols=1)  # Calories, Output, Workout ID: dragged as in Excel
    ws.move_range("A1:A6", cols=3)
    ws.move_range("B1:D6", cols=-1)
    table.tableColumns = [TableColumn(id=i, name=n) for i, n in enumerate(["Calories", "Output", "Workout ID"], 1)]
    wb.save(book)
    refreshed(book, NEW + OLD, columns=("Output", "Avg Cadence (rpm)", "Calories"))
    ws = sheet(book)
    header = [ws.cell(1, c).value for c in range(1, 5)]
    assert header == ["Calories", "Output", "Avg Cadence (rpm)", "Workout ID"]
    assert [tc.name for tc in ws.tables["Workouts"].tableColumns] == header
    for r in range(2, 10):
        assert ws.cell(r, 2).value == OUTPUT[ws.cell(r, 4).value]
    assert_valid(book)


def add_notes_column(path: Path, notes: dict[str, object]) -> None:
    wb = load_workbook(path, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    ws["C1"] = "Rating"
    for wid, r in rows_by_id(ws).items():
        if wid in notes:
            ws.cell(r, 3, notes[wid])
    table.tableColumns.append(TableColumn(id=3, name="Rating"))
    table.ref = table.autoFilter.ref = f"A1:C{ws.max_row}"
    wb.save(path)


def test_a_sort_by_the_members_own_column_of_notes_is_applied_too(book: Path):
    add_notes_column(book, {"w5": 3, "w4": "meh", "w2": 5, "w1": 1})
    wb = load_workbook(book, keep_vba=True)
    wb["Workouts"].tables["Workouts"].sortState = SortState(ref="A2:C6", sortCondition=[SortCondition(ref="C2:C6")])
    wb.save(book)
    refreshed(book, NEW + OLD)
    ws = sheet(book)
    assert [ws.cell(r, 1).value for r in range(2, 10)] == ["w1", "w5", "w2", "w4", "n3", "n2", "n1", "w3"]
    assert [ws.cell(r, 3).value for r in range(2, 6)] == [1, 3, 5, "meh"]  # numbers, then text, blanks last


def test_a_sort_by_colour_is_cleared_rather_than_shown_over_rows_it_does_not_describe(book: Path):
    wb = load_workbook(book, keep_vba=True)
    condition = SortCondition(ref="B2:B6", sortBy="cellColor", dxfId=0)
    wb["Workouts"].tables["Workouts"].sortState = SortState(ref="A2:B6", sortCondition=[condition])
    wb.save(book)
    refreshed(book, NEW + OLD)
    ws = sheet(book)
    assert ws.tables["Workouts"].sortState is None
    assert [ws.cell(r, 1).value for r in range(2, 10)] == NEW + OLD  # the refresh's order


def test_a_filter_on_the_members_column_keeps_its_workouts_hidden(book: Path):
    add_notes_column(book, {"w5": "keep", "w3": "keep"})
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Workouts"]
    keep = CustomFilters(customFilter=[CustomFilter(operator="equal", val="keep")])
    ws.tables["Workouts"].autoFilter.filterColumn.append(FilterColumn(colId=2, customFilters=keep))
    for wid, r in rows_by_id(ws).items():
        ws.row_dimensions[r].hidden = wid not in ("w5", "w3")
    wb.save(book)
    refreshed(book, NEW + ["w5", "w4", "w3", "w1"], columns=("Avg Cadence (rpm)", "Output"))
    ws = sheet(book)
    assert [tc.name for tc in ws.tables["Workouts"].tableColumns] == [
        "Workout ID",
        "Avg Cadence (rpm)",
        "Output",
        "Rating",
    ]
    assert ws.tables["Workouts"].autoFilter.filterColumn[0].colId == 3
    hidden = {wid for wid, r in rows_by_id(ws).items() if ws.row_dimensions[r].hidden}
    assert hidden == {"w4", "w1"}  # new workouts have no Rating: a blank is not judged, they show
    assert_valid(book)


@pytest.mark.libreoffice
def test_a_filter_saved_by_libreoffice_is_kept(book: Path, tmp_path: Path):
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Workouts"]
    over = CustomFilters(customFilter=[CustomFilter(operator="greaterThan", val="100")])
    ws.tables["Workouts"].autoFilter.filterColumn.append(FilterColumn(colId=1, customFilters=over))
    for wid, r in rows_by_id(ws).items():
        ws.row_dimensions[r].hidden = OUTPUT[wid] <= 100
    ws.column_dimensions["B"].hidden = True
    wb.save(book)
    saved = libreoffice.convert(book, "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "saved")
    refreshed(saved, NEW + OLD)
    ws = sheet(saved)
    assert ws.tables["Workouts"].autoFilter.filterColumn[0].colId == 1
    assert {wid for wid, r in rows_by_id(ws).items() if ws.row_dimensions[r].hidden} == {"w4", "w2", "n3"}
    assert ws.column_dimensions["B"].hidden


def test_a_new_release_may_order_our_columns_anew_when_the_member_dragged_none(book: Path):
    refreshed(book, OLD, columns=("Output", "Calories"))
    refreshed(book, NEW + OLD, columns=("Calories", "Output"))
    ws = sheet(book)
    assert [ws.cell(1, c).value for c in range(1, 4)] == ["Workout ID", "Calories", "Output"]


@pytest.mark.parametrize(
    ("criterion", "value", "excluded"),
    [
        ('<customFilters><customFilter operator="greaterThan" val="100"/></customFilters>', 60.0, True),
        ('<customFilters><customFilter operator="greaterThan" val="100"/></customFilters>', 130, False),
        (
            '<customFilters and="1"><customFilter operator="greaterThanOrEqual" val="100"/>'
            '<customFilter operator="lessThanOrEqual" val="150"/></customFilters>',
            151.0,
            True,
        ),
        (
            '<customFilters><customFilter operator="lessThan" val="100"/>'
            '<customFilter operator="greaterThan" val="150"/></customFilters>',
            151.0,
            False,
        ),
        ('<customFilters><customFilter val="cycl*"/></customFilters>', "Cycling", False),
        ('<customFilters><customFilter val="cycl*"/></customFilters>', "Running", True),
        ('<customFilters><customFilter operator="notEqual" val="r?w"/></customFilters>', "Row", True),
        ('<filters><filter val="Cycling"/><filter val="Rowing"/></filters>', "cycling", False),
        ('<filters><filter val="Cycling"/><filter val="Rowing"/></filters>', "Yoga", True),
        ('<filters><filter val="150"/></filters>', 60.0, False),  # a number as shown: not judged
        ('<filters blank="1"><dateGroupItem year="2026" dateTimeGrouping="year"/></filters>', "x", False),
        ('<top10 top="1" val="10"/>', 1.0, False),
        ('<customFilters><customFilter operator="greaterThan" val="100"/></customFilters>', None, False),
    ],
)
def test_a_new_workout_is_hidden_only_when_the_filter_plainly_excludes_it(criterion, value, excluded):
    element = f'<filterColumn colId="0">{criterion}</filterColumn>'
    assert table_view.excludes(element, value) is excluded


@pytest.mark.parametrize(
    ("find", "put"),
    [
        (rb"(<autoFilter[^>]*?)\s*/>", rb'\1/><sortState ref="A2:B6"><sortCondition ref="#REF!"/></sortState>'),
        (rb"(<autoFilter[^>]*?)\s*/>", rb'\1/><sortState ref="A2:B6"><sortCondition ref="B0:B6"/></sortState>'),
        (
            rb"(<autoFilter[^>]*?)\s*/>",
            rb'\1><filterColumn colId="x"><filters><filter val="1"/></filters></filterColumn>'
            rb"</autoFilter>",
        ),
    ],
    ids=["sort on #REF!", "sort on row 0", "filter on no column"],
)
def test_a_sort_or_filter_that_names_no_column_is_dropped_not_a_crash(book: Path, find: bytes, put: bytes):
    """Written so by another program, or left so by a deleted column: it describes no column of the table."""
    import re

    from support.workbook_samples import edit_zip

    def edit(parts: dict[str, bytes]) -> None:
        (name,) = [k for k, v in parts.items() if k.startswith("xl/tables/") and b'name="Workouts"' in v]
        parts[name] = re.sub(find, put, parts[name], count=1)
        assert parts[name].count(b"<sortCondition") + parts[name].count(b"<filterColumn") == 1

    edit_zip(book, edit)
    refreshed(book, NEW + OLD)
    table = sheet(book).tables["Workouts"]
    assert table.ref == "A1:B9" and table.sortState is None and not table.autoFilter.filterColumn
    assert_valid(book)
