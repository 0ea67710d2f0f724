"""Issue 26, the Dashboard as a careful member reads it: every record names its discipline, a streak's sentence
is a caption rather than a "workout", a blank 90-day FTP estimate says why, and a lone point on a line chart
(one ride, one month) is drawn as a dot instead of nothing."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from support import REPO
from support.hand_made import NOW, hand_account, ride, workout
from support.xlwings_autospec import real_api
from support.xlwings_standin import Book

from pelotonxl.excel import live_writer
from pelotonxl.model import dashboard as db
from pelotonxl.model.dashboard_layout import FTP_ROW, LEFT, Role, has_lone_point, plan
from pelotonxl.model.power_curve import bike_series, power_curve
from pelotonxl.model.tables import build_tables
from pelotonxl.model.workbook import WorkbookContent
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import writer


def bests(board: db.Dashboard) -> dict[str, list]:
    return {row[0]: list(row[1:]) for row in board.block("bests").frame.itertuples(index=False)}


def test_every_record_names_its_discipline_and_a_streak_names_no_workout():
    board = db.build_dashboard(*build_tables(hand_account()), NOW)
    rows = bests(board)
    for label in ("Longest ride", "Farthest ride (mi)", "Most calories"):
        assert re.match(r"^(Cycling|Running|Rowing|Walking|Strength|Yoga): ", rows[label][2]), label
    assert pd.isna(rows["Current weekly streak"][2]) and pd.isna(rows["Longest weekly streak"][2])
    records = board.block("records").frame
    assert list(records.columns)[-1] == "Workout"
    named = [w for w in records["Workout"] if w != "no ride yet"]
    assert named and all(w.startswith("Cycling: ") for w in named)
    caption = board.block("bests").caption
    assert caption == "A weekly streak counts weeks in a row with a workout, from the Monday shown."


def test_no_current_streak_is_zero_weeks_no_date_and_a_caption_that_says_why():
    old = [workout("a" * 32, "2026-10-01 07:00", 30, "cycling", length=30, kj=300, watts=160)]
    board = db.build_dashboard(*build_tables(old), NOW)
    value, when, what = bests(board)["Current weekly streak"]
    assert value == 0 and pd.isna(what) and pd.isna(when)
    assert board.block("bests").caption.endswith("No workout last week or this week: no current streak.")
    # On the sheet the caption is the note row under the block, never in the Workout column.
    rect = next(r for r in plan(board).dashboard if r.cells[0][0].value == "Streaks and bests")
    assert rect.cells[-1][0].value == board.block("bests").caption and rect.cells[-1][0].role == Role.NOTE
    streak_row = next(row for row in rect.cells if row[0].value == "Current weekly streak")
    assert streak_row[3].value is None


def _curve(records):
    return power_curve(bike_series(records))


@pytest.mark.parametrize(
    ("days", "why"),
    [
        ([(11, 20)], ""),  # a 20-minute ride this month: both estimates, nothing to explain
        ([(6, 1)], "No 20-min ride in 90 days"),
    ],
)
def test_a_blank_ninety_day_estimate_says_why(days, why):
    records = [ride(f"{i:032x}", day, [200.0] * 1300) for i, day in enumerate(days)]
    board = db.build_dashboard(*build_tables(records), NOW, _curve(records))
    ftp = board.block("ftp")
    assert ftp.caption == why
    figures = plan(board)
    rect = next(r for r in figures.dashboard if r.row == FTP_ROW and r.col == LEFT)
    values = rect.cells[1]
    columns = len(ftp.frame.columns)
    assert (
        (values[-1].value, values[-1].role, len(values)) == (why, Role.NOTE, columns + 1)
        if why
        else len(values) == columns
    )
    if why:
        assert pd.isna(ftp.frame.iloc[0]["90-day est."]) and ftp.frame.iloc[0]["All-time est."] == 190.0


def test_without_any_twenty_minute_ride_the_caption_says_so():
    records = [ride("b" * 32, (11, 20), [200.0] * 100)]
    board = db.build_dashboard(*build_tables(records), NOW, _curve(records))
    assert board.block("ftp").caption == "No 20-min ride yet"


@pytest.mark.parametrize(
    ("values", "lone"),
    [
        ([150.0], True),
        ([np.nan, 150.0, np.nan], True),
        ([150.0, 160.0], False),
        ([150.0, np.nan, 160.0], True),
        ([None, None], False),
        ([], False),
    ],
)
def test_a_lone_point_is_told_apart(values, lone):
    assert has_lone_point(values) is lone


def one_ride_board() -> db.Dashboard:
    records = [workout("c" * 32, "2026-11-20 07:00", 30, "cycling", length=30, kj=300, watts=160, kcal=400)]
    return db.build_dashboard(*build_tables(records), NOW)


def test_with_one_ride_the_line_charts_draw_their_points_as_dots_in_the_file(tmp_path):
    board = one_ride_board()
    lines = [p for p in plan(board).charts if p.spec.kind == "line"]
    assert lines and all(ref.marker for p in lines if p.spec.key == "PelotonRideOutput" for ref in p.series)
    book = tmp_path / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    workouts, metrics = build_tables([workout("c" * 32, "2026-11-20 07:00", 30, "cycling", length=30, kj=300)])
    writer.write_tables(book, WorkbookContent(workouts, metrics, board))
    with xp.open_package(book) as pkg:
        charts = [pkg.text(n) for n in pkg.names() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    output = next(c for c in charts if "Average output per ride" in c)
    assert re.search(r'<(c:)?marker><(c:)?symbol val="circle"/><(c:)?size val="6"/>', output)
    assert not re.search(r'<(c:)?symbol val="none"/>', output)


def test_with_one_ride_the_live_writer_makes_the_line_chart_one_with_markers():
    book = Book()
    book.sheets.add("Config")
    live_writer.write_tables_live(real_api(book), WorkbookContent(None, None, one_ride_board()))
    charts = {c.name: c for c in book.sheets["Dashboard"].charts}
    assert charts["PelotonRideOutput"].chart_type == "line_markers"
    assert NOW.date() > dt.date(2026, 11, 20)
