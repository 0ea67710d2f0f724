"""Issue 26: one unit per quantity, and every surface agrees. One real refresh of a demo account into a real
.xlsm plus the export; then every metric of every workout is walked through every surface: the Metrics sheet
(as the file holds it), PELOTON_METRIC, PELOTON_SERIES, the three Parquet files, the Dashboard's records and
the Ride sheet. A pace is one duration everywhere: a fraction of a day on the sheet and from both functions,
whole seconds in the export (8:28 a mile is 508/86400 and 508).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from support import PASSWORD, REPO, USERNAME, settings_for

import peloton_xl
from pelotonxl.demo.account import DemoAccount, make_account
from pelotonxl.demo.server import FakePeloton
from pelotonxl.export import export_store
from pelotonxl.model.dashboard_layout import plan
from pelotonxl.model.units import export_column, is_pace
from pelotonxl.model.workbook import WorkbookContent
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.refresh_job import run_refresh
from pelotonxl.settings import DEFAULT_EVERY_N, Settings
from pelotonxl.state import StateFolder
from pelotonxl.xlsx import writer

pytestmark = pytest.mark.e2e  # a refresh over HTTP

DAY = 86400


@dataclass
class Surfaces:
    account: DemoAccount
    settings: Settings
    content: WorkbookContent
    book: Path
    export: Path


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory) -> Surfaces:
    """One refresh into a copy of the committed workbook at the default 5-second sampling, then the export;
    the server is gone before any answer is read."""
    root = tmp_path_factory.mktemp("units")
    book = root / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    account = make_account(40, seed=11)
    written: list[WorkbookContent] = []

    def write(content: WorkbookContent) -> None:
        written.append(content)
        writer.write_tables(book, content)

    with FakePeloton(account, username=USERNAME, password=PASSWORD) as server:
        settings = settings_for(server, root / "home", every_n=DEFAULT_EVERY_N)
        assert run_refresh(settings, write).exit_code == 0
    state = StateFolder(settings.home)
    with WorkoutStore(state.store_file(state.last_account())) as store:
        export_store(store.records, root / "export")
    return Surfaces(account, settings, written[0], book, root / "export")


@pytest.fixture
def at(surfaces, monkeypatch) -> Surfaces:
    monkeypatch.setenv("PELOTON_XL_HOME", surfaces.settings.home)
    return surfaces


def sheet_rows(book: Path, sheet: str) -> dict[str, dict[str, object]]:
    """Workout ID -> {header: the cell as a number}: a duration (openpyxl reads one under [m]:ss or [h]:mm:ss
    as a timedelta) back to the fraction of a day the file holds."""
    rows = list(load_workbook(book, read_only=True)[sheet].iter_rows(values_only=True))
    header = rows[0]
    out = {}
    for row in rows[1:]:
        pairs = zip(header, row, strict=False)  # read-only rows stop at their last cell
        cells = {h: (v.total_seconds() / DAY if isinstance(v, dt.timedelta) else v) for h, v in pairs}
        out[str(cells["Workout ID"])] = cells
    return out


def parquet(surfaces: Surfaces, name: str) -> pd.DataFrame:
    return pd.read_parquet(surfaces.export / f"{name}.parquet")


def test_every_metric_reads_the_same_on_the_sheet_from_the_function_and_in_the_export(at):
    metrics = at.content.metrics
    sheet = sheet_rows(at.book, "Metrics")
    exported = parquet(at, "metrics").set_index("workout_id")
    checked = paces = 0
    for (slug, unit), header in metrics.metric_columns.items():
        column, factor = export_column(slug, unit)
        for wid, cells in sheet.items():
            value = cells[header]
            if value is None:
                assert pd.isna(exported.loc[wid, column])
                continue
            assert peloton_xl.PELOTON_METRIC(wid, slug) == pytest.approx(value), (wid, header)
            # The export's unit: a duration's day fraction in seconds, minutes in seconds, the rest as is.
            in_export = value * DAY if is_pace(slug, unit) else value * factor
            assert exported.loc[wid, column] == pytest.approx(in_export, abs=0.5 if factor != 1 else 1e-9), column
            checked += 1
            paces += is_pace(slug, unit)
    assert checked > 300 and paces >= 3  # every quantity of 40 workouts, runs' and rows' paces among them
    assert {"avg_pace_s_per_mi", "avg_split_pace_s_per_500m", "avg_output_w", "hr_zone_1_s"} <= set(exported.columns)


def test_a_pace_is_one_duration_on_the_sheet_through_both_functions_and_in_pandas(at):
    """What a new user sees: the sheet's m:ss, PELOTON_METRIC's and PELOTON_SERIES' numbers under [m]:ss, and
    the export's seconds are one and the same pace."""
    run = next(w for w in at.account.workouts if w["fitness_discipline"] == "running" and w["metrics_type"])
    cell = load_workbook(at.book)["Metrics"]
    header = [c.value for c in cell[1]]
    row = next(r for r in cell.iter_rows(min_row=2) if r[0].value == run["id"])
    pace_cell = row[header.index("Avg Pace (min/mi)")]
    assert pace_cell.number_format == "[m]:ss"
    seconds = round(pace_cell.value.total_seconds())
    assert peloton_xl.PELOTON_METRIC(run["id"], "avg_pace") * DAY == pytest.approx(seconds)
    assert parquet(at, "metrics").set_index("workout_id").loc[run["id"], "avg_pace_s_per_mi"] == seconds
    samples = peloton_xl.PELOTON_SERIES(run["id"], "pace")
    exported = parquet(at, "series")
    exported = exported[exported["workout_id"] == run["id"]]
    assert [None if v is None else round(v * DAY) for v in samples] == [
        None if pd.isna(v) else int(v) for v in exported["pace_s_per_mi"]
    ]
    # Samples and average are one unit: the samples' mean lies within the run's own paces, near its average.
    known = [v * DAY for v in samples if v is not None]
    assert min(known) <= seconds <= max(known)


