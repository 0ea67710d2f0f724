"""The live writer as real Excel behaves (issue 9, points 4, 7–10), through autospecs of xlwings' own classes.

Each rule of Excel these tests lean on is modelled in the stand-in and named in its docstring
(tests/support/xlwings_standin.py): table column names kept unique, the apostrophe text prefix, a
formula calculated when entered and not otherwise, chart series taken by plot_by. What only Excel can
show is in docs/manual-test.md.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest
import xlwings as xw
from support.hand_made import NOW, hand_account
from support.live_book import make_book
from support.standin_calc import Calc
from support.xlwings_autospec import real_api
from support.xlwings_standin import Apps, Book, Books

from pelotonxl import ribbon
from pelotonxl.excel import cell_values, live_writer, recalc, workbook_link
from pelotonxl.model import dashboard as db
from pelotonxl.model.dashboard_layout import plan
from pelotonxl.model.tables import SheetTable, build_tables
from pelotonxl.model.workbook import WorkbookContent


def table(rows: list[list], columns: list[str]) -> SheetTable:
    return SheetTable("Workouts", pd.DataFrame(rows, columns=columns), {}, {})


# --- point 8: the table is resized before its header is written -----------------------------------


def test_a_column_that_disappears_does_not_come_back_numbered():
    book = Book()
    book.sheets.add("Workouts")
    with_rower = table(
        [["a", 5000.0, 9.5, 200.0], ["b", None, 9.0, 180.0]],
        ["Workout ID", "Distance (m)", "Distance (mi)", "Total Output (kJ)"],
    )
    bikes_only = table([["b", 9.0, 180.0]], ["Workout ID", "Distance (mi)", "Total Output (kJ)"])

    live_writer.write_tables_live(real_api(book), WorkbookContent(with_rower))
    live_writer.write_tables_live(real_api(book), WorkbookContent(bikes_only))  # a full refresh, rower gone

    xl_table = book.sheets["Workouts"].tables["Workouts"]
    assert xl_table.header == ["Workout ID", "Distance (mi)", "Total Output (kJ)"]  # not "Distance (mi)2"
    [resize] = book.calls_of("resize")
    assert book.calls.index(resize) < book.calls.index(book.calls_of("value=")[-1])  # resized, then written


def test_an_unchanged_header_is_written_once():
    book = Book()
    book.sheets.add("Workouts")
    content = WorkbookContent(table([["a", 1.0]], ["Workout ID", "Output"]))
    live_writer.write_tables_live(real_api(book), content)
    book.calls.clear()
    live_writer.write_tables_live(real_api(book), content)
    assert len(book.calls_of("value=", "Workouts")) == 1  # no placeholder pass when no name moves


# --- point 9: text Excel would convert stays text -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "TRUE",
        "false",
        "50%",
        "1/2",
        "12:30",
        "12:30 PM",
        "$5",
        "€5",
        "(5)",
        "=x",
        "+1",
        "-2",
        "@me",
        "1e5",
        ".5",
        "1,000",
        "2024-01-02",
        "2-Jan",
        "Jan 2",
        "March 2024",
        "#N/A",
        "'tis the season",
        " 7",
    ],
)
def test_text_excel_would_convert_gets_the_text_prefix(text):
    assert cell_values.excel_value(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["Cody Rigsby", "Just Ride", "Tabata Ride", "Truest ride", "May the Force", "felt strong", "", "America/New_York"],
)
def test_plain_text_is_written_as_it_is(text):
    assert cell_values.excel_value(text) == text


def test_titles_and_the_members_notes_stay_text_through_two_refreshes():
    book = Book()
    book.sheets.add("Workouts")
    content = WorkbookContent(table([["0a1", "50%"], ["b2", "TRUE"]], ["Workout ID", "Class Title"]))
    live_writer.write_tables_live(real_api(book), content)
    sheet = book.sheets["Workouts"]
    sheet.fill("C1", [["My Notes"], ["1/2 done"], ["=x is a note, not a formula"]])
    sheet.text_cells |= {(2, 3), (3, 3)}  # typed with the apostrophe, as Excel keeps it
    xl_table = sheet.tables["Workouts"]
    xl_table.resize(sheet.range("A1:C3"))

    live_writer.write_tables_live(real_api(book), content)

    assert sheet.grid(xl_table.range) == [
        ["Workout ID", "Class Title", "My Notes"],
        ["0a1", "50%", "1/2 done"],
        ["b2", "TRUE", "=x is a note, not a formula"],
    ]
    assert {(2, 1), (2, 2), (3, 2), (2, 3), (3, 3)} <= sheet.text_cells  # every one written with the prefix
    assert not any(sheet.is_formula(cell) for cell in sheet.cells)


# --- point 10: re-pointed charts take their series by column, in the discipline colours --------------


def test_charts_take_series_by_column_in_the_colours_the_headless_writer_uses():
    book = Book()
    book.sheets.add("Config")
    workouts, metrics = build_tables(hand_account())
    board = db.build_dashboard(workouts, metrics, NOW)
    live_writer.write_tables_live(real_api(book), WorkbookContent(workouts, metrics, board))

    charts = {c.name: c for c in book.sheets["Dashboard"].charts}
    for place in plan(board).charts:
        chart = charts[place.spec.key]
        assert chart.plot_by == "columns"
        assert [s.name for s in chart._series] == [ref.name for ref in place.series]
        for series, ref in zip(chart._series, place.series, strict=True):  # columns and areas filled, lines drawn
            filled = place.spec.kind == "stacked_column" or ref.kind != "line"
            assert getattr(series, "fill_color" if filled else "line_color") == "#" + ref.colour
    weekly = {s.name: s.fill_color for s in charts["PelotonWeeklyVolume"]._series}
    assert weekly["Cycling"] == "#" + db.DISCIPLINE_COLOURS["Cycling"]
    assert all(c.detail[1] == "columns" for c in book.calls_of("chart.set_source_data"))


def test_a_new_discipline_does_not_shift_the_colours_of_the_others():
    book = Book()
    book.sheets.add("Config")
    pairs = hand_account()
    for records in ([p for p in pairs if p[0]["fitness_discipline"] == "cycling"], pairs):
        workouts, metrics = build_tables(records)
        board = db.build_dashboard(workouts, metrics, NOW)
        live_writer.write_tables_live(real_api(book), WorkbookContent(workouts, metrics, board))
    weekly = {s.name: s.fill_color for s in book.sheets["Dashboard"].charts["PelotonWeeklyVolume"]._series}
    assert len(weekly) > 1
    colours = db.discipline_colours(weekly)
    assert weekly == {name: "#" + colours.get(name, db.NO_DATA_COLOUR) for name in weekly}


# --- point 4: every PELOTON_ formula current after a live refresh ----------------------------------------


def analysis_book(answer) -> Book:
    """A book with the member's own sheet of PELOTON_ formulas, answered by `answer`."""
    book = Book()
    book.calc = Calc({"PELOTON_METRIC": answer})
    book.sheets.add("Config")
    mine = book.sheets.add("My Analysis", after=book.sheets[-1])
    mine.range("A1:A3").formula2 = [
        ['=PELOTON_METRIC("latest", "avg_output")'],
        ['=peloton_metric("latest", "calories")'],
        ["=1+1"],
    ]
    mine.range("C5").formula2 = '=PELOTON_METRIC("latest", "distance")'
    mine.range("B2").value = "not a formula: PELOTON_METRIC"
    return book


