"""Issue 12, "numbers a member trusts", pinned with values worked out by hand: one Total Output per
workout everywhere, paces as m:ss, a row's metres in the distance totals, one readable Device column,
consistent Workout Types, and a Dashboard that reads an account whose workouts are years old as old.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from support import settings_for
from support.libreoffice import sheets_as_shown
from support.workbook_samples import make_workbook, sheet_parts

from pelotonxl.demo.account import make_account
from pelotonxl.excel.functions import MetricIndex
from pelotonxl.model import dashboard as db
from pelotonxl.model.dashboard_layout import plan
from pelotonxl.model.tables import build_tables, metric_values
from pelotonxl.model.workbook import WorkbookContent
from pelotonxl.refresh_job import run_refresh
from pelotonxl.xlsx import writer

ZERO = "0" * 32
NOW = dt.datetime(2026, 12, 2, 9, 0)  # the refresh; every workout below is years older


def epoch(when: str) -> int:
    return int(dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc).timestamp())


def entry(slug: str, unit: str | None, value: float, name: str = "") -> dict:
    return {"slug": slug, "display_unit": unit, "value": value, "display_name": name or slug.replace("_", " ").title()}


def record(
    wid: str,
    start: str,
    minutes: int,
    discipline: str,
    *,
    total_work: float = 0.0,
    ride_id: str | None = None,
    summaries=(),
    averages=(),
    device=("home_bike_v1", "home_bike"),
    workout_type: str = "class",
    zones: list[float] | None = None,
) -> tuple[dict, dict]:
    """A (workout, graph) pair in Peloton's shapes (../shared/peloton-api/samples), in UTC."""
    begin = epoch(start)
    workout = {
        "id": wid.ljust(32, "0"),
        "start_time": begin,
        "end_time": begin + minutes * 60,
        "timezone": "UTC",
        "fitness_discipline": discipline,
        "status": "COMPLETE",
        "total_work": total_work,
        "device_type": device[0],
        "platform": device[1],
        "workout_type": workout_type,
    }
    if ride_id is not None:
        workout["ride"] = {
            "id": ride_id,
            "title": f"{minutes} min {discipline} class",
            "duration": minutes * 60,
            "instructor": None if ride_id == ZERO else {"name": "Ann"},
        }
    metrics = (
        []
        if zones is None
        else [
            {
                "slug": "heart_rate",
                "average_value": 140,
                "max_value": 170,
                "zones": [{"slug": f"zone{n}", "duration": m * 60} for n, m in enumerate(zones, 1)],
            }
        ]
    )
    return workout, {"summaries": list(summaries), "average_summaries": list(averages), "metrics": metrics}


def old_account() -> list[tuple[dict, dict]]:
    """Five workouts, the newest on 2021-04-12: nothing in the 52 weeks before NOW."""
    return [
        # A ride of 117051.3 J: Peloton's summary rounds it to 117 kJ; the workbook says 117.1 everywhere.
        record(
            "a1",
            "2021-04-12 07:00",
            30,
            "cycling",
            total_work=117051.3,
            ride_id="c" * 32,
            summaries=[entry("total_output", "kj", 117), entry("distance", "mi", 10.0)],
            averages=[entry("avg_output", "watts", 65)],
            zones=[5, 10, 10, 4, 1],
        ),
        # A tread run at 8.47 min/mi: 8.47 x 60 = 508.2 s, so 8:28 a mile.
        record(
            "a2",
            "2021-04-05 07:00",
            25,
            "running",
            total_work=200000.0,
            ride_id="d" * 32,
            device=("home_tread", "home_tread"),
            summaries=[entry("total_output", "kj", 200), entry("distance", "mi", 3.0)],
            averages=[entry("avg_pace", "min/mi", 8.47, "Avg Pace")],
        ),
        # A row: 22629.63 J (summary 23 kJ), 2000 m (2000 / 1609.344 = 1.24 mi), 2.89 min/500m = 173.4 s = 2:53.
        record(
            "a3",
            "2021-03-29 07:00",
            10,
            "caesar",
            total_work=22629.63,
            ride_id="e" * 32,
            device=("caesar", "caesar"),
            summaries=[entry("total_output", "kj", 23), entry("distance", "m", 2000.0)],
            averages=[entry("avg_split_pace", "min/500m", 2.89, "Avg Split Pace")],
        ),
        # A Just Ride: Peloton's workout_type may say "class", yet no class was taken.
        record(
            "a4",
            "2021-03-22 07:00",
            20,
            "cycling",
            total_work=50000.0,
            ride_id=ZERO,
            summaries=[entry("total_output", "kj", 50)],
        ),
        # A Just Run from the phone app: no ride at all.
        record(
            "a5",
            "2021-03-15 07:00",
            61,
            "running",
            device=("iOS_app", "iOS_app"),
            workout_type="freestyle",
            averages=[entry("avg_pace", "min/mi", 61.5, "Avg Pace")],
        ),
    ]


