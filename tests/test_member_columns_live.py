"""The member's own columns through the live writer (the xlwings stand-in): each note stays with its workout."""

from __future__ import annotations

import datetime as dt

import pytest
from support.live_book import STATUS_ROW, make_book
from support.xlwings_autospec import real_api

from pelotonxl import ribbon
from pelotonxl.errors import WorkbookError
from pelotonxl.excel import live_notes
from pelotonxl.member import columns as member_rules

LATER = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


def _table(book):
    return book.sheets["Workouts"].tables["Workouts"]


def _add_notes(book, notes: dict[str, str]) -> None:
    """A "My Notes" column typed at the table's right edge, and a formula column after it."""
    table = _table(book)
    sheet, rng = table.parent, table.range
    notes_col, formula_col = rng.last_column + 1, rng.last_column + 2
    sheet.cells[(rng.row, notes_col)] = "My Notes"
    sheet.cells[(rng.row, formula_col)] = "Double"
    for r in range(rng.row + 1, rng.last_row + 1):
        wid = sheet.cells.get((r, rng.column))
        if wid in notes:
            sheet.cells[(r, notes_col)] = notes[wid]
        sheet.cells[(r, formula_col)] = "=[@[Total Output (kJ)]]*2"
    table.resize(sheet.range((rng.row, rng.column), (rng.last_row, formula_col)))


def test_notes_follow_their_workouts_when_new_ones_arrive_on_top(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    ids = [sheet.cells.get((r, 1)) for r in range(2, _table(book).range.last_row + 1)]
    notes = {ids[1]: "felt strong", ids[4]: "knee sore", ids[-1]: "first ride!"}
    _add_notes(book, notes)

    account.add_workouts(8, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})

    rng = _table(book).range
    header = sheet.grid(sheet.range((1, 1), (1, rng.last_column)))[0]
    assert header[-2:] == ["My Notes", "Double"]
    rows = sheet.grid(rng)[1:]
    assert len(rows) == len(ids) + 8
    assert {r[0]: r[-2] for r in rows if r[-2]} == notes
    assert all(r[-1] == "=[@[Total Output (kJ)]]*2" for r in rows)


def test_a_cell_the_grown_table_would_cover_is_refused_by_address(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    last = _table(book).range.last_row
    book.sheets["Workouts"].cells[(last + 3, 2)] = "my total"
    account.add_workouts(8, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})
    assert book.sheets["Workouts"].cells[(last + 3, 2)] == "my total"
    assert _table(book).range.last_row == last
    assert any(f"Workouts!B{last + 3}" in alert["prompt"] for alert in book.app.alerts)


def test_two_rows_with_one_workout_id_and_notes_on_both_are_refused_naming_them(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    first, second = sheet.cells.get((2, 1)), sheet.cells.get((3, 1))
    _add_notes(book, {first: "mine", second: "also mine"})
    sheet.cells[(3, 1)] = first  # the second row's ID typed over with the first's
    account.add_workouts(2, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})
    assert any(
        f"Workouts!A2, A3: these rows hold the same Workout ID ({first})" in alert["prompt"]
        for alert in book.app.alerts
    )
    assert sheet.cells.get((2, _table(book).range.last_column - 1)) == "mine"
    assert sheet.cells.get((3, _table(book).range.last_column - 1)) == "also mine"


def test_a_row_the_member_added_to_the_table_without_an_id_keeps_its_notes(server, account, home):
    """Excel grows the table over a row typed under it: notes with no Workout ID. The file writer keeps them
    on a row of their own at the bottom; the live one dropped them without a word."""
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    _add_notes(book, {sheet.cells.get((2, 1)): "mine"})
    rng = _table(book).range
    _table(book).resize(sheet.range((rng.row, rng.column), (rng.last_row + 1, rng.last_column)))
    sheet.cells[(rng.last_row + 1, rng.last_column - 1)] = "outdoor ride"
    account.add_workouts(2, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})
    rng = _table(book).range
    notes = [sheet.cells.get((r, rng.last_column - 1)) for r in range(rng.row + 1, rng.last_row + 1)]
    assert sorted(n for n in notes if n) == ["mine", "outdoor ride"]
    assert not book.app.alerts


