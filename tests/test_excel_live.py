"""The live refresh (what the ribbon runs) against the local Peloton server and an xlwings stand-in.

The stand-in (tests/support/xlwings_standin.py) is not Excel: it checks what excel_live asks of xlwings —
one bulk write per table, the table kept and resized, values Excel can take, the status bar, the
message boxes. What only Excel can show is in docs/manual-test.md.
"""

from __future__ import annotations

import sys
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import xlwings as xw
from support import USERNAME
from support.live_book import (
    MEMBER_STYLE,
    STATUS_ROW,
    add_table,
    assert_sheet_holds,
    make_book,
    stored_tables,
)
from support.xlwings_autospec import real_api
from support.xlwings_standin import Book

from pelotonxl import ribbon
from pelotonxl.excel import live_writer, workbook_link
from pelotonxl.model.tables import WORKOUT_COLUMNS, SheetTable
from pelotonxl.model.workbook import WorkbookContent
from pelotonxl.peloton.store import is_finished

# --- the live refresh --------------------------------------------------------------------------


def test_refresh_fills_both_tables_with_what_the_store_holds(server, home):
    book = make_book(server, home)

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is not None and result.exit_code == 0
    expected = stored_tables(home)
    assert [t.name for t in expected] == ["Workouts", "Metrics"]
    assert result.rows == len(expected[0].frame) == len(server.account.workouts)
    for table in expected:
        assert_sheet_holds(book, table)
    assert book.app.alerts == []  # a refresh that went well is quiet


def test_refresh_writes_each_table_in_one_bulk_call_and_reads_config_once(server, home):
    book = make_book(server, home)

    ribbon.refresh_book(real_api(book), environ={})

    assert len(book.calls_of("value", "Config")) == 1
    for name in ("Workouts", "Metrics"):
        writes = book.calls_of("value=", name)
        assert len(writes) == 1, writes
        assert writes[0].detail == book.sheets[name].tables[name].range.shape
    # Formats and widths: one call per column, never per cell.
    workouts = stored_tables(home)[0]
    assert len(book.calls_of("number_format=", "Workouts")) == len(workouts.frame.columns)
    assert len(book.calls_of("column_width=", "Workouts")) == len(workouts.widths)


def test_refresh_resizes_the_existing_table_and_keeps_its_style(server, home):
    book = make_book(server, home)
    before = {name: book.sheets[name].tables[name] for name in ("Workouts", "Metrics")}

    ribbon.refresh_book(real_api(book), environ={})

    workouts = stored_tables(home)[0]
    for name, table in before.items():
        assert book.sheets[name].tables[name] is table  # the same table, not a new one
        assert table.table_style == MEMBER_STYLE
        assert len(book.sheets[name].tables) == 1
    # The existing tables are resized, not added again; only PowerCurve and Fitness are new to this book.
    assert [c.detail for c in book.calls_of("tables.add")] == ["PowerCurve", "Fitness"]
    assert len(book.calls_of("resize", "Workouts")) == 1
    sheet, body = book.sheets["Workouts"], before["Workouts"].data_body_range
    start = list(workouts.frame.columns).index("Start") + 1
    duration = list(workouts.frame.columns).index("Duration") + 1
    start_body = sheet.range((body.row, start), (body.last_row, start))
    assert start_body.number_format == workouts.number_formats["Start"]
    assert sheet.range((body.row, duration), (body.last_row, duration)).number_format == "[h]:mm:ss"
    assert sheet.range((1, 1)).number_format == "General"  # the header keeps its own format
    assert isinstance(sheet.cells[(2, start)], datetime)
    assert sheet.range((1, start)).column_width == workouts.widths["Start"]


def test_refresh_clears_what_a_bigger_earlier_table_left_behind(server, home):
    book = make_book(server, home, table_sheets=("Metrics",))
    # Wider with columns the refresh wrote once (Metrics lead columns are ours too), longer with stale rows.
    old_header = list(WORKOUT_COLUMNS) + ["Avg Output (watts)", "Avg Cadence (rpm)"]
    add_table(book, "Workouts", [old_header] + [[f"junk {r}.{c}" for c in range(len(old_header))] for r in range(400)])
    book.calls.clear()

    ribbon.refresh_book(real_api(book), environ={})

    workouts = stored_tables(home)[0]
    assert len(old_header) > len(workouts.frame.columns) and 400 > len(workouts.frame)
    assert_sheet_holds(book, workouts)  # includes: the used range is exactly the new table
    assert book.calls_of("clear_contents", "Workouts")