def test_a_live_refresh_recalculates_every_peloton_formula_and_nothing_else():
    answers = iter(range(100))
    book = analysis_book(lambda workout, metric: float(next(answers)))
    mine = book.sheets["My Analysis"]
    before = {cell: mine.results[cell] for cell in ((1, 1), (2, 1), (5, 3))}
    book.calls.clear()

    live_writer.write_tables_live(real_api(book), WorkbookContent(table([["a", 1.0]], ["Workout ID", "Output"])))

    assert all(mine.results[cell] != value for cell, value in before.items())  # each answered again
    assert mine.cells[(1, 1)] == '=PELOTON_METRIC("latest", "avg_output")'  # its own formula
    assert mine.cells[(2, 2)] == "not a formula: PELOTON_METRIC"
    rewrites = book.calls_of("formula2=", "My Analysis")
    assert [c.address for c in rewrites] == ["$A$1:$A$2", "$C$5"]  # one write per run
    assert {c.sheet for c in book.calls_of("formula2")} == {"Config", "Workouts", "My Analysis"}  # one read each


def test_recalculation_passes_over_legacy_arrays_and_the_sheets_the_refresh_draws():
    book = analysis_book(lambda workout, metric: 1.0)
    book.sheets["My Analysis"].array_cells.add((5, 3))  # an old Ctrl+Shift+Enter array
    assert recalc.recalculate_functions(real_api(book), skip=["my analysis"]) == 0
    assert recalc.recalculate_functions(real_api(book)) == 2
    assert [c.address for c in book.calls_of("formula2=")][-1] == "$A$1:$A$2"