def test_every_sampled_metric_of_every_graph_is_the_same_from_peloton_series_and_in_the_export(at):
    series = parquet(at, "series")
    names = [c for c in series.columns if c not in ("workout_id", "elapsed_s")]
    compared = 0
    for workout in at.account.workouts:
        mine = series[series["workout_id"] == workout["id"]]
        graph = at.account.graph(workout["id"], DEFAULT_EVERY_N)
        for entry in (e for m in graph.get("metrics") or [] for e in [m, *(m.get("alternatives") or [])]):
            column, _ = export_column(entry["slug"], entry.get("display_unit"))
            assert column in names
            answered = peloton_xl.PELOTON_SERIES(workout["id"], entry["slug"])
            scale = DAY if is_pace(entry["slug"], entry.get("display_unit")) else 1
            got = [None if v is None else v * scale for v in answered]
            want = [None if pd.isna(v) else v for v in mine[column]]
            assert got == [pytest.approx(v) if v is not None else None for v in want], (workout["id"], column)
            compared += 1
    assert compared > 50


def test_workouts_agree_on_the_sheet_and_in_the_export_start_utc_and_iso_week_included(at):
    sheet = sheet_rows(at.book, "Workouts")
    exported = parquet(at, "workouts").set_index("workout_id")
    for workout in at.account.workouts:
        cells, row = sheet[workout["id"]], exported.loc[workout["id"]]
        utc = dt.datetime.fromtimestamp(workout["start_time"], dt.timezone.utc)
        assert cells["Start (UTC)"] == utc.replace(tzinfo=None)
        assert row["start_utc"].to_pydatetime() == utc
        assert row["start_local"].to_pydatetime() == cells["Start"]
        assert cells["ISO Week"] == row["iso_week"] == "{}-W{:02d}".format(*cells["Start"].isocalendar()[:2])
        assert row["duration_s"] == round(cells["Duration"] * DAY)
        if cells["Class Length (min)"] is not None:
            assert row["class_length_s"] == pytest.approx(cells["Class Length (min)"] * 60, abs=0.5)
        if cells["Total Output (kJ)"] is not None:
            assert row["total_output_kj"] == cells["Total Output (kJ)"]
            assert peloton_xl.PELOTON_METRIC(workout["id"], "total_output") == cells["Total Output (kJ)"]


def test_the_dashboard_records_and_the_ride_sheet_show_the_same_numbers(at):
    """The records' kJ and W are the ride's Metrics figures; the Ride sheet's kJ and output samples are
    PELOTON_METRIC's and PELOTON_SERIES' for the latest ride, in the same units."""
    metrics = sheet_rows(at.book, "Metrics")
    by_start = {cells["Start"]: wid for wid, cells in metrics.items()}
    book = load_workbook(at.book)
    board = at.content.dashboard
    records = next(r for r in plan(board).dashboard if r.cells[0][0].value == board.block("records").title)
    shown = book["Dashboard"]
    seen = 0
    for offset in range(len(board.block("records").frame)):
        row = records.row + 2 + offset
        kj, watts, when = (shown.cell(row, records.col + c).value for c in (1, 2, 3))
        if kj is None:
            continue
        wid = by_start[when]
        assert kj == metrics[wid]["Total Output (kJ)"] == peloton_xl.PELOTON_METRIC(wid, "total_output")
        assert watts == metrics[wid]["Avg Output (watts)"] == peloton_xl.PELOTON_METRIC(wid, "avg_output")
        seen += 1
    assert seen >= 2

    ride = book["Ride"]
    labels = {ride.cell(r, c).value: (r, c) for r in range(1, 60) for c in range(1, 12)}
    r, c = labels["Total output (kJ)"]
    assert ride.cell(r, c + 1).value == peloton_xl.PELOTON_METRIC("latest ride", "total_output")
    data = book["Ride Data"]
    header = [cell.value for cell in data[1]]
    if "Output (W)" not in header:  # the data block may start under a title row
        header = [cell.value for cell in data[2]]
        first = 3
    else:
        first = 2
    col = header.index("Output (W)") + 1
    drawn = [data.cell(r, col).value for r in range(first, data.max_row + 1)]
    while drawn and drawn[-1] is None:
        drawn.pop()
    assert drawn == peloton_xl.PELOTON_SERIES("latest ride", "output")
