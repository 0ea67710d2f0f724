"""The member's pivot tables after a refresh through Excel (issue 20, "What to build"): the headless writer's
rule applied by the live writer (excel/live_pivots.py), through autospecs of xlwings' own classes and
Excel's object model behind `.api` on Windows (COM) and on a Mac (appscript). Only Excel can show the
pivot itself redrawn: docs/manual-test.md, step E7."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from support.xlwings_autospec import real_api
from support.xlwings_standin import Book

from pelotonxl.excel import live_pivots, live_writer
from pelotonxl.model.tables import SheetTable
from pelotonxl.model.workbook import WorkbookContent

COLUMNS = ["Workout ID", "Start", "Discipline", "Output", "Minutes"]  # A..E


def workouts(n: int) -> WorkbookContent:
    rows = [[f"{i:032x}", 45000.0 + i, "Cycling" if i % 3 else "Running", 100.0 + i, 30.0] for i in range(n)]
    return WorkbookContent(SheetTable("Workouts", pd.DataFrame(rows, columns=COLUMNS), {}, {}))


@pytest.fixture(params=["windows", "mac"])
def book(request) -> Book:
    """A book refreshed once with 250 workouts (table A1:E251), then the member's pivots, each refreshed."""
    state = Book(fullname="/home/member/PelotonWorkbook.xlsm")
    state.native = request.param
    state.sheets.add("Workouts")
    live_writer.write_tables_live(real_api(state), workouts(250))
    mine = state.sheets.add("My Analysis", after=state.sheets[-1])
    mine.pivot_tables.made("ByName", "Workouts")  # made from inside the table
    mine.pivot_tables.made("WholeRange", "Workouts!R1C1:R251C5")  # LibreOffice's pivot: the whole table
    mine.pivot_tables.made("TwoColumns", "Workouts!$A$1:$B$251")  # every row, the columns the member took
    mine.pivot_tables.made("SomeRows", "Workouts!R1C1:R21C5")  # rows the member picked
    mine.pivot_tables.made("Theirs", "'My Analysis'!R1C7:R9C8")  # the member's own cells
    mine.pivot_tables.made("Elsewhere", "[Budget.xlsx]Workouts!R1C1:R251C5")  # another workbook
    state.calls.clear()
    return state


def pivots(book: Book) -> dict[str, tuple[str, int]]:
    return {p.name: (p.source, p.shown) for p in book.sheets["My Analysis"].pivot_tables}


def test_pivots_on_our_table_count_every_new_workout_and_the_members_own_stay_as_they_were(book: Book):
    live_writer.write_tables_live(real_api(book), workouts(258))

    assert pivots(book) == {
        "ByName": ("Workouts", 258),
        "WholeRange": ("Workouts", 258),  # now the table itself: it follows the table from now on
        "TwoColumns": ("Workouts!$A$1:$B$259", 258),  # the columns the member took, every row
        "SomeRows": ("Workouts!R1C1:R21C5", 20),  # refreshed, as a refresh of the file does on opening
        "Theirs": ("'My Analysis'!R1C7:R9C8", 8),
        "Elsewhere": ("[Budget.xlsx]Workouts!R1C1:R251C5", 250),
    }
    refreshed = [c.address for c in book.calls_of("pivot.refresh")]
    assert refreshed == ["ByName", "WholeRange", "TwoColumns", "SomeRows"]
    assert [(c.address, c.detail) for c in book.calls_of("pivot.source=")] == [
        ("WholeRange", "Workouts"),
        ("TwoColumns", "Workouts!$A$1:$B$259"),
    ]
    last_write = max(i for i, c in enumerate(book.calls) if c.op == "value=" and c.sheet == "Workouts")
    assert all(book.calls.index(c) > last_write for c in book.calls_of("pivot.refresh"))  # after the table


def test_a_second_refresh_refreshes_them_again_and_re_points_nothing(book: Book):
    live_writer.write_tables_live(real_api(book), workouts(258))
    book.calls.clear()
    live_writer.write_tables_live(real_api(book), workouts(260))
    # "WholeRange" reads the table's name now; the two columns the member took grow again.
    assert [(c.address, c.detail) for c in book.calls_of("pivot.source=")] == [("TwoColumns", "Workouts!$A$1:$B$261")]
    assert pivots(book)["WholeRange"] == ("Workouts", 260) and pivots(book)["TwoColumns"][1] == 260


