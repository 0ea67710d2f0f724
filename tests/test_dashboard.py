"""The Dashboard: its figures on a hand-made account, its charts in the file and through Excel.

The account below is small enough to add up by hand; "now" is pinned to Thursday 26 Nov 2026,
so this week runs from Monday 23 Nov.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from support import REPO, libreoffice
from support.hand_made import NOW, hand_account, workout
from support.workbook_samples import (
    add_shape,
    edit_zip,
    make_workbook,
    read_parts,
    sheet_parts,
)
from support.xlwings_autospec import real_api
from support.xlwings_standin import Book

from pelotonxl.demo.account import make_account
from pelotonxl.errors import WorkbookError
from pelotonxl.excel import live_writer
from pelotonxl.model import catalog
from pelotonxl.model import dashboard as db
from pelotonxl.model.tables import build_tables
from pelotonxl.model.workbook import Status, WorkbookContent
from pelotonxl.xlsx import cell_edit, writer
from pelotonxl.xlsx.cells import value_tail

STATUS = Status(last_refresh=NOW, workout_count=8, last_result="OK")
C_NS = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


@pytest.fixture(scope="module")
def board() -> db.Dashboard:
    return db.build_dashboard(*build_tables(hand_account()), NOW)


def rows_of(block: db.Block) -> list[list]:
    return [
        [None if not isinstance(v, str) and pd.isna(v) else v for v in row]
        for row in block.frame.itertuples(index=False)
    ]


def chart_block(board: db.Dashboard, key: str) -> db.Block:
    return next(b for spec, b in board.charts if b.key == key)


# --- the figures -----------------------------------------------------------------------------------


def test_weekly_minutes_per_discipline(board):
    block = chart_block(board, "weekly_minutes")
    assert list(block.frame.columns) == ["Week starting", "Cycling", "Running", "Strength"]  # most minutes first
    assert len(block.frame) == 52
    assert block.frame["Week starting"].iloc[0] == pd.Timestamp("2025-12-01")
    assert block.frame["Week starting"].iloc[-1] == pd.Timestamp("2026-11-23")
    nonzero = {row[0].date().isoformat(): row[1:] for row in rows_of(block) if any(row[1:])}
    assert nonzero == {
        "2026-10-05": [0, 20, 0],
        "2026-10-12": [0, 20, 0],
        "2026-10-19": [0, 25, 0],
        "2026-11-02": [45, 0, 0],
        "2026-11-16": [30, 0, 0],
        "2026-11-23": [30, 0, 20],
    }
    assert block.colours == {"Cycling": "E4572E", "Running": "2E86AB", "Strength": "6C4F9E"}
    assert block.note == ""


def test_monthly_output_and_heart_rate_zones(board):
    kj = chart_block(board, "monthly_output")
    assert list(kj.frame.columns) == ["Month", "Cycling"]  # only cycling measured output
    assert len(kj.frame) == 13  # Nov 2025 .. Nov 2026
    assert dict(zip(kj.frame["Month"].dt.strftime("%Y-%m"), kj.frame["Cycling"], strict=False)) == {
        "2025-11": 100.0,
        "2025-12": 0.0,
        **{f"2026-{m:02}": 0.0 for m in range(1, 11)},
        "2026-11": 1070.0,
    }
    zones = chart_block(board, "monthly_zones")
    assert rows_of(zones)[-1][1:] == [5.0, 10.0, 10.0, 4.0, 1.0]
    assert sum(sum(row[1:]) for row in rows_of(zones)[:-1]) == 0
    assert zones.note == ""


def test_ride_output_with_its_rolling_average(board):
    block = chart_block(board, "ride_output")
    assert [r[1:] for r in rows_of(block)] == [[167.0, 167.0], [167.0, 167.0], [178.0, 170.7], [167.0, 169.8]]
    assert block.frame["Ride"].iloc[0] == pd.Timestamp("2025-11-20 07:00")


def test_metrics_are_found_by_slug_so_a_new_unit_label_keeps_the_ride_output(monkeypatch):
    monkeypatch.setitem(catalog.UNIT_NAMES, "watts", "W")  # only avg_output's unit label changes
    workouts, metrics = build_tables(hand_account())
    assert "Avg Output (W)" in metrics.frame.columns and "Avg Output (watts)" not in metrics.frame.columns
    block = chart_block(db.build_dashboard(workouts, metrics, NOW), "ride_output")
    assert [r[1:] for r in rows_of(block)] == [[167.0, 167.0], [167.0, 167.0], [178.0, 170.7], [167.0, 169.8]]
    assert block.note == ""


def test_headline_this_week_month_year_and_all_time(board):
    assert rows_of(board.headline) == [
        ["Workouts", 2, 4, 7, 8],
        ["Minutes", 50, 125, 190, 200],
        ["Output (kJ)", 300, 1070, 1070, 1170],
    ]


def test_records_by_class_length(board):
    records = rows_of(board.block("records"))
    assert [r[:3] for r in records] == [
        ["10 min", 100.0, 167.0],
        ["20 min", None, None],
        ["30 min", 320.0, 178.0],
        ["45 min", 450.0, 167.0],
        ["60 min", None, None],
    ]
    assert records[2][3] == pd.Timestamp("2026-11-16 07:00") and records[2][4] == "Cycling: 30 min cycling class"
    assert records[1][4] == "no ride yet"


def test_streaks_and_bests(board):
    bests = {row[0]: row[1:] for row in rows_of(board.block("bests"))}
    assert bests["Current weekly streak"][:2] == [2, pd.Timestamp("2026-11-16")]
    assert bests["Longest weekly streak"][:2] == [3, pd.Timestamp("2026-10-05")]
    assert bests["Longest ride"][:2] == [45.0, pd.Timestamp("2026-11-02 07:00")]
    assert bests["Farthest ride (mi)"][0] == 14.2
    assert bests["Most calories"][0] == 600.0
    assert board.block("bests").row_formats["Farthest ride (mi)"] == '0.0 "mi"'


@pytest.mark.parametrize(
    "days, expected",
    [
        ([], (0, 0)),
        (["2026-11-16"], (1, 1)),  # nothing yet this week: the streak is still alive
        (["2026-11-09"], (0, 1)),  # a whole week without one: over
        (["2026-11-02", "2026-11-09", "2026-11-25"], (1, 2)),
        (["2026-11-22", "2026-11-23"], (2, 2)),  # Sunday then Monday: two ISO weeks
    ],
)
def test_weekly_streak_rules(days, expected):
    pairs = [workout(f"s{i}", f"{day} 08:00", 20, "yoga") for i, day in enumerate(days)]
    current, _, longest, _ = db.weekly_streaks(db.workouts_frame(*build_tables(pairs))[0], NOW.date())
    assert (current, longest) == expected


def test_totals_by_discipline_and_top_instructors(board):
    assert rows_of(board.block("disciplines")) == [
        ["Cycling", 4, 115, 1170, 33.7],
        ["Running", 3, 65, 0, 0.0],
        ["Strength", 1, 20, 0, 0.0],
    ]
    assert rows_of(board.block("instructors")) == [["Ann", 3, 70], ["Ben", 3, 60], ["Cal", 1, 45]]


def test_top_instructors_stops_at_ten():
    pairs = [
        workout(f"i{n}", f"2026-11-{n + 1:02} 07:00", 20, "yoga", length=20, instructor=f"Coach {n:02}")
        for n in range(12)
    ]
    names = [row[0] for row in rows_of(db.build_dashboard(*build_tables(pairs), NOW).block("instructors"))]
    assert names == [f"Coach {n:02}" for n in range(10)]  # all tied: by name


def test_distances_follow_the_members_unit():
    account = make_account(60, seed=3, units="km", end=dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc))
    pairs = [(w, account.graph(w["id"], 300)) for w in account.workouts]
    board = db.build_dashboard(*build_tables(pairs), NOW)
    assert board.distance_unit == "km"
    assert "Distance (km)" in board.block("disciplines").frame.columns
    assert "Farthest ride (km)" in board.block("bests").row_formats


def test_a_new_discipline_gets_a_spare_colour_that_never_clashes():
    colours = db.discipline_colours(["Cycling", "Pilates", "Boxing"])
    assert colours["Cycling"] == "E4572E"
    assert colours["Boxing"] != colours["Pilates"] and {colours["Boxing"], colours["Pilates"]} <= set(db.SPARE_COLOURS)


@pytest.mark.parametrize(
    "pairs, notes",
    [
        (
            [],
            {"weekly_minutes", "ride_output", "monthly_output", "monthly_zones", "power_curve", "ftp_history"}
            | {"fitness", "power_zones"},
        ),
        (
            [workout("only", "2026-11-20 07:00", 30, "strength", length=30, instructor="Ben")],
            {"ride_output", "monthly_output", "monthly_zones", "power_curve", "ftp_history", "fitness", "power_zones"},
        ),
    ],
    ids=["empty", "strength-only-no-heart-rate"],
)
def test_small_accounts_get_notes_and_never_an_empty_series(pairs, notes):
    board = db.build_dashboard(*build_tables(pairs), NOW)
    assert {block.key for _, block in board.charts if block.note} == notes
    for _, block in board.charts:
        assert len(block.frame) >= 1 and len(block.frame.columns) >= 2


# --- the file: charts that follow their data -------------------------------------------------------


def chart_refs(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Chart name -> [(series name ref, values ref, categories ref)], read from the drawing and chart parts."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        drawing = next(n for n in names if n.startswith("xl/drawings/drawing") and n.endswith(".xml"))
        rels = {
            r.get("Id"): "xl/charts/" + r.get("Target").rsplit("/", 1)[-1]
            for r in ET.fromstring(z.read(drawing.replace("drawings/", "drawings/_rels/") + ".rels"))
        }
        xml = z.read(drawing).decode()
        frames = re.findall(r'<xdr:cNvPr id="\d+" name="([^"]+)".*?r:id="(rId\d+)"', xml, re.S)
        result = {}
        for name, rel in frames:
            chart = ET.fromstring(z.read(rels[rel]))
            # Scatter charts (the power curve) hold their values in yVal and xVal. A combination chart's
            # series are in c:order, whichever chart group (area, line) holds them.
            ordered = sorted(chart.iter(f"{C_NS}ser"), key=lambda s: int(s.find(f"{C_NS}order").get("val")))
            result[name] = [
                (s.find(f"{C_NS}tx//{C_NS}f").text, _formula(s, "val", "yVal"), _formula(s, "cat", "xVal"))
                for s in ordered
            ]
    return result


def _formula(series: ET.Element, *tags: str) -> str:
    found = [f for tag in tags for f in series.iterfind(f"{C_NS}{tag}//{C_NS}f")]
    return found[0].text


def cells(book, ref: str) -> list:
    sheet, area = re.fullmatch(r"'((?:[^']|'')+)'!(.+)", ref).groups()
    found = book[sheet.replace("''", "'")][area.replace("$", "")]
    if not isinstance(found, tuple):  # a single cell
        return [found.value]
    return [c.value for row in found for c in row]


def demo_pairs(account) -> list:
    return [(w, account.graph(w["id"], 300)) for w in account.workouts]


def refresh_file(path: Path, pairs, now=NOW) -> db.Dashboard:
    workouts, metrics = build_tables(pairs)
    board = db.build_dashboard(workouts, metrics, now)
    writer.write_tables(path, WorkbookContent(workouts, metrics, board, STATUS))
    return board


def assert_charts_read_their_blocks(path: Path, board: db.Dashboard) -> None:
    book = load_workbook(path)
    refs = chart_refs(path)
    assert set(refs) == db.chart_names()
    for spec, block in board.charts:
        series = refs[spec.key]
        assert [cells(book, name)[0] for name, _, _ in series] == list(block.frame.columns[1:])
        for _, values, categories in series:
            assert len(cells(book, values)) == len(cells(book, categories)) == len(block.frame) >= 1
        assert cells(book, series[0][1]) == [None if pd.isna(v) else v for v in block.frame.iloc[:, 1]]


def test_a_refresh_that_grows_the_data_moves_the_chart_ranges(workbook: Path):
    account = make_account(30, seed=5, end=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc), years=0.6)
    first = refresh_file(workbook, demo_pairs(account))
    assert_charts_read_their_blocks(workbook, first)
    parts_after_first = read_parts(workbook)

    account.add_workouts(40, at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))
    pairs = demo_pairs(account) + [workout("new", "2026-11-25 20:00", 30, "pilates", length=30)]
    second = refresh_file(workbook, pairs)

    assert_charts_read_their_blocks(workbook, second)
    grown = chart_block(second, "ride_output")
    assert len(grown.frame) > len(chart_block(first, "ride_output").frame)
    assert "Pilates" in chart_block(second, "weekly_minutes").frame.columns
    after = read_parts(workbook)
    assert sorted(n for n in after if n.startswith("xl/charts/")) == sorted(
        n for n in parts_after_first if n.startswith("xl/charts/")
    )  # reused, not piling up
    assert after["xl/vbaProject.bin"] == parts_after_first["xl/vbaProject.bin"]


def test_committed_workbook_opens_on_an_empty_dashboard():
    path = REPO / "PelotonWorkbook.xlsm"
    book = load_workbook(path)
    assert book.sheetnames[0] == "Dashboard" and book.active.title == "Dashboard"
    assert book["Dashboard"]["B2"].value.startswith("No workouts yet")
    assert set(chart_refs(path)) == db.chart_names()
    layout = json.loads((REPO / "workbook" / "layout.json").read_text(encoding="utf-8"))
    assert layout["dashboard"] == {"sheet": db.SHEET, "data_sheet": db.DATA_SHEET}


@pytest.mark.parametrize("n", [0, 1, 5])
def test_tiny_accounts_write_a_tidy_dashboard(workbook: Path, n: int):
    board = refresh_file(workbook, demo_pairs(make_account(n, seed=2)) if n else [])
    assert_charts_read_their_blocks(workbook, board)
    dash = load_workbook(workbook)["Dashboard"]
    text = [c.value for row in dash.iter_rows() for c in row if isinstance(c.value, str)]
    if n == 0:
        assert "No workouts in the last 52 weeks yet." in text and "No rides with output yet." in text


def test_an_old_workbook_gets_the_dashboard_first_and_nothing_else_changes(tmp_path: Path):
    path = make_workbook(tmp_path / "Old.xlsm")
    original = shutil.copy(path, tmp_path / "Original.xlsm")
    before = read_parts(path)
    old_sheets = sheet_parts(path)
    book_xml = before["xl/workbook.xml"].decode()
    refresh_file(path, hand_account())

    wb = load_workbook(path, keep_vba=True)
    assert wb.sheetnames[0] == "Dashboard" and wb.sheetnames[-1] == "Dashboard Data"
    assert wb.active.title == load_workbook(original).active.title  # the member's sheet stays in front
    after = read_parts(path)
    rewritten = {
        old_sheets["Workouts"],
        old_sheets["Metrics"],
        old_sheets["Config"],
        "xl/styles.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/tables/table1.xml",
        "xl/tables/table2.xml",
    }
    for name, data in before.items():
        if name not in rewritten:
            assert after[name] == data, name
    new_book = after["xl/workbook.xml"].decode()
    active = re.search(r'activeTab="(\d+)"', book_xml)
    assert re.search(r'activeTab="(\d+)"', new_book).group(1) == str(int(active.group(1)) + 1 if active else 1)


def test_sheet_scoped_names_keep_their_sheet_when_the_dashboard_goes_first(tmp_path: Path):
    path = make_workbook(tmp_path / "Old.xlsm")
    name = '<definedName name="_xlnm.Print_Titles" localSheetId="5">\'My Analysis\'!$1:$1</definedName>'
    edit_zip(
        path,
        lambda parts: parts.update(
            {
                "xl/workbook.xml": parts["xl/workbook.xml"].replace(
                    b"</definedNames>", name.encode() + b"</definedNames>"
                )
            }
        ),
    )
    refresh_file(path, hand_account())
    assert 'localSheetId="6"' in read_parts(path)["xl/workbook.xml"].decode()
    assert load_workbook(path)["My Analysis"].print_title_rows == "$1:$1"


def test_a_shape_the_member_put_on_the_dashboard_refuses_but_our_charts_do_not(workbook: Path):
    refresh_file(workbook, hand_account())
    refresh_file(workbook, hand_account())  # its own four charts are no obstacle
    add_shape(workbook, sheet_parts(workbook)["Dashboard"])
    before = workbook.read_bytes()
    with pytest.raises(WorkbookError, match="Dashboard sheet holds 1 shape"):
        refresh_file(workbook, hand_account())
    assert workbook.read_bytes() == before


def type_into(workbook: Path, sheet: str, ref: str, text: str) -> None:
    """A member's note typed into a cell of `sheet`, as any spreadsheet program stores it."""
    part = sheet_parts(workbook)[sheet]

    def edit(parts):
        parts[part] = cell_edit.set_cell(parts[part].decode(), ref, value_tail(text)).encode()

    edit_zip(workbook, edit)


