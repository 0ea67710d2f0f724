"""The worksheet functions, called as plain Python: answers from the local store, never the network."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from support import PASSWORD, REPO, USERNAME, settings_for

import peloton_xl
from pelotonxl.demo.account import DemoAccount, make_account
from pelotonxl.demo.server import FakePeloton
from pelotonxl.excel import functions
from pelotonxl.model import tables
from pelotonxl.refresh_job import run_refresh
from pelotonxl.settings import DEFAULT_EVERY_N, Settings

e2e = pytest.mark.e2e  # their shared store comes from a refresh over HTTP: not the unit tier


def refresh(settings):
    """A real refresh against the local server; the tables are what the workbook would get."""
    written = {}
    run_refresh(settings, lambda content: written.update({t.name: t for t in [*content.tables, content.dashboard]}))
    return written


@dataclass
class Stored:
    account: DemoAccount
    settings: Settings
    written: dict


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Stored:
    """One headless refresh at the product's default sampling (what PELOTON_SERIES answers a member),
    then the server goes away: every answer below must come from the store. The stories only read it,
    so they share it."""
    account = make_account(40, seed=11)
    with FakePeloton(account, username=USERNAME, password=PASSWORD) as server:
        settings = settings_for(server, tmp_path_factory.mktemp("lookup") / "home", every_n=DEFAULT_EVERY_N)
        written = refresh(settings)
    return Stored(account, settings, written)


@pytest.fixture
def refreshed(stored, monkeypatch) -> Stored:
    monkeypatch.setenv("PELOTON_XL_HOME", stored.settings.home)
    return stored


def metrics_row(written, workout_id):
    frame = written["Metrics"].frame
    return frame[frame["Workout ID"] == workout_id].iloc[0]


def cycling_workout(account):
    return next(
        w for w in account.workouts if w["fitness_discipline"] == "cycling" and w.get("ride", {}).get("instructor")
    )


@e2e
def test_by_workout_id_slug_and_display_name(refreshed):
    account = refreshed.account
    ride = cycling_workout(account)
    expected = metrics_row(refreshed.written, ride["id"])["Avg Output (watts)"]
    assert peloton_xl.PELOTON_METRIC(ride["id"], "avg_output") == expected
    assert peloton_xl.PELOTON_METRIC(ride["id"], "Avg Output") == expected
    assert peloton_xl.PELOTON_METRIC(ride["id"].upper(), "AVG OUTPUT (watts)") == expected
    hr = metrics_row(refreshed.written, ride["id"])["Avg Heart Rate (bpm)"]
    assert peloton_xl.PELOTON_METRIC(ride["id"], "avg_heart_rate") == hr


@e2e
def test_latest_and_dates(refreshed):
    account = refreshed.account
    newest = account.workouts[0]
    start = tables.local_start(newest)
    calories = metrics_row(refreshed.written, newest["id"])["Calories (kcal)"]
    assert peloton_xl.PELOTON_METRIC("latest", "calories") == calories
    assert peloton_xl.PELOTON_METRIC(start, "Calories") == calories  # a date-time
    assert peloton_xl.PELOTON_METRIC(start.replace(second=0), "calories") == calories  # same minute
    serial = (start - datetime(1899, 12, 30)) / timedelta(days=1)  # an Excel serial
    assert peloton_xl.PELOTON_METRIC(serial, "calories") == calories
    day = datetime(start.year, start.month, start.day)  # a bare date: latest that day
    assert peloton_xl.PELOTON_METRIC(day, "calories") == calories
    assert peloton_xl.PELOTON_WORKOUTS_ON(day)[0] == [newest["id"]]


@e2e
def test_latest_of_a_discipline_skips_the_newer_workouts_of_others(refreshed):
    """After a yoga class "latest" has no Avg Output; "latest ride" still answers the last ride's."""
    newest = {}
    for workout in refreshed.account.workouts:  # newest first
        newest.setdefault(workout["fitness_discipline"], workout)
    ride, run, row, walk = (newest[d] for d in ("cycling", "running", "caesar", "walking"))
    assert refreshed.account.workouts[0]["id"] != ride["id"]  # something else came after the last ride
    assert (
        peloton_xl.PELOTON_METRIC("latest ride", "avg_output")
        == metrics_row(refreshed.written, ride["id"])["Avg Output (watts)"]
    )
    assert peloton_xl.PELOTON_METRIC(" Latest  RIDE ", "Avg Output") == peloton_xl.PELOTON_METRIC(
        ride["id"], "avg_output"
    )
    for kind, workout in (("run", run), ("row", row), ("walk", walk), ("cycling", ride), ("Rowing", row)):
        assert peloton_xl.PELOTON_METRIC(f"latest {kind}", "calories") == peloton_xl.PELOTON_METRIC(
            workout["id"], "calories"
        ), kind
    assert peloton_xl.PELOTON_SERIES("latest ride", "output") == peloton_xl.PELOTON_SERIES(ride["id"], "output")
    assert peloton_xl.PELOTON_METRIC("latest swim", "calories").startswith("#VALUE! 'latest swim' names no")
    assert peloton_xl.PELOTON_METRIC("latest beyond the ride", "calories").startswith("#N/A no beyond the ride")