def test_status_bar_shows_progress_and_is_restored(server, home):
    book = make_book(server, home)

    ribbon.refresh_book(real_api(book), environ={})

    shown = [s for s in book.app.status_history if isinstance(s, str) and s.startswith("Peloton: ")]
    finished = [w for w in server.account.workouts if is_finished(w)]
    # a graph per workout and, per ride, its GET /api/workout/{id} (the ftp_info)
    total = len(finished) + len([w for w in finished if w["fitness_discipline"] == "cycling"])
    details = [s for s in shown if s.startswith("Peloton: fetching workout details ")]
    assert details and all(s.endswith(f"/{total}") for s in details)  # graphs start while pages load
    assert details[-1] == f"Peloton: fetching workout details {total}/{total}"
    assert any(s.startswith("Peloton: listing workouts") for s in shown)
    assert any(s.startswith("Peloton: writing the workbook") for s in shown)
    assert book.app.status_bar == "Ready"
    assert book.app.status_history[-1] == "Ready"


def test_status_cells_are_set_and_a_missing_name_is_skipped(server, home):
    book = make_book(server, home, status_keys=("last_refresh", "workout_count"))

    result = ribbon.refresh_book(real_api(book), environ={})

    config = book.sheets["Config"]
    assert isinstance(config.cells[(STATUS_ROW, 2)], datetime)
    assert config.cells[(STATUS_ROW + 1, 2)] == result.rows
    assert (STATUS_ROW + 2, 2) not in config.cells  # no defined name, no write


def test_nothing_is_saved(server, home):
    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    assert book.saved == 0 and book.calls_of("save") == []


def test_wrong_password_shows_one_line_and_touches_no_table(server, home):
    book = make_book(server, home, password="not my password")
    before = {name: book.sheets[name].grid(book.sheets[name].used_range) for name in ("Workouts", "Metrics")}

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is None
    [alert] = book.app.alerts
    assert alert["title"] == "Peloton refresh" and alert["mode"] == "critical"
    assert "\n" not in alert["prompt"] and "Traceback" not in alert["prompt"]
    assert USERNAME in alert["prompt"] and "password" in alert["prompt"].lower()
    assert "not my password" not in alert["prompt"]
    for name, grid in before.items():
        assert book.sheets[name].grid(book.sheets[name].used_range) == grid
    assert [c for c in book.calls if c.op != "value"] == []  # only the Config read: nothing written
    assert book.app.status_bar == "Ready"


def test_an_unexpected_error_is_one_line_asking_for_a_report(server, home, monkeypatch):
    book = make_book(server, home)

    def broken(*args, **kwargs):
        kwargs["progress"]("workouts", 20, None)
        raise RuntimeError("disk on\nfire")

    monkeypatch.setattr(ribbon, "run_refresh", broken)
    assert ribbon.refresh_book(real_api(book), environ={}) is None

    [alert] = book.app.alerts
    assert alert["prompt"] == "Unexpected RuntimeError: disk on fire — please report it"
    assert "Peloton: listing workouts… 20" in book.app.status_history
    assert book.app.status_bar == "Ready"


def test_failed_details_still_write_the_tables_and_say_how_many(server, home):
    failing = [w["id"] for w in server.account.workouts if is_finished(w)][:2]
    for workout_id in failing:
        server.always_fail_graph(workout_id, status=403)  # not retried: no backoff waits in the test
    book = make_book(server, home)

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is not None and result.exit_code == 3 and set(result.failed) == set(failing)
    for table in stored_tables(home):
        assert_sheet_holds(book, table)
    [alert] = book.app.alerts
    assert "2 workouts could not be fetched" in alert["prompt"]
    assert "next refresh retries them" in alert["prompt"]
    assert book.sheets["Config"].cells[(STATUS_ROW + 2, 2)] == (
        "The details of 2 workouts could not be fetched (the next refresh retries them): " + ", ".join(sorted(failing))
    )


def test_a_missing_sheet_is_added_at_the_end_with_a_new_table(server, home):
    book = make_book(server, home, table_sheets=("Workouts",))

    ribbon.refresh_book(real_api(book), environ={})

    # (the Dashboard goes first and its data sheet last: see test_dashboard.py)
    assert [s.name for s in book.sheets] == [
        "Dashboard",
        "Config",
        "Workouts",
        "Metrics",
        "PowerCurve",
        "Fitness",
        "Dashboard Data",
        "Ride",
        "Ride Data",
    ]
    metrics = book.sheets["Metrics"].tables["Metrics"]
    assert metrics.table_style == "TableStyleMedium2"
    assert_sheet_holds(book, stored_tables(home)[1])


