"""The Ride sheet (one ride against its earlier attempts) and the PowerCurve table, in both writers."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
from openpyxl import load_workbook
from support.hand_made import ride
from support.xlwings_autospec import real_api
from support.xlwings_standin import Book

from pelotonxl.excel import live_writer
from pelotonxl.model import power_curve as pc
from pelotonxl.model import ride_layout
from pelotonxl.model.ride_view import ride_view
from pelotonxl.model.workbook import RideSheet, WorkbookContent
from pelotonxl.xlsx import writer

CLASS, OTHER = "c" * 32, "d" * 32
NOW = dt.datetime(2026, 11, 30, 12, 0)


def with_segments(pair):
    workout, graph = pair
    graph["segment_list"] = [
        {"name": "Warmup", "start_time_offset": 0, "length": 5},
        {"name": "Climb", "start_time_offset": 5, "length": 15},
    ]
    workout["ride"]["title"] = "20 min Climb Ride"
    workout["total_work"] = 4000
    return workout, graph


LATEST = with_segments(ride("1" * 32, (11, 28), [100] * 10 + [300] * 10, ride_id=CLASS))
EARLIER = ride("2" * 32, (10, 1), [150, 150, 250, 250], every_n=5, ride_id=CLASS)  # 20 s at every 5 s
EARLIEST = ride("3" * 32, (9, 1), [90] * 20, ride_id=CLASS)
OLDEST = ride("4" * 32, (8, 1), [80] * 20, ride_id=CLASS)  # a third attempt: left out
OTHER_CLASS = ride("5" * 32, (11, 27), [500] * 20, ride_id=OTHER)
RECORDS = [OTHER_CLASS, OLDEST, EARLIER, LATEST, EARLIEST]


def test_the_latest_ride_with_its_two_previous_attempts_of_the_same_class():
    view = ride_view(RECORDS)
    assert view.workout_id == "1" * 32 and view.title == "20 min Climb Ride"
    assert [a.workout_id for a in view.previous] == ["2" * 32, "3" * 32]  # newest first, two at most
    overlay = view.overlay()
    assert list(overlay.columns) == [
        "Second",
        "This ride (2026-11-28)",
        "Attempt of 2026-10-01",
        "Attempt of 2026-09-01",
    ]
    # The every-5-s attempt lines up with the per-second ride at its own samples (5, 10, 15, 20 s).
    by_second = overlay.set_index("Second")["Attempt of 2026-10-01"]
    assert by_second[[5, 10, 15, 20]].tolist() == [150, 150, 250, 250]
    figures = view.figures().set_index("Figure")
    # No whole-workout average from Peloton in these hand-made graphs: the samples', and the row says so.
    assert figures.loc["Avg Output (W, from samples)"].tolist() == [200.0, 200.0, 90.0]
    assert "Avg Output (W)" not in figures.index
    assert figures.loc["Length (min)"].tolist() == [round(20 / 60, 1)] * 3
    assert figures.loc["Total output (kJ)", "This ride"] == 4.0
    assert view.segments.values.tolist() == [["Warmup", 0, 5], ["Climb", 5, 20]]


def test_a_chosen_ride_and_a_class_without_earlier_attempts():
    assert ride_view(RECORDS, "4" * 32).previous == []
    assert ride_view(RECORDS, "2" * 32).previous[0].workout_id == "3" * 32  # only attempts before it
    assert ride_view(RECORDS, "no such id") is None
    assert ride_view([]) is None


def content() -> WorkbookContent:
    curve = pc.power_curve(pc.bike_series(RECORDS), durations=(5, 15, 30, 60))
    return WorkbookContent(power_curve=pc.curve_table(curve, NOW), ride=RideSheet(ride_view(RECORDS)))


def test_headless_writes_the_power_curve_table_and_the_ride_sheet(workbook: Path):
    writer.write_tables(workbook, content())
    book = load_workbook(workbook)
    sheet = book["PowerCurve"]
    assert list(sheet.tables) == ["PowerCurve"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == pc.COLUMNS
    assert [r[:2] for r in rows[1:]] == [(5, 500.0), (15, 500.0)]  # the other class's 500 W ride
    assert rows[1][4] == "5" * 32
    assert book.sheetnames[-2:] == ["Ride", "Ride Data"]
    ride_sheet = book["Ride"]
    assert ride_sheet["B1"].value == "Ride: 20 min Climb Ride"
    assert ride_sheet["B5"].value == "Figure" and ride_sheet["C5"].value == "This ride"
    with zipfile.ZipFile(workbook) as z:
        drawings = [z.read(n).decode() for n in z.namelist() if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        charts_before = sorted(n for n in z.namelist() if n.startswith("xl/charts/"))
    names = {name for xml in drawings for name in re.findall(r'<xdr:cNvPr id="\d+" name="([^"]+)"', xml)}
    assert {"PelotonRideAttempts", "PelotonRideOutput", "PelotonRideCadence"} <= names
    writer.write_tables(workbook, content())  # again: its own charts do not stop it, parts are reused
    with zipfile.ZipFile(workbook) as z:
        assert sorted(n for n in z.namelist() if n.startswith("xl/charts/")) == charts_before
    writer.check_writable(workbook)


def test_live_writer_writes_the_same_sheets():
    book = Book()
    book.sheets.add("Config")
    live_writer.write_tables_live(real_api(book), content())
    charts = {c.name: c for c in book.sheets["Ride"].charts}
    assert set(charts) == {"PelotonRideAttempts", "PelotonRideOutput", "PelotonRideCadence"}
    assert charts["PelotonRideAttempts"].chart_type == "xy_scatter_lines_no_markers"
    assert [t.name for t in book.sheets["PowerCurve"].tables] == ["PowerCurve"]
    layout = ride_layout.plan(ride_view(RECORDS))
    first, col, last, _ = layout.charts[0].source
    assert book.sheets["Ride Data"].range((first, col + 1), (first, col + 1)).value == "This ride (2026-11-28)"
    assert np.isclose(book.sheets["Ride Data"].range((last, col + 1), (last, col + 1)).value, 300.0)


def test_show_ride_renders_the_row_of_the_active_cell_from_the_store(tmp_path):
    from pelotonxl import ribbon
    from pelotonxl.peloton.store import WorkoutStore
    from pelotonxl.state import StateFolder

    state = StateFolder(tmp_path / "home")
    state.ensure()
    state.remember_account("member")
    with WorkoutStore(state.store_file("member")) as store:
        store.save_workouts([w for w, _ in RECORDS])
        store.save_graphs([(w["id"], g) for w, g in RECORDS], 1)
    book = Book()
    book.sheets.add("Config")
    workouts = book.sheets.add("Workouts")
    workouts.fill("A1", [["Workout ID", "Class Title"], ["2" * 32, "20 min Climb Ride"], ["no id", "x"]])
    environ = {"PELOTON_XL_HOME": str(tmp_path / "home")}

    book.selection = workouts.range((2, 2))  # the title cell of the ride's row
    assert ribbon.show_ride_in_book(real_api(book), environ=environ)
    assert book.sheets["Ride"]["B2"].value.split(" · ")[1] == f"Workout {'2' * 32}"
    assert {c.name for c in book.sheets["Ride"].charts} >= {"PelotonRideAttempts", "PelotonRideOutput"}

    book.selection = workouts.range((3, 1))  # a row without a Workout ID: a box, nothing written
    calls = len(book.calls)
    assert not ribbon.show_ride_in_book(real_api(book), environ=environ)
    assert "Workout ID" in book.app.alerts[-1]["prompt"]
    assert not [c for c in book.calls[calls:] if c.sheet == "Ride"]

    book.selection = workouts.range((2, 2))
    for platform in ("mac", "windows"):  # a chart selected: the same box, never "Unexpected AttributeError"
        book.chart_selected_on = platform
        alerts = len(book.app.alerts)
        # The autospec turns any AttributeError of a property into its own RuntimeError (else the mock
        # would swallow it), so pywin32's AttributeError reaches the code only from the bare stand-in.
        assert not ribbon.show_ride_in_book(real_api(book) if platform == "mac" else book, environ=environ)
        assert len(book.app.alerts) == alerts + 1
        assert book.app.alerts[-1]["prompt"].startswith("Select a cell in a row with a Workout ID"), platform


def test_a_refresh_writes_the_curve_the_ride_and_pelotons_ftp_from_one_api_me(server, workbook, home, run_cli):
    from pelotonxl.model.dashboard_layout import FTP_ROW

    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    assert [r.path for r in server.requests].count("/api/me") == 1
    book = load_workbook(workbook)
    headers = [c.value for c in book["Dashboard"][FTP_ROW]][2:5]
    figures = [c.value for c in book["Dashboard"][FTP_ROW + 1]][1:5]
    assert headers == ["All-time est.", "90-day est.", "Peloton's"]
    assert figures[0] == "FTP (W)" and figures[3] == 190  # the demo member's cycling_ftp
    assert list(book["PowerCurve"].tables) == ["PowerCurve"]
    assert book["Ride"]["B1"].value.startswith("Ride: ")