@pytest.mark.parametrize("sheet, ref", [("Dashboard", "V2"), ("Dashboard Data", "ZZ3")])
def test_a_note_typed_on_a_drawn_sheet_outside_its_blocks_is_refused_by_address(workbook: Path, sheet, ref):
    refresh_file(workbook, hand_account())
    type_into(workbook, sheet, ref, "my FTP test went well")
    before = workbook.read_bytes()
    with pytest.raises(WorkbookError) as caught:
        refresh_file(workbook, hand_account())
    assert str(caught.value).startswith(
        f"{sheet}!{ref}: a refresh redraws the {sheet} sheet; move them to your own sheet"
    )
    assert workbook.read_bytes() == before


def test_the_dashboards_own_cells_are_no_obstacle_and_a_workbook_without_the_record_is_not_refused(workbook: Path):
    refresh_file(workbook, hand_account())
    type_into(workbook, "Dashboard", "B2", "over one of its own figures")  # inside a block: the refresh's
    refresh_file(workbook, hand_account())

    def forget_the_record(parts):  # as a workbook written before the record existed
        parts["xl/workbook.xml"] = re.sub(
            rb'<definedName name="PelotonXL_Dashboard_Cells"[^>]*>.*?</definedName>', b"", parts["xl/workbook.xml"]
        )

    edit_zip(workbook, forget_the_record)
    type_into(workbook, "Dashboard", "V2", "typed long ago")
    refresh_file(workbook, hand_account())  # checked from now on
    assert "PelotonXL_Dashboard_Cells" in read_parts(workbook)["xl/workbook.xml"].decode()