def row(table, wid: str) -> dict:
    frame = table.frame
    return frame[frame["Workout ID"] == wid.ljust(32, "0")].iloc[0].to_dict()


@pytest.fixture(scope="module")
def tables():
    return build_tables(old_account())


@pytest.fixture(scope="module")
def board(tables):
    return db.build_dashboard(*tables, NOW, signed_in=True)


# --- 1. one value per quantity ---------------------------------------------------------------------


def test_total_output_is_the_workouts_total_work_on_every_sheet_the_dashboard_and_the_function(tables, board):
    workouts, metrics = tables
    assert row(workouts, "a1")["Total Output (kJ)"] == 117.1
    assert row(metrics, "a1")["Total Output (kJ)"] == 117.1  # not the summary's 117
    assert row(metrics, "a3")["Total Output (kJ)"] == 22.6  # 22629.63 J, not 23
    assert metric_values(*old_account()[0])["total_output"] == 117.1
    assert MetricIndex.build(old_account()).value("a1".ljust(32, "0"), "Total Output") == 117.1
    # All time: 117.1 + 200.0 + 22.6 + 50.0 = 389.7 -> 390; by discipline: cycling 167.1 -> 167, rowing 23
    assert board.headline.frame.set_index("").loc["Output (kJ)", "All time"] == 390
    totals = board.block("disciplines").frame.set_index("Discipline")
    assert (totals.loc["Cycling", "Output (kJ)"], totals.loc["Rowing", "Output (kJ)"]) == (167, 23)
    assert board.block("records").frame.set_index("Class length").loc["30 min", "Best (kJ)"] == 117.1


# --- 2. paces as minutes:seconds -------------------------------------------------------------------


def test_paces_are_durations_shown_as_minutes_and_seconds(tables):
    _, metrics = tables
    assert row(metrics, "a2")["Avg Pace (min/mi)"] == dt.timedelta(minutes=8, seconds=28)
    assert row(metrics, "a3")["Avg Split Pace (min/500m)"] == dt.timedelta(minutes=2, seconds=53)
    assert row(metrics, "a5")["Avg Pace (min/mi)"] == dt.timedelta(minutes=61, seconds=30)  # past an hour
    assert metrics.number_formats["Avg Pace (min/mi)"] == "[m]:ss"
    assert metrics.number_formats["Avg Split Pace (min/500m)"] == "[m]:ss"


def test_peloton_metric_answers_a_pace_as_the_fraction_of_a_day_excel_shows_as_m_ss():
    index = MetricIndex.build(old_account())
    assert index.value("a2".ljust(32, "0"), "avg_pace") == pytest.approx(508 / 86400)  # 8:28
    assert index.value("a3".ljust(32, "0"), "Avg Split Pace") == pytest.approx(173 / 86400)  # 2:53
    paces = [index.value(w, "avg_pace") for w in ("a2".ljust(32, "0"), "a5".ljust(32, "0"))]
    assert sum(paces) * 86400 == pytest.approx(508 + 3690)  # they add up


def _written(tmp_path: Path, tables) -> Path:
    book = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    workouts, metrics = tables
    writer.write_tables(book, WorkbookContent(workouts, metrics))
    return book


def test_the_file_holds_a_pace_as_a_number_with_the_m_ss_format(tmp_path: Path, tables):
    book = _written(tmp_path, tables)
    ws = load_workbook(book)["Metrics"]
    col = [c.value for c in ws[1]].index("Avg Pace (min/mi)") + 1
    at = [c.value for c in ws["A"]].index("a2".ljust(32, "0")) + 1
    cell = ws.cell(at, col)
    assert cell.number_format == "[m]:ss"
    assert cell.value == dt.timedelta(minutes=8, seconds=28)  # openpyxl's reading of a number under a duration format
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(sheet_parts(book)["Metrics"]).decode("utf-8")
    raw = re.search(rf'<c r="{get_column_letter(col)}{at}"[^>]*><v>([^<]+)</v>', xml)
    assert raw and float(raw.group(1)) == pytest.approx(508 / 86400)  # a plain number: Excel can sum it