def test_a_pivot_excel_will_not_refresh_is_named_and_the_refresh_goes_on(book: Book, caplog):
    mine = book.sheets["My Analysis"]
    mine.pivot_tables.made("Crowded", "Workouts", refuses=True)
    with caplog.at_level(logging.WARNING, logger="pelotonxl"):
        live_writer.write_tables_live(real_api(book), workouts(258))
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line.startswith("The pivot table Crowded on My Analysis was not refreshed (")
    assert line.endswith("): Data → Refresh All refreshes it.") and "\n" not in line
    assert pivots(book)["ByName"] == ("Workouts", 258) and book.sheets["Workouts"].tables["Workouts"].range.shape == (
        259,
        5,
    )


def test_the_table_on_a_renamed_sheet_is_followed():
    state = Book()
    state.sheets.add("Workouts")
    live_writer.write_tables_live(real_api(state), workouts(5))
    state.sheets["Workouts"].name = "My Rides"
    mine = state.sheets.add("Mine", after=state.sheets[-1])
    mine.pivot_tables.made("Renamed", "'My Rides'!R1C1:R6C5")
    live_writer.write_tables_live(real_api(state), workouts(9))
    assert (mine.pivot_tables["Renamed"].source, mine.pivot_tables["Renamed"].shown) == ("Workouts", 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Workouts", (True, None)),
        ("Workouts[#All]", (True, None)),
        ("[PelotonWorkbook.xlsm]Workouts[#All]", (True, None)),  # a Mac names the workbook
        ("Workouts!R1C1:R251C18", (True, "Workouts")),
        ("[PelotonWorkbook.xlsm]Workouts!R1C1:R251C18", (True, "Workouts")),
        ("Workouts!R1C1:R251C5", (True, "Workouts!R1C1:R259C5")),
        ("Workouts!R2C1:R251C18", (True, None)),  # not from the table's first cell
        ("Workouts!R1C1:R259C18", (True, None)),  # already right
        ("Workouts!C1:C18", (True, None)),  # whole columns (R1C1): they hold every row already
        ("'My Metrics'!$A$1:$C$3", (True, "Metrics")),
        ("'My Metrics'!A1:B3", (True, "'My Metrics'!$A$1:$B$9")),
        ("Mine!R1C1:R5C2", (False, None)),
        ("[Other.xlsx]Workouts!R1C1:R251C18", (False, None)),
        ("MyRange", (False, None)),  # the member's defined name
    ],
)
def test_which_sources_are_ours_and_what_they_become(text: str, expected: tuple[bool, str | None]):
    places = [
        live_pivots.TablePlace("Workouts", "Workouts", "A1:R251", "A1:S259"),  # the member's column S joined it
        live_pivots.TablePlace("Metrics", "My Metrics", "A1:C3", "A1:C9"),
    ]
    source = live_pivots.parse_source(text)
    assert source is not None
    assert live_pivots.plan(source, places, "PelotonWorkbook.xlsm") == expected


@pytest.mark.parametrize("text", [None, "", 3.0, ["Workouts"]])
def test_what_is_no_worksheet_source_is_not_ours(text):
    assert live_pivots.parse_source(text) is None


def test_the_ribbons_closing_box_names_a_pivot_excel_would_not_refresh(server, home):
    """From the ribbon, over HTTP to the local Peloton: the pivot on the table is refreshed with every workout,
    and one Excel refuses is named in the closing box, one line, the refresh itself a success."""
    from support.live_book import make_book

    from pelotonxl import ribbon

    book = make_book(server, home)
    mine = book.sheets.add("My Analysis", after=book.sheets[-1])
    mine.pivot_tables.made("Counts", "Workouts")
    mine.pivot_tables.made("Crowded", "Workouts!R1C1:R2C3", refuses=True)
    result = ribbon.refresh_book(real_api(book), environ={})
    assert result is not None and result.exit_code == 0
    assert mine.pivot_tables["Counts"].shown == result.rows
    [alert] = book.app.alerts
    assert "The pivot table Crowded on My Analysis was not refreshed (" in alert["prompt"]
    assert "\n" not in alert["prompt"]