# --- through Excel (the stand-in) ------------------------------------------------------------------


def test_live_refresh_builds_the_charts_once_and_repoints_them_as_the_data_grows():
    book = Book()
    book.sheets.add("Config")
    account = make_account(30, seed=5, end=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc), years=0.6)

    def refresh(pairs) -> db.Dashboard:
        workouts, metrics = build_tables(pairs)
        board = db.build_dashboard(workouts, metrics, NOW)
        live_writer.write_tables_live(real_api(book), WorkbookContent(workouts, metrics, board))
        return board

    first = refresh(demo_pairs(account))
    assert [s.name for s in book.sheets][:2] == ["Dashboard", "Config"]
    charts = {c.name: c for c in book.sheets["Dashboard"].charts}
    assert set(charts) == db.chart_names()
    assert charts["PelotonWeeklyVolume"].chart_type == "column_stacked"
    assert charts["PelotonRideOutput"].chart_type == "line"

    account.add_workouts(40, at=dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc))
    second = refresh(demo_pairs(account))

    assert {c.name: c for c in book.sheets["Dashboard"].charts} == charts  # the same charts, made once
    assert len(book.calls_of("charts.add")) == len(db.chart_names())
    data = book.sheets["Dashboard Data"]
    for spec, block in second.charts:
        grid = data.grid(charts[spec.key].source)
        assert grid[0][1:] == list(block.frame.columns[1:])  # series names
        assert len(grid) == len(block.frame) + 1 and grid[0][0] is None  # header + rows
        assert any(v is not None for row in grid[1:] for v in row[1:]) or block.note
    ride_rows = charts["PelotonRideOutput"].source.shape[0]
    assert (
        ride_rows
        == len(chart_block(second, "ride_output").frame) + 1
        > len(chart_block(first, "ride_output").frame) + 1
    )
    # Nothing stale left below the shorter blocks of the first refresh
    assert data.used_range.last_row == max(len(b.frame) for _, b in second.charts) + 2