@pytest.mark.libreoffice
def test_libreoffice_shows_the_paces_as_m_ss(tmp_path: Path, tables):
    book = _written(tmp_path, tables)
    metrics_csv = sheets_as_shown(book, tmp_path / "out")["Metrics"]
    rows = list(csv.reader(metrics_csv.read_text(encoding="utf-8").splitlines()))
    shown = {r[0]: dict(zip(rows[0], r, strict=False)) for r in rows[1:]}
    assert shown["a2".ljust(32, "0")]["Avg Pace (min/mi)"] == "8:28"
    assert shown["a3".ljust(32, "0")]["Avg Split Pace (min/500m)"] == "2:53"
    assert shown["a5".ljust(32, "0")]["Avg Pace (min/mi)"] == "61:30"


# --- 3. rowing distance in the totals ----------------------------------------------------------------


def test_a_rows_metres_count_in_the_distance_totals_in_the_members_unit(board):
    totals = board.block("disciplines").frame.set_index("Discipline")
    assert "Distance (mi)" in totals.columns  # the unit is in the header
    assert totals.loc["Cycling", "Distance (mi)"] == 10.0
    assert totals.loc["Running", "Distance (mi)"] == 3.0
    assert totals.loc["Rowing", "Distance (mi)"] == pytest.approx(1.2)  # 2000 m / 1609.344 = 1.24 mi


# --- 4. old data is old, not missing -------------------------------------------------------------------


def test_an_account_whose_workouts_are_years_old_gets_its_last_year_and_true_notes(board):
    subtitle = plan(board).dashboard[0].cells[1][0].value
    assert subtitle.startswith("Nothing in the last 52 weeks; last workout 2021-04-12 · Last refresh 2026-12-02")
    weekly = next(b for _, b in board.charts if b.key == "weekly_minutes")
    assert weekly.frame["Week starting"].iloc[-1] == pd.Timestamp("2021-04-12")  # the newest workout's Monday
    assert weekly.frame.iloc[-1][1:].sum() == 30.0
    assert weekly.note == "Nothing in the last 52 weeks; last workout 2021-04-12: these are the 52 weeks up to it."
    output = next(b for _, b in board.charts if b.key == "monthly_output")
    assert output.frame["Month"].iloc[-1] == pd.Timestamp("2021-04-01")
    assert output.frame.set_index("Month").loc["2021-04-01"].sum() == pytest.approx(317.1)  # 117.1 + 200
    zones = next(b for _, b in board.charts if b.key == "monthly_zones")
    assert list(zones.frame.iloc[-1][1:]) == [5.0, 10.0, 10.0, 4.0, 1.0]
    for block in (output, zones):
        assert "yet" not in block.note and block.note.startswith("Nothing in the last 52 weeks")
    assert board.block("headline").frame.set_index("").loc["Workouts"].tolist() == [0, 0, 0, 5]


def test_heart_rate_older_than_the_charts_is_named_not_called_missing():
    hr = record("h1", "2016-01-10 07:00", 30, "cycling", total_work=90000.0, ride_id="f" * 32, zones=[30, 0, 0, 0, 0])
    recent = old_account()
    recent[0][1]["metrics"] = []  # no monitor in the last three years
    board = db.build_dashboard(*build_tables([hr, *recent]), NOW)
    zones = next(b for _, b in board.charts if b.key == "monthly_zones")
    assert zones.note == "No heart-rate data in these months; the last was on 2016-01-10."


def test_an_empty_account_after_a_sign_in_is_told_the_truth():
    empty = build_tables([])
    signed_in = plan(db.build_dashboard(*empty, NOW, signed_in=True)).dashboard[0].cells[1][0].value
    assert signed_in.startswith("Signed in; Peloton has no workouts for this account yet")
    assert "email" not in signed_in
    template = plan(db.build_dashboard(None, None, NOW)).dashboard[0].cells[1][0].value
    assert template == "No workouts yet: fill in your email on the Config sheet, then Peloton → Refresh."