def test_a_column_the_refresh_stops_writing_leaves_the_members_column_beside_the_one_before_it():
    """Through Excel as in the file: Platform (dropped by issue 12) is ours even without the file's
    record, so it goes; "My Notes", typed after it, keeps its notes and lands after Device."""
    from support.xlwings_standin import Book

    from pelotonxl.excel.live_member_columns import read_member_columns

    sheet = Book().sheets.add("Workouts")
    sheet.fill(
        "A1",
        [
            ["Workout ID", "Device", "Platform", "My Notes", "Output"],
            ["w2", "Bike", "home_bike", "knee sore", 101.0],
            ["w1", "Bike", "home_bike", None, 100.0],
        ],
    )
    table = sheet.tables.add(sheet.range("A1", "E3"), name="Workouts")
    ours = ["Workout ID", "Device", "Output"]
    kept = read_member_columns(sheet, table, "Workouts", ours)
    assert kept.order(ours) == ["Workout ID", "Device", "My Notes", "Output"]
    rows, dropped = kept.rows(ours, [["w2", "Bike", 101.0], ["w1", "Bike", 100.0]], full=False)
    assert rows == [
        ["Workout ID", "Device", "My Notes", "Output"],
        ["w2", "Bike", "knee sore", 101.0],
        ["w1", "Bike", None, 100.0],
    ]
    assert dropped == 0


def test_a_full_ribbon_refresh_says_how_many_notes_went_with_removed_workouts(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    gone, kept = sheet.cells[(3, 1)], sheet.cells[(4, 1)]
    _add_notes(book, {gone: "felt strong", kept: "knee sore"})
    account.delete_workout(gone)

    assert ribbon.refresh_book(real_api(book), environ={}) is not None  # incremental: the note stays
    assert book.app.alerts == []
    result = ribbon.refresh_book(real_api(book), full=True, environ={})

    assert result is not None and result.rows == len(account.workouts)
    [alert] = book.app.alerts
    assert alert["mode"] == "info"
    assert alert["prompt"] == (
        f"{result.rows} workouts written, but your notes on 1 workout removed from Peloton went with them."
    )
    last_result = book.sheets["Config"].cells[(STATUS_ROW + 2, 2)]
    assert last_result == "Your notes on 1 workout removed from Peloton went with them"
    rows = range(2, _table(book).range.last_row + 1)
    assert [sheet.cells.get((r, 1)) for r in rows if sheet.cells.get((r, _table(book).range.last_column - 1))] == [kept]


def test_notes_typed_beside_the_table_are_adopted_and_follow_their_workouts(server, account, home):
    """A workbook saved by LibreOffice holds a column typed beside the table, not in it: Excel's refresh
    adopts it into the table as the file refresh does, each note on its workout's row."""
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet, rng = book.sheets["Workouts"], _table(book).range
    beside = rng.last_column + 1
    sheet.cells[(1, beside)] = "My Notes"
    ids = [sheet.cells.get((r, 1)) for r in range(2, rng.last_row + 1)]
    sheet.cells[(3, beside)] = "felt strong"
    sheet.cells[(rng.last_row, beside)] = "first ride!"

    account.add_workouts(8, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})

    assert book.app.alerts == []
    rng = _table(book).range
    rows = sheet.grid(rng)
    assert rows[0][-1] == "My Notes" and rng.last_column == beside
    assert {r[0]: r[-1] for r in rows[1:] if r[-1]} == {ids[1]: "felt strong", ids[-1]: "first ride!"}


def _note_on(book, wid: str, column: str, text: str) -> None:
    """A note (Excel's legacy comment) typed on `wid`'s cell under `column`."""
    sheet, rng = book.sheets["Workouts"], _table(book).range
    header = sheet.grid(sheet.range((rng.row, rng.column), (rng.row, rng.last_column)))[0]
    row = next(r for r in range(rng.row + 1, rng.last_row + 1) if sheet.cells.get((r, rng.column)) == wid)
    sheet.note_texts[(row, rng.column + header.index(column))] = text


def _notes_by_workout(book) -> dict[tuple[str, str], str]:
    sheet, rng = book.sheets["Workouts"], _table(book).range
    header = sheet.grid(sheet.range((rng.row, rng.column), (rng.row, rng.last_column)))[0]
    return {
        (sheet.cells.get((r, rng.column)), header[c - rng.column]): text
        for (r, c), text in sheet.note_texts.items()
        if c <= rng.last_column
    }


