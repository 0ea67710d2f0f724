"""The website's "Download Workouts" CSV: read, imported into the store and every sheet, replaced by the
API's record of the same workout later (the member's notes following it), idempotent."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.table import TableColumn
from support import table_values
from support.live_book import make_book
from support.xlwings_autospec import real_api

from pelotonxl import ribbon
from pelotonxl.demo.account import make_account
from pelotonxl.demo.csv_export import header, workout_history_csv
from pelotonxl.errors import ConfigError
from pelotonxl.excel.functions import MetricIndex
from pelotonxl.model.catalog import ZERO_RIDE_ID
from pelotonxl.model.workbook import follow_renamed
from pelotonxl.peloton.csv_import import CSV_ID_PREFIX, match_key, parse_csv, read_csv
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.settings import resolve

FIXTURES = Path(__file__).parent / "fixtures"
US = "workout_history_csv_us.csv"  # the shared samples' two unit variants, as the website writes them
METRIC = "workout_history_csv_metric.csv"


def sample(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    return target


# ---- reading the file ----------------------------------------------------------------------------


def test_the_us_sample_reads_as_six_workouts_with_local_times_percent_and_empty_cells(tmp_path):
    got = read_csv(sample(tmp_path, US))
    assert got.rows == 6 and len(got.records) == 6 and got.problems == []
    ride, graph = got.records[0]
    assert ride["id"].startswith(CSV_ID_PREFIX) and len(ride["id"]) == 32
    assert ride["start_time"] == datetime(2026, 11, 30, 11, 12, tzinfo=timezone.utc).timestamp()  # 06:12 EST
    assert ride["timezone"] == "America/New_York" and ride["total_work"] == 312000
    values = {s["slug"]: (s["value"], s["display_unit"]) for s in graph["summaries"] + graph["average_summaries"]}
    assert values["avg_resistance"] == (47, "%") and values["distance"] == (9.92, "mi")
    assert "avg_incline" not in values  # empty: not measured
    just_ride = got.records[2][0]
    assert just_ride["ride"]["id"] == ZERO_RIDE_ID and just_ride["ride"]["instructor"] is None
    run = dict((s["slug"], s["value"]) for s in got.records[3][1]["average_summaries"])
    assert run["avg_pace"] == 8.8  # decimal minutes, as the API sends a pace


def test_the_metric_sample_reads_kilometres_and_gives_the_same_ride_the_same_id(tmp_path):
    us = read_csv(sample(tmp_path, US)).records
    metric = read_csv(sample(tmp_path, METRIC)).records
    assert metric[0][0]["id"] == us[0][0]["id"]  # 12:12 CET is 06:12 EST: one workout, one id
    assert metric[0][0]["timezone"] == "Europe/Berlin"
    units = {s["slug"]: s["display_unit"] for s in metric[1][1]["summaries"] + metric[1][1]["average_summaries"]}
    assert units["distance"] == "km" and units["avg_speed"] == "kph" and units["avg_pace"] == "min/km"


def test_a_bad_row_is_named_by_file_line_and_column_and_the_rest_is_read():
    text = (
        ",".join(header("mi")) + "\n"
        "2026-11-30 06:12 (EST),On Demand,A,30,Cycling,Intervals,30 min HIIT Ride,,312,173,47%,86,19.8,9.9,402,,,\n"
        "yesterday,On Demand,A,30,Cycling,Intervals,30 min Climb Ride,,312,173,47%,86,19.8,9.9,402,,,\n"
        "2026-11-29 06:12 (XYZ),On Demand,A,30,Cycling,Intervals,30 min Climb Ride,,1,1,1,1,1,1,1,,,\n"
        "2026-11-28 06:12 (EST),On Demand,A,30,Cycling,Intervals,30 min Pop Ride,,lots,173,47%,86,19.8,9.9,402,,,\n"
        "2026-11-27 06:12 (EST),On Demand,A,30,,Intervals,30 min Pop Ride,,1,1,1,1,1,1,1,,,\n"
    )
    got = parse_csv(text, "mine.csv")
    assert [w["ride"]["title"] for w, _ in got.records] == ["30 min HIIT Ride", "30 min Pop Ride"]
    assert got.problems[0].startswith("mine.csv, line 3, column Workout Timestamp: 'yesterday' is not a date")
    assert got.problems[1].startswith("mine.csv, line 4, column Workout Timestamp: the time zone 'XYZ'")
    assert got.problems[2] == "mine.csv, line 5, column Total Output: 'lots' is not a number (left blank)"
    assert got.problems[3].startswith("mine.csv, line 6, column Fitness Discipline: empty")
    assert got.records[1][0]["total_work"] is None


def test_a_file_that_is_not_the_workout_csv_is_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"other\.csv, line 1: no Workout Timestamp column"):
        parse_csv("Date,Steps\n2026-11-30,1000\n", "other.csv")
    with pytest.raises(ConfigError, match="Cannot read the CSV"):
        read_csv(tmp_path / "missing.csv")


def test_every_demo_workout_matches_its_own_csv_row():
    account = make_account(40, seed=3)
    rows = parse_csv(workout_history_csv(account), "demo.csv")
    assert rows.problems == [] and len(rows.records) == 40
    assert {match_key(w) for w, _ in rows.records} == {match_key(w) for w in account.workouts}


ZONE = st.sampled_from(["EST", "EDT", "CET", "CEST", "GMT", "BST", "PST", "AEDT", "NZDT", "UTC", "+05:30", "-03"])


@given(
    rows=st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31)),
            ZONE,
            st.sampled_from(["Cycling", "Running", "Rowing", "Strength", "Yoga"]),
            st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip),
            st.sampled_from(["", "Ann Lee"]),
        ),
        max_size=12,
    )
)
@example(rows=[(datetime(2026, 3, 8, 2, 30), "EST", "Cycling", "x", "")])  # inside New York's spring gap
def test_importing_is_stable_and_one_id_is_one_workout(rows):
    lines = [",".join(header("mi"))]
    for when, zone, discipline, title, instructor in rows:
        cells = [f"{when:%Y-%m-%d %H:%M} ({zone})", "On Demand", instructor, "20", discipline, "", title]
        lines.append(_csv_line(cells + [""] * 11))
    text = "\n".join(lines) + "\n"
    first, second = parse_csv(text, "a.csv"), parse_csv(text, "a.csv")
    assert [w for w, _ in first.records] == [w for w, _ in second.records]
    ids = [w["id"] for w, _ in first.records]
    assert len(ids) == len(set(ids)) == len({match_key(w) for w, _ in first.records})
    assert first.problems == []


def _csv_line(cells: list[str]) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


# ---- into the workbook ------------------------------------------------------------------------------


def add_notes(path: Path, notes: dict[str, str]) -> None:
    """A "My Notes" column typed at the end of the Workouts table, as a member would (saved by openpyxl)."""
    wb = load_workbook(path, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    last_col = len(table.tableColumns) + 1
    ws.cell(1, last_col, "My Notes")
    for row in range(2, ws.max_row + 1):
        note = notes.get(ws.cell(row, 1).value)
        if note:
            ws.cell(row, last_col, note)
    table.tableColumns.append(TableColumn(id=last_col, name="My Notes"))
    first, rest = table.ref.split(":")
    from openpyxl.utils import get_column_letter

    table.ref = f"{first}:{get_column_letter(last_col)}{rest.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
    table.autoFilter.ref = table.ref
    wb.save(path)


def notes_by_id(path: Path) -> dict[str, str]:
    _, rows = table_values(path, "Workouts")
    head = rows[0]
    at, wid = head.index("My Notes"), head.index("Workout ID")
    return {row[wid]: row[at] for row in rows[1:] if row[at]}


def test_cli_imports_a_sample_into_every_sheet_marked_from_csv(tmp_path, workbook, home, run_cli, server):
    csv_file = sample(tmp_path, US)
    done = run_cli(server, workbook, home, "--import-csv", str(csv_file))
    assert done.returncode == 0, done.stderr
    assert "6 workouts (6 new from workout_history_csv_us.csv)" in done.stdout
    assert server.requests == []  # no sign-in, no request: the way in when signing in is what broke
    _, rows = table_values(workbook, "Workouts")
    head = rows[0]
    assert len(rows) == 7 and {r[head.index("Status")] for r in rows[1:]} == {"From CSV"}
    just = next(r for r in rows[1:] if r[head.index("Class Title")] == "20 min Just Ride")
    assert just[head.index("Live/On-demand")] == "Just Ride" and just[head.index("Instructor")] is None
    _, metrics = table_values(workbook, "Metrics")
    assert "Avg Resistance (%)" in metrics[0] and "Distance (mi)" in metrics[0]

    again = run_cli(server, workbook, home, "--import-csv", str(csv_file))
    assert again.returncode == 0 and "6 workouts (0 new from" in again.stdout
    assert table_values(workbook, "Workouts")[1] == rows  # the same file twice changes nothing


def test_cli_names_bad_rows_imports_the_rest_and_exits_3(tmp_path, workbook, home, run_cli, server):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        sample(tmp_path, US).read_text(encoding="utf-8")
        + "not a time,On Demand,A,30,Cycling,Intervals,30 min Climb Ride,,1,1,1,1,1,1,1,,,\n",
        encoding="utf-8",
    )
    done = run_cli(server, workbook, home, "--import-csv", str(bad))
    assert done.returncode == 3
    assert "bad.csv, line 8, column Workout Timestamp: 'not a time' is not a date" in done.stderr
    assert len(table_values(workbook, "Workouts")[1]) == 7


def test_the_api_replaces_the_csv_rows_and_the_notes_follow(tmp_path, workbook, home, run_cli, server, account):
    csv_file = tmp_path / "workouts.csv"
    csv_file.write_text(workout_history_csv(account), encoding="utf-8")
    # A new member whose sign-in is broken: no token saved, the CSV is the way in.
    imported = run_cli(server, workbook, home, "--import-csv", str(csv_file))
    assert imported.returncode == 0, imported.stderr
    _, rows = table_values(workbook, "Workouts")
    assert len(rows) - 1 == len(account.workouts)
    head = rows[0]
    by_title = {r[head.index("Workout ID")]: (r[head.index("Start")], r[head.index("Class Title")]) for r in rows[1:]}
    typed = {wid: f"note {i}" for i, wid in enumerate(list(by_title)[:5])}
    add_notes(workbook, typed)

    refreshed = run_cli(server, workbook, home)
    assert refreshed.returncode == 0, refreshed.stderr
    _, rows = table_values(workbook, "Workouts")
    assert len(rows) - 1 == len(account.workouts)  # 40, not 80
    ids = {r[head.index("Workout ID")] for r in rows[1:]}
    assert ids == {w["id"] for w in account.workouts}  # every CSV row gave way to the API's
    notes = notes_by_id(workbook)
    assert sorted(notes.values()) == sorted(typed.values())
    after = {r[head.index("Workout ID")]: (r[head.index("Start")], r[head.index("Class Title")]) for r in rows[1:]}
    for csv_id, note in typed.items():
        api_id = next(wid for wid, text in notes.items() if text == note)
        assert after[api_id][0].replace(second=0) == by_title[csv_id][0]  # beside the same workout

    # The CSV again, after the API: nothing changes.
    again = run_cli(server, workbook, home, "--import-csv", str(csv_file))
    assert again.returncode == 0 and len(table_values(workbook, "Workouts")[1]) == len(rows)


def test_the_config_cell_imports_as_the_flag_does(tmp_path, workbook, home, run_cli, server):
    done = run_cli(server, workbook, home, PELOTON_IMPORT_CSV=str(sample(tmp_path, METRIC)))
    assert done.returncode == 0, done.stderr
    assert "2 workouts (2 new from workout_history_csv_metric.csv)" in done.stdout and server.requests == []


def test_a_full_refresh_keeps_csv_rows_peloton_does_not_list_and_renames_are_kept(tmp_path):
    us = read_csv(sample(tmp_path, US)).records
    with WorkoutStore(tmp_path / "store.sqlite") as store:
        assert store.import_records(us) == 6 and store.import_records(us) == 0
        api = dict(us[0][0], id="a" * 32, status="COMPLETE")  # the API's record of the first CSV row
        store.save_workouts([api])
        assert store.renamed_ids() == {us[0][0]["id"]: "a" * 32} and store.count() == 6
        assert store.finish_full_sync({"a" * 32}, None) == 0 and store.count() == 6
        assert store.import_records(us) == 0  # the replaced row does not come back


def test_notes_follow_a_renamed_id_unless_the_new_id_has_its_own():
    kept = {"csv-1": "typed on the CSV row", "csv-2": "older", "b": "typed on the API row", "c": "other"}
    moved = follow_renamed(kept, {"csv-1": "a", "csv-2": "b"})
    assert moved == {"a": "typed on the CSV row", "b": "typed on the API row", "c": "other"}
    assert follow_renamed(kept, {}) is kept


def test_a_relative_import_file_on_the_config_sheet_is_beside_the_workbook(tmp_path):
    settings = resolve(config={"import_csv": "workouts.csv"}, environ={}, workbook=tmp_path / "Book.xlsm")
    assert settings.import_csv == str(tmp_path / "workouts.csv")
    assert resolve({"import_csv": "workouts.csv"}, environ={}).import_csv == "workouts.csv"  # a flag: the shell's


def test_the_ribbon_imports_the_file_named_on_the_config_sheet(tmp_path, server, home):
    book = make_book(server, home)
    book.sheets["Config"].fill("A12", [["Import CSV file", str(sample(tmp_path, US))]])

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is not None and result.exit_code == 0 and result.imported is not None
    assert result.rows == 6 and server.requests == []
    assert book.app.alerts == []  # a quiet success, as a refresh's


def test_the_worksheet_functions_answer_for_a_csv_workout(tmp_path):
    records = read_csv(sample(tmp_path, US)).records
    index = MetricIndex.build(records)
    ride_id = records[0][0]["id"]
    assert index.value(ride_id, "calories") == 402 and index.value(ride_id.upper(), "Avg Resistance") == 47