@e2e
def test_unknown_workout_or_metric_gives_an_error_value(refreshed):
    account = refreshed.account
    wid = account.workouts[0]["id"]
    assert peloton_xl.PELOTON_METRIC("f" * 32, "avg_output").startswith("#N/A ")
    assert peloton_xl.PELOTON_METRIC(wid, "watts per kilo").startswith("#N/A unknown metric")
    assert peloton_xl.PELOTON_METRIC("yesterday-ish", "avg_output").startswith("#VALUE! ")
    assert peloton_xl.PELOTON_METRIC(datetime(2001, 1, 1), "avg_output") == "#N/A no workout on 2001-01-01"
    assert peloton_xl.PELOTON_WORKOUTS_ON("not a date").startswith("#VALUE! ")


@e2e
def test_a_metric_the_workout_lacks_is_not_available(refreshed):
    account = refreshed.account
    meditation = next(w for w in account.workouts if w["fitness_discipline"] == "meditation")
    assert peloton_xl.PELOTON_METRIC(meditation["id"], "avg_output").startswith("#N/A ")


@e2e
def test_series_returns_the_stored_samples_of_one_metric(refreshed):
    account, settings = refreshed.account, refreshed.settings  # the server is gone: from the store
    ride = cycling_workout(account)
    graph = account.graph(ride["id"], settings.every_n)
    samples = {m["slug"]: m["values"] for m in graph["metrics"]}
    assert settings.every_n == 5 and len(samples["output"]) == -(-graph["duration"] // 5)
    assert peloton_xl.PELOTON_SERIES(ride["id"], "output") == samples["output"]
    assert peloton_xl.PELOTON_SERIES(ride["id"], "Heart Rate") == samples["heart_rate"]
    assert peloton_xl.PELOTON_SERIES(ride["id"], "CADENCE (rpm)") == samples["cadence"]
    run = next(w for w in account.workouts if w["fitness_discipline"] == "running" and w["metrics_type"])
    speed = next(m for m in account.graph(run["id"], 5)["metrics"] if m["slug"] == "pace")["alternatives"][0]
    assert peloton_xl.PELOTON_SERIES(run["id"], "speed") == speed["values"]  # nested under pace
    # A pace is a duration, as on the Metrics sheet: 8.47 decimal minutes is 508 s, 508/86400 of a day.
    pace = next(m for m in account.graph(run["id"], 5)["metrics"] if m["slug"] == "pace")["values"]
    answered = peloton_xl.PELOTON_SERIES(run["id"], "pace")
    assert answered == [None if v is None else round(v * 60) / 86400 for v in pace]
    assert any(v is not None for v in answered)


@e2e
def test_series_errors_follow_peloton_metric(refreshed):
    account = refreshed.account
    ride, meditation = (
        cycling_workout(account),
        next(w for w in account.workouts if w["fitness_discipline"] == "meditation"),
    )
    assert (
        peloton_xl.PELOTON_SERIES(ride["id"], "watts per kilo")
        == f"#N/A workout {ride['id']} has no watts per kilo samples"
    )
    assert peloton_xl.PELOTON_SERIES(meditation["id"], "output").startswith("#N/A ")
    assert peloton_xl.PELOTON_SERIES("f" * 32, "output").startswith("#N/A no workout")
    assert peloton_xl.PELOTON_SERIES("yesterday-ish", "output").startswith("#VALUE! ")
    assert peloton_xl.PELOTON_SERIES(ride["id"], 7).startswith("#VALUE! ")


@e2e
def test_metric_names_lists_slug_name_and_unit(refreshed):
    names = peloton_xl.PELOTON_METRIC_NAMES()
    assert names[0] == ["Metric", "Name", "Unit"]
    assert ["avg_output", "Avg Output", "watts"] in names
    assert any(row[0] == "max_heart_rate" for row in names)


def test_the_index_notices_a_refresh(server, home, account, monkeypatch):
    # However fast the refresh: an index trusted for an hour is still looked at again after a refresh
    # in this process (a fast refresh used to fall inside the 0.25 s window and answer the old data).
    monkeypatch.setattr(functions._Cache, "RECHECK", 3600.0)
    settings = settings_for(server, home, every_n=DEFAULT_EVERY_N)
    refresh(settings)
    monkeypatch.setenv("PELOTON_XL_HOME", settings.home)
    before = peloton_xl.PELOTON_METRIC("latest", "calories")
    (added,) = account.add_workouts(1)
    written = refresh(settings)
    assert peloton_xl.PELOTON_METRIC("latest", "calories") == metrics_row(written, added["id"])["Calories (kcal)"]
    assert isinstance(peloton_xl.PELOTON_METRIC(added["id"], "calories"), float)
    assert isinstance(before, float)


def test_no_refresh_yet_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PELOTON_XL_HOME", str(tmp_path / "empty"))
    assert peloton_xl.PELOTON_METRIC("latest", "avg_output").startswith("#N/A no refresh has run yet")


def test_the_workbook_turns_the_error_text_into_error_values():
    vba = (REPO / "workbook" / "vba" / "xlwings_udfs.bas").read_text()
    calls = [line for line in vba.splitlines() if "= XLPy.CallUDF(" in line]
    checks = [line for line in vba.splitlines() if "= ExcelErrorFromText(" in line]
    assert len(calls) == len(checks) >= 3
    assert "CVErr(2042)" in vba and "CVErr(2015)" in vba
