"""A hostile server, round two (issue 19): every field read defensively, text cleaned once for both
writers, impossible samples treated as missing. docs/what-happens-when.md has a row for each story."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from support import table_rows, table_values
from support.ooxml_check import assert_valid

from pelotonxl.excel import cell_values
from pelotonxl.model import power_curve
from pelotonxl.model.samples import sample_array
from pelotonxl.peloton import fields
from pelotonxl.xlsx import cells

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")


def _first_workout(edit):
    def rewrite(body: dict, query: dict) -> dict:
        data = [dict(w) for w in body["data"]]
        if data:
            data[0] = edit(data[0])
        return {**body, "data": data}

    return rewrite


def test_a_text_start_time_is_kept_left_blank_and_named(server, workbook, home, run_cli, account):
    server.rewrite(r"/workouts$", _first_workout(lambda w: {**w, "start_time": "yesterday"}))
    result = run_cli(server, workbook, home)
    assert result.returncode == 3, result.stderr
    assert "start_time 'yesterday' is not a number: left blank" in result.stderr
    assert "unexpected" not in result.stderr.lower()
    assert len(table_rows(workbook, "Workouts")) == len(account.workouts)
    assert_valid(workbook)


@pytest.mark.parametrize("created_at", [1e308, -1, 10**20, "1e308", math.nan])
def test_an_absurd_created_at_skips_that_workout_only(server, workbook, home, run_cli, account, created_at):
    server.rewrite(r"/workouts$", _first_workout(lambda w: {**w, "created_at": created_at}))
    result = run_cli(server, workbook, home)
    assert result.returncode == 3, result.stderr
    assert "is not a time" in result.stderr and "unexpected" not in result.stderr.lower()
    assert len(table_rows(workbook, "Workouts")) == len(account.workouts) - 1


def test_lone_surrogates_and_control_characters_in_a_title_are_dropped(server, workbook, home, run_cli):
    title = "Climb \ud800and\x01 \x1b[2Jsprint"

    def edit(w: dict) -> dict:
        return {**w, "ride": {**w["ride"], "title": title}}

    server.rewrite(r"/workouts$", _first_workout(edit))
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    header, *rows = table_values(workbook, "Workouts")[1]
    shown = {cell for row in rows for cell in row if isinstance(cell, str) and "sprint" in cell}
    assert shown == {"Climb and [2Jsprint"}
    assert_valid(workbook)


def test_a_control_character_in_a_time_zone_is_not_printed(server, workbook, home, run_cli):
    server.rewrite(
        r"/workouts$", lambda body, query: {**body, "data": [{**w, "timezone": "\x1b]0;x\x07"} for w in body["data"]]}
    )
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "time zone this computer does not know" in result.stderr


# --- text, once, for both writers -------------------------------------------------------------------


def test_both_writers_cut_and_clean_text_the_same_way():
    text = ("Long\x01note\x0b" * 5000) + "\ud800"
    live = cell_values.excel_value(text)
    assert live == cells.clean_text(text)
    assert len(live) == 32767 and "\x01" not in live and "\x0b" not in live
    assert "\ud800" not in cell_values.excel_value("a\ud800b")


def test_fields_from_the_server_are_checked_once_for_the_model():
    w = fields.checked_workout(
        {
            "id": "a" * 32,
            "created_at": 1e308,
            "start_time": "yesterday",
            "end_time": True,
            "total_work": math.inf,
            "status": ["COMPLETE"],
            "ride": [],
            "name": "x\ud800y",
        }
    )
    assert w == {
        "id": "a" * 32,
        "created_at": None,
        "start_time": None,
        "end_time": None,
        "total_work": None,
        "name": "xy",
    }
    assert fields.checked_workout({"ride": {"instructor": "Bob", "title": 7}})["ride"] == {}
    graph = fields.checked_graph({"metrics": [{"slug": 5, "values": "x"}, "odd"], "summaries": {}, "duration": 1e300})
    assert graph == {"metrics": [{}], "duration": None}
    assert fields.checked_graph([1, 2]) is None


# --- samples ----------------------------------------------------------------------------------------


def test_impossible_samples_are_missing_values():
    samples = sample_array([100, 1e20, -5, None, "x", math.nan, math.inf, 3001, 2999, 10**30], "output")
    assert np.array_equal(np.isnan(samples), [False, True, True, True, True, True, True, True, False, True])
    assert sample_array([200, 260], "heart_rate")[1] != sample_array([200, 260], "heart_rate")[1]  # NaN


def _ride(wid: str, output: list) -> tuple[dict, dict]:
    workout = {
        "id": wid,
        "created_at": 1_700_000_000,
        "start_time": 1_700_000_000,
        "fitness_discipline": "cycling",
        "timezone": "UTC",
    }
    return workout, {"every_n": 1, "metrics": [{"slug": "output", "values": output}]}


def test_one_absurd_sample_does_not_poison_the_ftp_or_the_curve():
    steady = [200] * 1500
    spiked = [200] * 700 + [1e20] + [200] * 799
    poisoned = [200] * 700 + [math.nan, math.inf] + [200] * 798
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning reaches the member
        curve = power_curve.power_curve(power_curve.bike_series([_ride("a", spiked), _ride("b", poisoned)]))
        clean = power_curve.power_curve(power_curve.bike_series([_ride("c", steady)]))
    assert curve.ftp() is not None and curve.ftp() <= clean.ftp() == 190.0
    assert np.isfinite(curve.bests()[0]).all()


def test_each_ride_sums_its_own_samples():
    """A ride of huge values before another must not cost the other its precision (a shared running
    sum would: 1e17 + 200 loses the 200)."""
    best = power_curve.best_averages(
        [np.full(10, 1e17), np.array([200.0, 201.0, 202.0, 203.0])], every_n=1, durations=[1, 2]
    )
    assert best[1].tolist() == [203.0, 202.5]