# --- a real spreadsheet application ----------------------------------------------------------------


@pytest.mark.libreoffice
def test_libreoffice_renders_the_dashboard_with_its_charts(workbook: Path, tmp_path: Path):
    refresh_file(workbook, demo_pairs(make_account(120, seed=4, end=dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc))))
    pdf = libreoffice.convert(workbook, "pdf", tmp_path)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    for text in (
        "Peloton dashboard",
        "Minutes per week, 52 weeks",
        "Average output per ride",
        "Total output per month",
        "Time in heart-rate zones per month",
        "Watts (W)",
        "Output (kJ)",
        "Best ride output by class length",
        "Top 10 instructors",
        "Cycling",
    ):
        assert text in page, text


def live_refreshed_book() -> tuple[Book, WorkbookContent]:
    """A book refreshed once through the stand-in, and what the refresh wrote."""
    book = Book()
    book.sheets.add("Config")
    workouts, metrics = build_tables(hand_account())
    content = WorkbookContent(workouts, metrics, db.build_dashboard(workouts, metrics, NOW))
    live_writer.write_tables_live(real_api(book), content)
    return book, content


def test_live_a_note_typed_on_the_dashboard_outside_its_blocks_is_refused_by_address():
    book, content = live_refreshed_book()
    live_writer.write_tables_live(real_api(book), content)  # its own cells are no obstacle
    book.sheets["Dashboard"].fill("V2", [["my FTP test went well"]])
    with pytest.raises(WorkbookError, match=r"^Dashboard!V2: a refresh redraws the Dashboard sheet"):
        live_writer.write_tables_live(real_api(book), content)
    assert book.sheets["Dashboard"].range("V2").value == "my FTP test went well"


def test_live_charts_renamed_by_another_program_are_recognised_where_they_stand():
    book, content = live_refreshed_book()
    ours = list(book.sheets["Dashboard"].charts)
    for number, chart in enumerate(ours, start=1):
        chart.name = f"Chart {number}"  # as openpyxl's save names the frames
    live_writer.write_tables_live(real_api(book), content)
    after = list(book.sheets["Dashboard"].charts)
    assert after == ours  # no second set of charts on top of the first
    assert {c.name for c in after} == db.chart_names()  # and their names are back
    assert len(book.calls_of("charts.add")) == len(db.chart_names())