def test_a_protected_sheet_is_passed_over_with_a_warning_and_the_others_recalculated(caplog):
    book = analysis_book(lambda workout, metric: 1.0)
    theirs = book.sheets.add("Protected", after=book.sheets[-1])
    theirs.fill("A1", [['=PELOTON_METRIC("latest", "calories")']])
    theirs.protected = True

    assert recalc.recalculate_functions(real_api(book)) == 3
    assert (
        "Protected: its PELOTON_ formulas could not be recalculated (The cell or chart you're trying to "
        "change is on a protected sheet.); press Ctrl+Alt+F9" in caplog.text
    )


def test_a_used_range_too_large_to_read_is_passed_over_with_a_warning(caplog, monkeypatch):
    book = analysis_book(lambda workout, metric: 1.0)
    monkeypatch.setattr(recalc, "MAX_CELLS", 10)
    book.sheets["My Analysis"].fill("A20", [["formatted far down"]])  # used range A1:C20, 60 cells
    assert recalc.recalculate_functions(real_api(book)) == 0
    assert "My Analysis: its used range (60 cells) is too large" in caplog.text
    assert not book.calls_of("formula2", "My Analysis")


def test_a_formula_shows_the_new_data_after_a_second_ribbon_refresh(server, account, home, monkeypatch):
    import peloton_xl

    monkeypatch.setenv("PELOTON_XL_HOME", str(home))
    book = make_book(server, home)
    book.calc = Calc({"PELOTON_METRIC": peloton_xl.PELOTON_METRIC})
    mine = book.sheets.add("My Analysis", after=book.sheets[-1])
    ribbon.refresh_book(real_api(book), environ={})
    mine.range("A1").formula2 = '=PELOTON_METRIC("latest", "total_output")'
    first = mine.results[(1, 1)]
    known = {w["id"] for w in account.workouts}

    account.add_workouts(1, at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    ribbon.refresh_book(real_api(book), environ={})

    [new] = [w["id"] for w in account.workouts if w["id"] not in known]
    assert mine.results[(1, 1)] == peloton_xl.PELOTON_METRIC(new, "total_output") != first
    assert book.app.alerts == []


# --- point 7: one unreadable workbook does not end the search -----------------------------------------


class UnreadableBook(Book):
    """A workbook xlwings cannot give a path for (a OneDrive URL it cannot map, a window without a book)."""

    @property
    def fullname(self) -> str:
        raise RuntimeError("Couldn't find the local path of https://d.docs.live.net/…/Peloton.xlsm")

    @fullname.setter
    def fullname(self, value: str) -> None:
        pass


def test_find_open_book_passes_over_a_book_whose_path_cannot_be_read(tmp_path, monkeypatch):
    wanted = tmp_path / "PelotonWorkbook.xlsm"
    first, second = Book().app, Book().app
    UnreadableBook(app=first)
    Book(str(tmp_path / "other.xlsm"), app=first)
    target = Book(str(wanted), app=second)
    monkeypatch.setattr(xw, "apps", real_api(Apps([first, second])))

    found = workbook_link.find_open_book(wanted)

    assert found is not None and found.fullname == str(wanted) and found == real_api(target)
    assert workbook_link.find_open_book(tmp_path / "closed.xlsm") is None


def test_find_open_book_passes_over_an_excel_that_cannot_list_its_books(tmp_path, monkeypatch):
    class NoBooks(Books):
        def __iter__(self):
            raise RuntimeError("The RPC server is unavailable")

    wanted = tmp_path / "PelotonWorkbook.xlsm"
    broken = Book().app
    broken.books = NoBooks()
    target = Book(str(wanted))
    monkeypatch.setattr(xw, "apps", real_api(Apps([broken, target.app])))
    assert workbook_link.find_open_book(wanted) == real_api(target)


def test_a_ribbon_refresh_says_which_sheet_kept_old_answers(server, home):
    # What the CLI prints on stderr, the ribbon says in its closing box: a quiet success would leave
    # a protected sheet's PELOTON_ formulas on last week's answers without a word.
    book = make_book(server, home)
    theirs = book.sheets.add("My Analysis", after=book.sheets[-1])
    theirs.fill("A1", [['=PELOTON_METRIC("latest", "calories")']])
    theirs.protected = True

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is not None and result.exit_code == 0
    [alert] = book.app.alerts
    assert alert["mode"] == "info" and "\n" not in alert["prompt"]
    assert alert["prompt"] == (
        f"{result.rows} workouts written. My Analysis: its PELOTON_ formulas could not be "
        "recalculated (The cell or chart you're trying to change is on a protected sheet.); "
        "press Ctrl+Alt+F9."
    )
    assert ribbon.refresh_book(real_api(book), environ={}) is not None  # the next box says it again, no more
    assert len(book.app.alerts) == 2 and book.app.alerts[1]["prompt"].endswith("press Ctrl+Alt+F9.")
    assert not [h for h in logging.getLogger("pelotonxl").handlers if type(h).__module__ == ribbon.__name__]


def test_a_ribbon_refresh_from_an_older_workbooks_vba_says_what_to_run(server, home):
    """0.1.0's Peloton.bas calls refresh() without parts: the refresh works, and its closing box says in one
    line that the workbook's Excel parts are older and which command upgrades them; current parts stay quiet."""
    import pelotonxl
    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION

    book = make_book(server, home)
    assert ribbon.refresh_book(real_api(book), environ={}, parts=f"{pelotonxl.__version__} {XLWINGS_VERSION}")
    assert book.app.alerts == []
    result = ribbon.refresh_book(real_api(book), environ={}, parts="")
    assert result is not None and result.exit_code == 0
    [alert] = book.app.alerts
    assert alert["prompt"] == (
        f"{result.rows} workouts written. This workbook's Excel parts are from a peloton_xl before 0.2.0, and this "
        f"Python runs peloton_xl {pelotonxl.__version__} with xlwings {XLWINGS_VERSION}: save and close it, then "
        f'run python peloton_xl.py --upgrade-workbook "{book.fullname}".'
    )


def test_the_first_refresh_into_another_state_folder_is_recorded_before_its_formulas_recalculate(
    server, home, tmp_path, monkeypatch
):
    """Issue 20, item 8: a formula typed before the first refresh, whose store lies in the Config sheet's
    State folder, answers from it right after the refresh: the refresh is recorded, then recalculated."""
    import peloton_xl

    monkeypatch.delenv("PELOTON_XL_HOME")  # only the Config sheet names the state folder
    elsewhere = tmp_path / "elsewhere"
    book = make_book(server, elsewhere)
    book.calc = Calc({"PELOTON_METRIC": lambda workout, metric: peloton_xl.PELOTON_METRIC(workout, metric)})
    mine = book.sheets.add("My Analysis", after=book.sheets[-1])
    mine.range("A1").formula2 = '=PELOTON_METRIC("latest", "total_output")'
    assert str(mine.results[(1, 1)]).startswith("#N/A no refresh has run yet")

    ribbon.refresh_book(real_api(book), environ={})

    assert book.app.alerts == []
    assert isinstance(mine.results[(1, 1)], float)