@pytest.fixture
def account():
    """For the server fixture (conftest): a member Peloton signs in who has never worked out."""
    return make_account(0, seed=3)


def test_a_refresh_of_an_account_without_workouts_says_so_not_fill_in_your_email(server, home):
    written = []
    result = run_refresh(settings_for(server, home), written.append)
    assert result.rows == 0
    subtitle = plan(written[0].dashboard).dashboard[0].cells[1][0].value
    assert subtitle.startswith("Signed in; Peloton has no workouts for this account yet")


# --- 6. columns a member understands -------------------------------------------------------------------


def test_one_readable_device_column_and_workout_types_that_agree(tables):
    workouts, _ = tables
    assert "Platform" not in workouts.frame.columns
    devices = {wid: row(workouts, wid)["Device"] for wid in ("a1", "a2", "a3", "a5")}
    assert devices == {"a1": "Bike", "a2": "Tread", "a3": "Row", "a5": "iOS App"}
    kinds = {
        wid: (row(workouts, wid)["Live/On-demand"], row(workouts, wid)["Workout Type"]) for wid in ("a1", "a4", "a5")
    }
    assert kinds["a4"] == ("Just Ride", "Freestyle") and kinds["a5"] == ("Just Run", "Freestyle")
    assert kinds["a1"][1] == "Class"


def test_the_summary_stands_in_only_for_a_missing_total_work():
    workout, graph = old_account()[0]
    del workout["total_work"]
    assert metric_values(workout, graph)["total_output"] == 117  # the summary, whole kJ
    workout["total_work"] = "lots"  # unreadable: blank, as sync reports
    assert "total_output" not in metric_values(workout, graph)


def test_a_distance_rides_duration_is_the_workouts_own_on_both_sheets():
    """The `duration` summary (min) of a distance ride gives way to end - start: 35:55 is 35.9167 min."""
    ride = record(
        "d1",
        "2021-04-10 07:00",
        36,
        "cycling",
        total_work=300000.0,
        ride_id="9" * 32,
        summaries=[entry("duration", "min", 35.87, "Duration")],
    )
    ride[0]["end_time"] = ride[0]["start_time"] + 35 * 60 + 55
    workouts, metrics = build_tables([ride])
    assert row(workouts, "d1")["Duration"] == dt.timedelta(minutes=35, seconds=55)
    assert row(metrics, "d1")["Duration (min)"] == pytest.approx(35 + 55 / 60)
    assert metric_values(*ride)["duration"] == pytest.approx(35 + 55 / 60)


def test_the_live_writer_gets_the_same_pace_numbers_and_format(tables):
    """Formats come from the SheetTable both writers share: through Excel a pace is 508/86400 under [m]:ss."""
    from support.xlwings_standin import Book

    from pelotonxl.excel import live_writer

    book = Book()
    book.sheets.add("Metrics")
    live_writer.write_tables_live(book, WorkbookContent(None, tables[1]))
    sheet = book.sheets["Metrics"]
    header = sheet.grid(sheet.tables["Metrics"].header_row_range)[0]
    col = header.index("Avg Pace (min/mi)") + 1
    at = next(r for r in range(2, 7) if sheet.cells.get((r, 1)) == "a2".ljust(32, "0"))
    assert sheet.cells[(at, col)] == pytest.approx(508 / 86400)
    assert sheet.range((at, col)).number_format == "[m]:ss"
    total = header.index("Total Output (kJ)") + 1
    assert sheet.cells[(at - 1, total)] == 117.1  # a1, the newest, one row above


def test_the_ride_sheet_shows_the_same_kj():
    from pelotonxl.model.ride_view import ride_view

    records = old_account()
    records[0][1].update(
        every_n=5,
        seconds_since_pedaling_start=[5, 10, 15],
        metrics=[{"slug": "output", "display_name": "Output", "display_unit": "watts", "values": [60, 70, 65]}],
    )
    view = ride_view(records, "a1".ljust(32, "0"))
    assert view.ride.total_kj == 117.1
    figures = view.figures()
    assert figures[figures.iloc[:, 0] == "Total output (kJ)"].iloc[0, 1] == 117.1  # the Ride sheet's figure
