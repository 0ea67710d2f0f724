"""Fixture in, exact rows out: pelotonxl.tables flattening of workouts and performance graphs."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pelotonxl.model.catalog import column_header
from pelotonxl.model.tables import (
    SheetTable,
    build_tables,
    local_start,
    metric_catalog,
    metric_values,
    workouts_frame,
)

FIXTURES = Path(__file__).parent / "fixtures_tables"
ALL = (
    "cycling",
    "tread_walk",
    "running_no_sensors",
    "row",
    "strength",
    "outdoor_run_km",
    "meditation",
    "just_ride",
    "apple_watch_strength",
    "in_progress",
)

CYCLING_ID = "3bade6602259414a82576302f9339175"
ROW_ID = "3a5af153444941c0aa54c52aee4726fa"


def load(name: str) -> tuple[dict, dict | None]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data["workout"], data["graph"]


def cells(table: SheetTable, workout_id: str) -> dict:
    """One row as a dict: blanks (NaN, NaT, None) as None, numpy booleans as bool."""
    rows = table.frame[table.frame["Workout ID"] == workout_id]
    assert len(rows) == 1, f"{workout_id} appears {len(rows)} times"
    return {
        k: None if pd.isna(v) else bool(v) if isinstance(v, np.bool_) else v for k, v in rows.iloc[0].to_dict().items()
    }


def only_workout(workout: dict, graph: dict | None = None) -> tuple[dict, dict]:
    """Workouts and Metrics cells of a single-record account."""
    workouts, metrics = build_tables([(workout, graph)])
    return cells(workouts, workout["id"]), cells(metrics, workout["id"])


def close_to(expected: dict) -> dict:
    """Floats compared with pytest.approx, everything else (text, dates, durations) exactly.

    pytest.approx on a whole dict refuses date-times without a tolerance since pytest 9.1, and
    a Start or Duration must match to the second anyway."""
    return {k: pytest.approx(v) if isinstance(v, float) else v for k, v in expected.items()}


def metric_cells(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("Workout ID", "Start", "Discipline") and v is not None}


# ---- each discipline's shape ------------------------------------------------------------


def test_cycling_class_with_instructor_and_heart_rate_zones():
    workout, metrics = only_workout(*load("cycling"))
    assert workout == close_to(
        {
            "Workout ID": CYCLING_ID,
            "Start": datetime(2021, 4, 29, 12, 46, 42),  # 17:46:42 UTC in Etc/GMT+5 (UTC-5)
            "Time Zone": "Etc/GMT+5",
            "Start (UTC)": datetime(2021, 4, 29, 17, 46, 42),
            "ISO Week": "2021-W17",
            "Discipline": "Cycling",
            "Class Title": "30 min Power Zone Endurance Ride",
            "Instructor": "Christine D'Ercole",
            "Class Length (min)": 30.0,
            "Duration": timedelta(minutes=29, seconds=58),
            "Live/On-demand": "On-demand",
            "Total Output (kJ)": 175.8,
            "Personal Record": False,
            "Device": "Bike",
            "Status": "Complete",
            "Class Aired": datetime(2021, 3, 9, 13, 0),
            "Difficulty": 6.0315,
            "Workout Type": "Class",
            "Outdoor": False,
            "Effort Points": None,
        }
    )
    assert metrics["Start"] == datetime(2021, 4, 29, 12, 46, 42)
    assert metrics["Discipline"] == "Cycling"
    assert metric_cells(metrics) == pytest.approx(
        {
            # total_work 175772.76 J: the same 175.8 kJ as on Workouts, not the summary's whole 176
            "Total Output (kJ)": 175.8,
            "Distance (mi)": 7.97,
            "Calories (kcal)": 236,
            "Avg Output (watts)": 98,
            "Avg Cadence (rpm)": 85,
            "Avg Resistance (%)": 37,
            "Avg Speed (mph)": 15.9,
            "Avg Heart Rate (bpm)": 138,
            "Max Heart Rate (bpm)": 154,
            "HR Zone 1 (min)": 247 / 60,
            "HR Zone 2 (min)": 441 / 60,
            "HR Zone 3 (min)": 1111 / 60,
            "HR Zone 4 (min)": 0,
            "HR Zone 5 (min)": 0,
        }
    )


def test_tread_walk():
    workout, metrics = only_workout(*load("tread_walk"))
    assert workout["Discipline"] == "Walking"
    assert workout["Instructor"] == "Chase Tucker"
    assert workout["Device"] == "Tread"
    assert workout["Start"] == datetime(2021, 5, 18, 5, 5, 40)  # Etc/GMT+4
    assert workout["Total Output (kJ)"] == 295.5
    assert workout["Effort Points"] == 9.89  # the workout has none: taken from the graph
    # 18.02 min/mi is 1081.2 s: 18:01 a mile, a duration Excel shows as m:ss
    assert metrics.pop("Avg Pace (min/mi)") == timedelta(minutes=18, seconds=1)
    assert metric_cells(metrics) == pytest.approx(
        {
            "Total Output (kJ)": 295.5,
            "Distance (mi)": 1.66,
            "Calories (kcal)": 292,
            "Elevation (ft)": 264,
            "Avg Output (watts)": 164,
            "Avg Speed (mph)": 3.3,
            "Avg Incline (%)": 3.7,
            "Avg Heart Rate (bpm)": 108,
            "Max Heart Rate (bpm)": 139,
            "HR Zone 1 (min)": 878 / 60,
            "HR Zone 2 (min)": 478 / 60,
            "HR Zone 3 (min)": 36 / 60,
            "HR Zone 4 (min)": 0,
            "HR Zone 5 (min)": 0,
        }
    )


def test_outdoor_run_on_a_km_account():
    workout, metrics = only_workout(*load("outdoor_run_km"))
    assert workout["Outdoor"] is True
    assert workout["Discipline"] == "Running"
    assert workout["Device"] == "iPhone"
    assert workout["Start"] == datetime(2023, 6, 10, 7, 30)  # 06:30 UTC, British Summer Time
    assert workout["Duration"] == timedelta(minutes=31)
    assert workout["Total Output (kJ)"] is None  # 0 J: an outdoor run measures no output
    assert workout["Effort Points"] == 41.2
    assert metrics.pop("Avg Pace (min/km)") == timedelta(minutes=6, seconds=3)  # 6.05 min = 363 s
    assert metric_cells(metrics) == pytest.approx(
        {
            "Distance (km)": 5.02,
            "Calories (kcal)": 350,
            "Elevation (m)": 31,
            "Avg Speed (kph)": 9.92,
            "Avg Heart Rate (bpm)": 151,
            "Max Heart Rate (bpm)": 172,
            # no zones in the heart-rate metric: taken from the workout's effort_zones
            "HR Zone 1 (min)": 1,
            "HR Zone 2 (min)": 5,
            "HR Zone 3 (min)": 15,
            "HR Zone 4 (min)": 9,
            "HR Zone 5 (min)": 1,
        }
    )


def test_row_keeps_metres_strokes_without_unit_and_canonical_names():
    workout, metrics = only_workout(*load("row"))
    assert workout["Discipline"] == "Rowing"
    assert workout["Instructor"] is None  # joined without ride.instructor
    assert workout["Class Title"] == "10 min Form & Drills Row"
    assert workout["Personal Record"] is True
    assert workout["Start"] == datetime(2022, 12, 4, 16, 5, 6)  # Etc/GMT+6 is UTC-6
    assert workout["Total Output (kJ)"] == 22.6
    assert workout["Effort Points"] == 10.3
    # 3.26 min/500m is 195.6 s: 3:16 per 500 m
    assert metrics.pop("Avg Split Pace (min/500m)") == timedelta(minutes=3, seconds=16)
    assert metric_cells(metrics) == pytest.approx(
        {
            "Total Output (kJ)": 22.6,
            "Distance (m)": 1023.28,
            "Calories (kcal)": 123,
            "Strokes": 133,
            "Avg Output (watts)": 55,  # Peloton calls it "Avg Stroke Output" on the row
            "Avg Stroke Rate (spm)": 20,
            "Avg Heart Rate (bpm)": 125,
            "Max Heart Rate (bpm)": 147,
            "HR Zone 1 (min)": 164 / 60,
            "HR Zone 2 (min)": 173 / 60,
            "HR Zone 3 (min)": 246 / 60,
            "HR Zone 4 (min)": 70 / 60,
            "HR Zone 5 (min)": 0,
        }
    )


def test_strength_has_calories_only():
    workout, metrics = only_workout(*load("strength"))
    assert (workout["Discipline"], workout["Instructor"], workout["Class Title"]) == (
        "Strength",
        None,
        "10 min Bodyweight Strength",
    )  # the sample's ride has no instructor
    assert workout["Start"] == datetime(2020, 5, 19, 11, 52, 54)  # America/Chicago, CDT
    assert workout["Total Output (kJ)"] is None
    assert workout["Device"] == "Android"
    assert metric_cells(metrics) == {"Calories (kcal)": 47}


def test_running_without_sensors():
    workout, metrics = only_workout(*load("running_no_sensors"))
    assert (workout["Discipline"], workout["Instructor"]) == ("Running", "Matt Wilpers")
    assert workout["Device"] == "Fire TV"
    assert workout["Total Output (kJ)"] is None
    assert metric_cells(metrics) == {"Calories (kcal)": 236}


def test_meditation_live_class_with_empty_graph():
    workout, metrics = only_workout(*load("meditation"))
    assert workout["Discipline"] == "Meditation"
    assert workout["Class Title"] == "10 min Mindfulness Meditation"
    assert workout["Live/On-demand"] == "Live"  # started 5 minutes after the class aired
    assert workout["Start"] == datetime(2024, 1, 15, 7, 0)
    assert metrics["Discipline"] == "Meditation"
    assert metric_cells(metrics) == {}
    assert list(metrics) == ["Workout ID", "Start", "Discipline"]


# ---- the quirks ---------------------------------------------------------------------------


def test_just_ride_zero_ride_id_and_null_instructor():
    workout, metrics = only_workout(*load("just_ride"))
    assert workout["Instructor"] is None
    assert workout["Class Title"] == "20 min Just Ride"  # the workout's own title
    assert workout["Live/On-demand"] == "Just Ride"
    assert workout["Class Length (min)"] is None
    assert workout["Class Aired"] is None
    assert workout["Difficulty"] is None
    assert workout["Workout Type"] == "Freestyle"
    assert workout["Total Output (kJ)"] == 201.3
    assert metrics["Avg Output (watts)"] == 98


def test_instructor_named_just_ride_is_blank():
    workout, graph = load("just_ride")
    workout["ride"]["instructor"] = {"id": "x", "name": "JUST RIDE"}
    workout["title"] = None  # falls back to the workout's name, then the ride's title
    row, _ = only_workout(workout, graph)
    assert row["Instructor"] is None
    assert row["Class Title"] == "Cycling Workout"


def test_null_instructor_on_a_real_class():
    workout, graph = load("cycling")
    workout["ride"]["instructor"] = None
    row, _ = only_workout(workout, graph)
    assert row["Instructor"] is None
    assert row["Class Title"] == "30 min Power Zone Endurance Ride"
    assert row["Live/On-demand"] == "On-demand"


def test_no_ride_key_at_all():
    workout, graph = load("cycling")
    del workout["ride"]
    row, metrics = only_workout(workout, graph)
    assert row["Class Title"] == "Cycling Workout"
    assert (row["Instructor"], row["Class Length (min)"], row["Class Aired"]) == (None, None, None)
    assert row["Live/On-demand"] == "Just Ride"
    assert row["Total Output (kJ)"] == 175.8
    assert metrics["Avg Output (watts)"] == 98


def test_instructor_from_peloton_ride_when_ride_lacks_it():
    workout, graph = load("strength")  # like the sample: `ride` joined without its instructor
    assert "instructor" not in workout["ride"]
    workout["peloton"] = {"ride": dict(workout["ride"], instructor={"name": "Becs Gentry"})}
    row, _ = only_workout(workout, graph)
    assert row["Instructor"] == "Becs Gentry"


def test_class_found_under_peloton_ride():
    workout, graph = load("strength")
    workout["peloton"] = {"ride": dict(workout.pop("ride"), instructor={"name": "Becs Gentry"})}
    row, _ = only_workout(workout, graph)
    assert (row["Class Title"], row["Instructor"], row["Class Length (min)"]) == (
        "10 min Bodyweight Strength",
        "Becs Gentry",
        10.0,
    )


def test_apple_watch_total_calories_fill_the_one_calories_column():
    workouts, metrics = build_tables([load("apple_watch_strength"), load("strength")])
    calorie_columns = [c for c in metrics.frame.columns if "Calories" in c]
    assert calorie_columns == ["Calories (kcal)", "Active Calories (kcal)"]
    watch = cells(metrics, "a9a9a9a9a9a94a9a8a9a9a9a9a9a9a9a")
    assert metric_cells(watch) == pytest.approx(
        {
            "Calories (kcal)": 92,
            "Active Calories (kcal)": 71,
            "Avg Heart Rate (bpm)": 117,
            "Max Heart Rate (bpm)": 141,
            "HR Zone 1 (min)": 2,
            "HR Zone 2 (min)": 4,
            "HR Zone 3 (min)": 3,
            "HR Zone 4 (min)": 1,
            "HR Zone 5 (min)": 0,
        }
    )
    assert cells(workouts, "a9a9a9a9a9a94a9a8a9a9a9a9a9a9a9a")["Device"] == "Apple Watch"
    assert metric_catalog([load("apple_watch_strength")])["calories"] == ("Calories", "kcal")


def test_calories_beat_total_calories_in_either_order():
    workout, graph = load("apple_watch_strength")
    graph["summaries"].append({"display_name": "Calories", "display_unit": "kcal", "value": 90, "slug": "calories"})
    _, metrics = only_workout(workout, graph)
    assert metrics["Calories (kcal)"] == 90


def test_in_progress_workout_without_graph():
    workout, metrics = only_workout(*load("in_progress"))
    assert workout["Status"] == "In Progress"
    assert workout["Duration"] is None
    assert workout["Total Output (kJ)"] is None
    assert workout["Start"] == datetime(2024, 7, 15, 8, 0)  # 12:00 UTC, EDT
    assert metric_cells(metrics) == {}
    assert metrics["Start"] == datetime(2024, 7, 15, 8, 0)


def test_graph_none_still_gives_a_metrics_row_with_leading_columns():
    workouts, metrics = build_tables([(load("cycling")[0], None), load("row")])
    row = cells(metrics, CYCLING_ID)
    assert (row["Discipline"], row["Start"]) == ("Cycling", datetime(2021, 4, 29, 12, 46, 42))
    # Total Output comes from the workout itself, so it is there without the graph, as on Workouts
    assert metric_cells(row) == {"Total Output (kJ)": 175.8}
    assert cells(workouts, CYCLING_ID)["Class Title"] == "30 min Power Zone Endurance Ride"


def test_strings_nulls_and_junk_where_numbers_belong():
    workout, graph = load("cycling")
    workout.update(
        start_time="1619718402",
        end_time="1619720200",
        total_work="175772.76",
        is_total_work_personal_record=None,
        device_type=None,
        timezone=None,
    )
    workout["ride"].update(duration="1800", difficulty_rating_avg="n/a", original_air_time=None)
    graph["summaries"][0]["value"] = "176"  # total_output as a string
    graph["summaries"][1]["value"] = None  # distance null
    graph["summaries"][2]["value"] = "lots"  # calories not a number
    graph["average_summaries"][0] = "not a dict"
    graph["metrics"][-1]["average_value"] = None
    graph["metrics"][-1]["zones"] = None
    row, metrics = only_workout(workout, graph)
    assert row["Start"] == datetime(2021, 4, 29, 17, 46, 42)  # no zone: UTC
    assert row["Time Zone"] == "UTC"
    assert row["Duration"] == timedelta(minutes=29, seconds=58)
    assert row["Class Length (min)"] == 30.0
    assert row["Total Output (kJ)"] == 175.8
    assert (row["Difficulty"], row["Live/On-demand"]) == (None, None)
    assert row["Device"] == "Bike"  # no device_type: the platform (home_bike) names it
    assert row["Personal Record"] is False
    assert metric_cells(metrics) == pytest.approx(
        {
            "Total Output (kJ)": 175.8,
            "Avg Cadence (rpm)": 85,
            "Avg Resistance (%)": 37,
            "Avg Speed (mph)": 15.9,
            "Max Heart Rate (bpm)": 154,
        }
    )


def test_zero_heart_rate_means_no_monitor():
    workout, graph = load("cycling")
    heart_rate = graph["metrics"][-1]
    heart_rate.update(average_value=0, max_value=0, zones=[])
    _, metrics = only_workout(workout, graph)
    assert not [c for c in metrics if "Heart Rate" in c or c.startswith("HR Zone")]


@pytest.mark.parametrize("graph", [[], "oops", {"summaries": None, "average_summaries": {}, "metrics": 7}])
def test_malformed_graphs_are_blank_rows(graph):
    workout, _ = load("cycling")
    _, metrics = only_workout(workout, graph)
    assert metric_cells(metrics) == {"Total Output (kJ)": 175.8}  # from the workout's total_work


def test_unknown_discipline_and_unknown_metric_slug():
    workout, graph = load("cycling")
    workout["fitness_discipline"] = "outdoor_hiking"
    graph["summaries"].append({"display_name": "Power Zones Hit", "display_unit": None, "value": 4, "slug": "pz_hits"})
    row, metrics = only_workout(workout, graph)
    assert row["Discipline"] == "Outdoor Hiking"
    columns = list(metrics)
    # unknown slugs after the known ones, before heart rate
    assert columns.index("Avg Speed (mph)") < columns.index("Power Zones Hit") < columns.index("Avg Heart Rate (bpm)")
    assert metrics["Power Zones Hit"] == 4


# ---- time zones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "epoch, zone, local, shown",
    [
        (1705320000, "America/New_York", datetime(2024, 1, 15, 7, 0), "America/New_York"),  # EST, UTC-5
        (1721044800, "America/New_York", datetime(2024, 7, 15, 8, 0), "America/New_York"),  # EDT, UTC-4
        (1721044800, "Etc/GMT+6", datetime(2024, 7, 15, 6, 0), "Etc/GMT+6"),  # POSIX sign: UTC-6
        (1721044800, "Europe/Berlin", datetime(2024, 7, 15, 14, 0), "Europe/Berlin"),
        (1721044800, "Mars/Olympus_Mons", datetime(2024, 7, 15, 12, 0), "UTC"),
        (1721044800, "", datetime(2024, 7, 15, 12, 0), "UTC"),
    ],
)
def test_start_is_local_time_in_the_workouts_own_zone(epoch, zone, local, shown):
    workout, graph = load("cycling")
    workout.update(start_time=epoch, end_time=epoch + 1800, timezone=zone)
    row, metrics = only_workout(workout, graph)
    assert (row["Start"], row["Time Zone"], metrics["Start"]) == (local, shown, local)
    assert row["Duration"] == timedelta(minutes=30)
    # Start (UTC) is the same instant in UTC, whatever the zone: the column that sorts across trips.
    assert row["Start (UTC)"] == datetime(1970, 1, 1) + timedelta(seconds=epoch)
    assert row["ISO Week"] == f"{local.isocalendar()[0]}-W{local.isocalendar()[1]:02d}"


@pytest.mark.parametrize(
    ("local", "week"),
    [
        (datetime(2026, 12, 6, 23, 30), "2026-W49"),  # a Sunday: still the week of Monday 30 Nov
        (datetime(2026, 12, 7, 0, 30), "2026-W50"),
        (datetime(2027, 1, 1, 8, 0), "2026-W53"),  # 2026 has 53 ISO weeks: 1 Jan 2027 is a Friday
        (datetime(2024, 12, 30, 8, 0), "2025-W01"),  # a Monday whose Thursday is in 2025
    ],
)
def test_the_iso_week_is_of_the_local_start_and_sorts_as_text(local, week):
    from pelotonxl.model.tables import iso_week

    assert iso_week(local) == week


def test_live_when_started_within_fifteen_minutes_of_air_time():
    workout, graph = load("cycling")
    aired = workout["ride"]["original_air_time"]
    for offset, expected in ((0, "Live"), (14 * 60, "Live"), (-60, "Live"), (16 * 60, "On-demand")):
        workout.update(start_time=aired + offset, end_time=aired + offset + 1800)
        assert only_workout(workout, graph)[0]["Live/On-demand"] == expected, offset


# ---- columns, order, dtypes, formats ------------------------------------------------------


def test_columns_are_keyed_by_unit():
    bike_mi = load("cycling")
    bike_km = copy.deepcopy(load("cycling"))
    bike_km[0]["id"] = "c" * 32
    for item in bike_km[1]["summaries"] + bike_km[1]["average_summaries"]:
        item["display_unit"] = {"mi": "km", "mph": "kph"}.get(item["display_unit"], item["display_unit"])
    _, metrics = build_tables([bike_mi, bike_km, load("row")])
    columns = list(metrics.frame.columns)
    distances = [c for c in columns if c.startswith("Distance")]
    assert distances == ["Distance (km)", "Distance (m)", "Distance (mi)"]
    assert [c for c in columns if c.startswith("Avg Speed")] == ["Avg Speed (kph)", "Avg Speed (mph)"]
    km = cells(metrics, "c" * 32)
    assert (km["Distance (km)"], km["Distance (mi)"], km["Avg Speed (kph)"]) == (7.97, None, 15.9)
    assert cells(metrics, ROW_ID)["Distance (m)"] == 1023.28
    assert cells(metrics, CYCLING_ID)["Distance (mi)"] == 7.97
    assert metrics.number_formats["Distance (m)"] == "0"
    assert metrics.number_formats["Distance (km)"] == "0.00"


def test_metrics_column_order_for_a_mixed_account():
    _, metrics = build_tables(load(name) for name in ALL)
    assert list(metrics.frame.columns) == [
        "Workout ID",
        "Start",
        "Discipline",
        "Total Output (kJ)",
        "Distance (km)",
        "Distance (m)",
        "Distance (mi)",
        "Calories (kcal)",
        "Active Calories (kcal)",
        "Elevation (ft)",
        "Elevation (m)",
        "Strokes",
        "Avg Output (watts)",
        "Avg Cadence (rpm)",
        "Avg Resistance (%)",
        "Avg Speed (kph)",
        "Avg Speed (mph)",
        "Avg Pace (min/km)",
        "Avg Pace (min/mi)",
        "Avg Incline (%)",
        "Avg Stroke Rate (spm)",
        "Avg Split Pace (min/500m)",
        "Avg Heart Rate (bpm)",
        "Max Heart Rate (bpm)",
        "HR Zone 1 (min)",
        "HR Zone 2 (min)",
        "HR Zone 3 (min)",
        "HR Zone 4 (min)",
        "HR Zone 5 (min)",
    ]


def test_workouts_columns_and_newest_first():
    workouts, metrics = build_tables(load(name) for name in ALL)
    assert list(workouts.frame.columns) == [
        "Workout ID",
        "Start",
        "Time Zone",
        "Start (UTC)",
        "ISO Week",
        "Discipline",
        "Class Title",
        "Instructor",
        "Class Length (min)",
        "Duration",
        "Live/On-demand",
        "Total Output (kJ)",
        "Personal Record",
        "Device",
        "Status",
        "Class Aired",
        "Difficulty",
        "Workout Type",
        "Outdoor",
        "Effort Points",
    ]
    assert (workouts.name, metrics.name) == ("Workouts", "Metrics")
    expected_ids = [load(n)[0]["id"] for n in sorted(ALL, key=lambda n: -load(n)[0]["start_time"])]
    assert list(workouts.frame["Workout ID"]) == expected_ids
    assert list(metrics.frame["Workout ID"]) == expected_ids
    assert workouts.frame["Workout ID"].iloc[0] == "1b1b1b1b1b1b4b1b8b1b1b1b1b1b1b1b"  # July 2024


def test_workouts_without_start_time_sort_last():
    first, second = load("cycling"), copy.deepcopy(load("row"))
    second[0]["start_time"] = None
    workouts = workouts_frame([second, first])
    assert list(workouts.frame["Workout ID"]) == [CYCLING_ID, ROW_ID]
    assert pd.isna(workouts.frame["Start"].iloc[1])


def test_dtypes_are_real_numbers_dates_durations_and_booleans():
    workouts, metrics = build_tables(load(name) for name in ALL)
    w = workouts.frame
    for column in ("Start", "Class Aired"):
        assert pd.api.types.is_datetime64_dtype(w[column]) and w[column].dt.tz is None
    assert pd.api.types.is_timedelta64_dtype(w["Duration"])
    for column in ("Class Length (min)", "Total Output (kJ)", "Difficulty", "Effort Points"):
        assert w[column].dtype == "float64", column
    for column in ("Personal Record", "Outdoor"):
        assert w[column].dtype == bool, column
    assert pd.api.types.is_datetime64_dtype(metrics.frame["Start"])
    for column in metrics.frame.columns[3:]:
        if "Pace" in column:  # paces are durations, shown as m:ss
            assert pd.api.types.is_timedelta64_dtype(metrics.frame[column]), column
        else:
            assert metrics.frame[column].dtype == "float64", column


def test_number_formats():
    workouts, metrics = build_tables(load(name) for name in ALL)
    assert workouts.number_formats["Start"] == "yyyy-mm-dd hh:mm"
    assert workouts.number_formats["Class Aired"] == "yyyy-mm-dd hh:mm"
    assert workouts.number_formats["Duration"] == "[h]:mm:ss"
    assert workouts.number_formats["Total Output (kJ)"] == "0.0"
    f = metrics.number_formats
    assert f["Start"] == "yyyy-mm-dd hh:mm"
    assert (f["Total Output (kJ)"], f["Avg Speed (mph)"], f["HR Zone 1 (min)"]) == ("0.0", "0.0", "0.0")
    assert (f["Calories (kcal)"], f["Avg Cadence (rpm)"], f["Avg Heart Rate (bpm)"], f["Strokes"]) == (
        "0",
        "0",
        "0",
        "0",
    )
    assert set(f) <= set(metrics.frame.columns)
    assert set(workouts.number_formats) <= set(workouts.frame.columns)


def test_widths_fit_header_and_content():
    workouts, metrics = build_tables(load(name) for name in ALL)
    for table in (workouts, metrics):
        assert list(table.widths) == list(table.frame.columns)
        for column, width in table.widths.items():
            assert len(column) < width <= 60, (column, width)
    longest_title = max(workouts.frame["Class Title"].str.len())
    assert workouts.widths["Class Title"] >= longest_title
    assert workouts.widths["Start"] >= len("2024-07-15 08:00")
    assert workouts.widths["Workout ID"] >= 32


def test_metric_catalog():
    catalog = metric_catalog(load(name) for name in ALL)
    assert catalog["avg_output"] == ("Avg Output", "watts")
    assert catalog["total_output"] == ("Total Output", "kJ")
    assert catalog["stroke_count"] == ("Strokes", None)
    assert catalog["avg_split_pace"] == ("Avg Split Pace", "min/500m")
    assert catalog["distance"] == ("Distance", "mi")  # mi twice (bike, walk), km once, m once
    assert catalog["avg_heart_rate"] == ("Avg Heart Rate", "bpm")
    assert catalog["max_heart_rate"] == ("Max Heart Rate", "bpm")
    assert catalog["hr_zone_1"] == ("HR Zone 1", "min")
    assert "total_calories" not in catalog
    _, metrics = build_tables(load(name) for name in ALL)
    for slug, (name, unit) in catalog.items():  # each entry names a real Metrics column
        assert column_header(name, unit) in metrics.frame.columns, slug


def test_metric_values_by_slug_match_the_metrics_row():
    assert metric_values(*load("row")) == pytest.approx(
        {
            # 22629.63 J, and 3:16 as the fraction of a day Excel holds (196 s / 86400)
            "total_output": 22.6,
            "distance": 1023.28,
            "stroke_count": 133,
            "calories": 123,
            "avg_output": 55,
            "avg_stroke_rate": 20,
            "avg_split_pace": 196 / 86400,
            "avg_heart_rate": 125,
            "max_heart_rate": 147,
            "hr_zone_1": 164 / 60,
            "hr_zone_2": 173 / 60,
            "hr_zone_3": 246 / 60,
            "hr_zone_4": 70 / 60,
            "hr_zone_5": 0,
        }
    )
    assert metric_values(*load("apple_watch_strength"))["calories"] == 92
    assert metric_values(load("cycling")[0], None) == {"total_output": 175.8}
    assert metric_values(load("cycling")[0], "not a graph") == {"total_output": 175.8}


def test_local_start_is_the_start_column():
    workout, _ = load("in_progress")
    assert local_start(workout) == datetime(2024, 7, 15, 8, 0)
    assert local_start({"start_time": None, "timezone": "America/New_York"}) is None
    assert local_start({"start_time": 1705320000, "timezone": "No/Such_Zone"}) == datetime(2024, 1, 15, 12, 0)


def test_catalog_without_heart_rate_has_no_heart_rate_entries():
    catalog = metric_catalog([load("strength")])
    assert catalog == {"calories": ("Calories", "kcal")}


def test_empty_account_gives_two_empty_tables():
    workouts, metrics = build_tables([])
    assert workouts.frame.empty and list(workouts.frame.columns)[0] == "Workout ID"
    assert list(metrics.frame.columns) == ["Workout ID", "Start", "Discipline"]
    assert metric_catalog([]) == {}


def test_build_tables_reads_a_generator_once():
    workouts, metrics = build_tables(load(name) for name in ("cycling", "row"))
    assert len(workouts.frame) == len(metrics.frame) == 2


# ---- scale ------------------------------------------------------------------------------


def test_five_thousand_synthetic_records_flatten_to_the_right_shape():
    shapes = [load(name) for name in ALL]
    zones = ["America/New_York", "Etc/GMT+6", "Europe/London", "Nowhere/Special", None]
    records = []
    for i in range(5000):
        workout, graph = shapes[i % len(shapes)]
        workout = dict(
            workout,
            id=f"{i:032x}",
            start_time=1_600_000_000 + i * 3600,
            end_time=1_600_000_000 + i * 3600 + 1800,
            timezone=zones[i % len(zones)],
        )
        records.append((workout, graph if i % 7 else None))
    workouts, metrics = build_tables(records)
    assert workouts.frame.shape == (5000, 20)
    assert metrics.frame.shape == (5000, 29)
    assert workouts.frame["Workout ID"].is_unique
    assert workouts.frame["Workout ID"].iloc[0] == f"{4999:032x}"
    assert workouts.frame["Workout ID"].iloc[-1] == f"{0:032x}"
    assert (workouts.frame["Duration"] == timedelta(minutes=30)).all()
    assert (workouts.frame["Workout ID"] == metrics.frame["Workout ID"]).all()
    # record 7 is the first with no graph (i % 7 == 0 and i > 0): only the workout's own total_work
    assert metric_cells(cells(metrics, f"{7:032x}")) == {"Total Output (kJ)": 201.3}
    # record 1 is tread_walk with its graph, started 13:26:40 UTC in Etc/GMT+6
    tread = cells(metrics, f"{1:032x}")
    assert (tread["Distance (mi)"], tread["Start"]) == (1.66, datetime(2020, 9, 13, 7, 26, 40))