def test_a_renamed_sheet_keeps_its_name_and_its_table_is_refreshed_there(server, home):
    book = make_book(server, home)
    book.sheets["Workouts"].name = "Rides 2023"  # the member renamed the tab

    ribbon.refresh_book(real_api(book), environ={})

    assert "Workouts" not in [s.name for s in book.sheets]  # no second sheet, no clashing table name
    assert book.sheets["Rides 2023"].tables["Workouts"].table_style == MEMBER_STYLE
    workouts = stored_tables(home)[0]
    assert (
        book.sheets["Rides 2023"].grid(book.sheets["Rides 2023"].tables["Workouts"].range)[1][0]
        == workouts.frame["Workout ID"].iloc[0]
    )


def test_refresh_caller_refreshes_the_calling_book_and_passes_full(server, home, monkeypatch):
    import pelotonxl
    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION

    book = make_book(server, home)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: real_api(book)))
    graph_requests = lambda: sum("performance_graph" in r.path for r in server.requests)  # noqa: E731

    parts = f"{pelotonxl.__version__} {XLWINGS_VERSION}"  # what this release's Peloton.bas passes
    ribbon.refresh_caller(parts=parts)
    first = graph_requests()
    ribbon.refresh_caller(parts=parts)  # incremental: nothing new to fetch
    assert graph_requests() == first
    ribbon.refresh_caller(full=True, parts=parts)  # full: every graph again

    assert graph_requests() == 2 * first > 0
    assert book.app.alerts == []
    assert_sheet_holds(book, stored_tables(home)[0])


# --- writing, reading and converting without a server ------------------------------------------


def small_table(columns: list[str], rows: list[list], formats=None) -> SheetTable:
    return SheetTable("Workouts", pd.DataFrame(rows, columns=columns), formats or {}, {})


def test_a_second_write_with_fewer_rows_and_columns_clears_leftovers_and_stale_formats():
    book = Book()
    book.sheets.add("Workouts")
    first = small_table(
        ["Workout ID", "Start", "Output"],
        [["a", pd.Timestamp("2024-03-01 07:30"), 1.5], ["b", pd.NaT, np.nan]],
        {"Start": "yyyy-mm-dd hh:mm"},
    )
    second = small_table(["Workout ID", "Output"], [["c", np.float64(2.0)]])

    live_writer.write_tables_live(real_api(book), WorkbookContent(first))
    live_writer.write_tables_live(real_api(book), WorkbookContent(second))

    sheet = book.sheets["Workouts"]
    table = sheet.tables["Workouts"]
    assert table.range.shape == (2, 2) and table.header == ["Workout ID", "Output"]
    assert sheet.cells == {(1, 1): "Workout ID", (1, 2): "Output", (2, 1): "c", (2, 2): 2.0}
    assert sheet.range("B2").number_format == "General"  # no longer the Start column's date format


def test_an_empty_table_keeps_one_blank_body_row():
    book = Book()
    book.sheets.add("Workouts")
    live_writer.write_tables_live(real_api(book), WorkbookContent(small_table(["Workout ID", "Start"], [])))
    table = book.sheets["Workouts"].tables["Workouts"]
    assert table.range.shape == (2, 2)
    assert book.sheets["Workouts"].grid(table.data_body_range) == [[None, None]]


def test_values_become_what_excel_takes():
    frame = pd.DataFrame(
        {
            "Workout ID": ["0123", "=HYPERLINK(1)", "abc"],
            "Start": pd.to_datetime(["2024-01-02 06:00", None, "2024-01-03 18:45"]),
            "Duration": pd.to_timedelta(["0:45:00", None, "1:30:00"]),
            "Count": np.array([1, 2, 3], dtype="int64"),
            "Outdoor": [True, False, None],
            "Output": [1.25, np.nan, 3.0],
        }
    )
    [header, *rows] = live_writer.table_rows(frame)
    assert header == list(frame.columns)
    assert rows == [
        ["'0123", datetime(2024, 1, 2, 6), 0.03125, 1, True, 1.25],
        ["'=HYPERLINK(1)", None, None, 2, False, None],
        ["abc", datetime(2024, 1, 3, 18, 45), 0.0625, 3, None, 3.0],
    ]
    assert all(type(v) in (str, datetime, float, int, bool, type(None)) for row in rows for v in row)


def test_config_rows_map_labels_like_the_file_reader():
    rows = [
        ["Peloton settings", None],
        [" api url ", "http://127.0.0.1:1"],
        ["WORKERS", 3.0],
        ["Parallel requests", 3.0],
        ["Password (optional)", None],
        [None, "x"],
        [12, "y"],
    ]
    assert workbook_link.config_from_rows(rows) == {"api_url": "http://127.0.0.1:1", "workers": "3", "password": ""}