def test_notes_on_workout_cells_move_with_their_workouts(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    ids = [sheet.cells.get((r, 1)) for r in range(2, _table(book).range.last_row + 1)]
    _add_notes(book, {ids[2]: "typed"})
    _note_on(book, ids[1], "Total Output (kJ)", "PR!")
    _note_on(book, ids[3], "My Notes", "ask the coach")
    _note_on(book, ids[-1], "Workout ID", "first ride")
    sheet.note_texts[(1, 2)] = "on the header"
    sheet.note_texts[(40, 60)] = "far away"  # outside the table: stays on its cell

    account.add_workouts(8, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})

    assert book.app.alerts == []
    assert {k: v for k, v in _notes_by_workout(book).items() if k[0] in ids} == {
        (ids[1], "Total Output (kJ)"): "PR!",
        (ids[3], "My Notes"): "ask the coach",
        (ids[-1], "Workout ID"): "first ride",
    }
    assert sheet.note_texts[(1, 2)] == "on the header" and sheet.note_texts[(40, 60)] == "far away"
    assert len(sheet.note_texts) == 5


def test_a_removed_workouts_note_keeps_its_row_and_goes_with_it_on_a_full_refresh(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    gone = sheet.cells[(3, 1)]
    _note_on(book, gone, "Total Output (kJ)", "my best ride")
    account.delete_workout(gone)
    account.add_workouts(2, at=LATER)

    ribbon.refresh_book(real_api(book), environ={})
    assert _notes_by_workout(book) == {(gone, "Total Output (kJ)"): "my best ride"}

    result = ribbon.refresh_book(real_api(book), full=True, environ={})
    assert result is not None and result.rows == len(account.workouts)
    assert sheet.note_texts == {}
    assert gone not in [sheet.cells.get((r, 1)) for r in range(2, _table(book).range.last_row + 1)]
    assert book.app.alerts[-1]["prompt"].endswith("your notes on 1 workout removed from Peloton went with them.")


def test_two_notes_with_one_place_or_none_are_refused_naming_them():
    """The shared rule (both writers): a note whose column is gone, or two on one cell, stop the refresh."""
    in_table = {"B3": ("w1", "Gone"), "C3": ("w1", "Output"), "C4": ("w1", "output"), "A5": ("w9", "Workout ID")}
    with pytest.raises(WorkbookError, match=r"^Workouts!B3, C4: the refresh no longer writes"):
        member_rules.comment_places(in_table, ["Workout ID", "Output"], ["w1"], "Workouts", live_notes.reading_order)
    places = member_rules.comment_places(
        {"C3": ("w1", "Output"), "A5": ("w9", "Workout ID"), "B1": (None, "Output")},
        ["Workout ID", "Output"],
        ["w0", "w1"],
        "Workouts",
        live_notes.reading_order,
    )
    assert places == {"C3": (3, 2), "A5": None, "B1": (1, 2)}


def test_a_threaded_comment_is_left_on_its_cell(server, account, home):
    """xlwings cannot sign a thread with its author: the live writer does not move one, nor the note
    Excel keeps with it."""
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    sheet.threads[(3, 2)] = "a thread"
    sheet.note_texts[(3, 2)] = "[Threaded comment] a thread"
    account.add_workouts(2, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})
    assert sheet.note_texts == {(3, 2): "[Threaded comment] a thread"}


def test_a_note_that_would_land_on_a_threaded_comment_is_refused_before_any_write(server, account, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    sheet = book.sheets["Workouts"]
    before = dict(sheet.cells)
    sheet.threads[(4, 2)] = "a thread"
    sheet.note_texts[(4, 2)] = "[Threaded comment] a thread"
    sheet.note_texts[(2, 2)] = "mine"  # two new workouts on top bring its workout to row 4
    account.add_workouts(2, at=LATER)
    ribbon.refresh_book(real_api(book), environ={})
    assert any(
        "Workouts!B2: these notes would move onto a cell with a threaded" in a["prompt"] for a in book.app.alerts
    )
    assert sheet.cells == before
    assert sheet.note_texts == {(4, 2): "[Threaded comment] a thread", (2, 2): "mine"}