def test_status_bar_updates_are_throttled_within_a_stage():
    clock = iter([0.0, 0.1, 0.2, 0.3, 0.31, 0.32]).__next__
    book = Book()
    progress = workbook_link.StatusBarProgress(real_api(book).app, interval=0.25, clock=clock)
    for done in range(4):
        progress("graphs", done, 400)  # shown at 0.0 and 0.3 only
    progress("graphs", 400, 400)  # the last one always shows
    progress("tables", 0, None)  # a new stage always shows
    assert book.app.status_history == [
        "Peloton: fetching workout details 0/400",
        "Peloton: fetching workout details 3/400",
        "Peloton: fetching workout details 400/400",
        "Peloton: building tables…",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux has no Excel for xlwings")
def test_find_open_book_is_none_without_excel(workbook):
    assert workbook_link.find_open_book(workbook) is None


def test_workouts_with_unreadable_fields_are_counted_in_the_message_box(server, home):
    def odd_total_work(body: dict, query: dict) -> dict:
        if query.get("page") == "0":
            body["data"][0] = {**body["data"][0], "total_work": "lots"}
        return body

    server.rewrite(r"/workouts$", odd_total_work)
    book = make_book(server, home)

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is not None and result.exit_code == 3 and len(result.sync.unreadable) == 1
    [alert] = book.app.alerts
    said = f"{result.rows} workouts written, but 1 workout came from Peloton with fields that cannot be read"
    assert said in alert["prompt"]


def test_a_second_ribbon_refresh_while_one_runs_stops_with_one_line(server, home):
    from pathlib import Path

    from pelotonxl.refresh_lock import refresh_lock

    book = make_book(server, home)
    with refresh_lock(Path(book.fullname)):  # the first refresh, still running
        assert ribbon.refresh_book(real_api(book), environ={}) is None
    [alert] = book.app.alerts
    assert alert["prompt"].startswith("Another refresh of PelotonWorkbook.xlsm is still running")
    assert server.request_count("/api") == 0  # nothing fetched twice
    assert ribbon.refresh_book(real_api(book), environ={}) is not None  # once it is over, a refresh runs


def test_a_cloud_workbook_xlwings_cannot_place_gets_one_line_saying_what_to_set(server, home):
    # With AutoSave on, Excel names a OneDrive/SharePoint book by its web address; xlwings raises when it
    # finds no synced copy. Both buttons say which xlwings.conf setting helps, not "please report it".
    book = make_book(server, home)
    book.unmapped_address = "https://d.docs.live.net/1a2b3c/Documents/PelotonWorkbook.xlsm"
    assert ribbon.refresh_book(real_api(book), environ={}) is None
    workouts = book.sheets["Workouts"]
    workouts.fill("A2", [["0123456789abcdef" * 2]])
    book.selection = workouts.range((2, 1))
    assert ribbon.show_ride_in_book(real_api(book), environ={}) is False
    first, second = book.app.alerts
    assert first == second and first["mode"] == "critical"
    assert first["prompt"].startswith("Cannot find the file of PelotonWorkbook.xlsm on this computer")
    assert "ONEDRIVE_CONSUMER_WIN" in first["prompt"] and "\n" not in first["prompt"]
    assert server.request_count("/api") == 0 and book.calls_of("value=") == []


def test_the_live_writers_records_are_hidden_on_windows_and_on_a_mac():
    """Issue 20, item 8: the live writer hides its PelotonXL_* names as the file writer does, through the
    object model xlwings hands over (COM's Name.Visible; appscript's visible.set on a Mac)."""
    from types import SimpleNamespace

    from pelotonxl.excel.live_writer import hidden_name

    class MacVisible:
        def __init__(self) -> None:
            self.value = True

        def set(self, value: bool) -> None:
            self.value = value

    windows, mac = SimpleNamespace(Visible=True), SimpleNamespace(visible=MacVisible())
    for native in (windows, mac):
        added = []
        names = SimpleNamespace(
            add=lambda name, refers_to, native=native, added=added: added.append(name) or SimpleNamespace(api=native)
        )
        hidden_name(SimpleNamespace(names=names), "PelotonXL_Dashboard_Cells", '={"B2:E11"}')
        assert added == ["PelotonXL_Dashboard_Cells"]
    assert windows.Visible is False and mac.visible.value is False


@pytest.mark.parametrize("native", ["windows", "mac"])
def test_every_record_a_live_refresh_adds_is_hidden(server, home, native):
    """Issue 20, item 8, through the autospecs: each PelotonXL_* name the ribbon's refresh adds (the tables'
    columns, the drawn areas, the drawn sheets) is hidden through the name's own object, as the file writer's."""
    book = make_book(server, home)
    book.native = native
    assert ribbon.refresh_book(real_api(book), environ={}) is not None
    added = {c.address for c in book.calls_of("names.add")}
    assert {"PelotonXL_Workouts_Columns", "PelotonXL_Dashboard_Cells", "PelotonXL_Dashboard_Sheet"} <= added
    assert {name.casefold() for name in added} <= book.names.hidden
