"""The synthetic demo account: realistic, complete, every API quirk present, internally consistent."""

from __future__ import annotations

import math
import re
import tracemalloc
from collections import Counter
from datetime import date, datetime, timezone

import numpy as np
import pytest

from pelotonxl.demo.account import demo_end, make_account
from pelotonxl.demo.catalogue import ZERO_RIDE_ID


@pytest.fixture(scope="module")
def demo():
    return make_account()


@pytest.fixture(scope="module")
def graphs(demo):
    """Every workout's graph at the client's default sampling, by workout id."""
    return {w["id"]: demo.graph(w["id"], 300) for w in demo.workouts}


def profile(workout) -> str:
    """Which row of the shared notes' slug table a workout belongs to."""
    d = workout["fitness_discipline"]
    if d == "cycling":
        return "distance_ride" if (workout.get("ride") or {}).get("is_fixed_distance") else "cycling"
    if d in ("running", "walking"):
        if workout["is_outdoor"]:
            return "outdoor"
        return "tread" if workout["device_type"] == "home_tread" else "no_sensors"
    return {"caesar": "row", "meditation": "meditation"}.get(d, "floor")


# The table in /work/shared/peloton-api/README.md, "The performance graph" (calories left to its own test).
SLUGS = {
    "cycling": (
        {"total_output", "distance"},
        ["avg_output", "avg_cadence", "avg_resistance", "avg_speed"],
        ["output", "cadence", "resistance", "speed"],
    ),
    "distance_ride": (
        {"total_output", "distance", "duration"},
        ["avg_output", "avg_cadence", "avg_resistance", "avg_speed"],
        ["output", "cadence", "resistance", "speed"],
    ),
    "tread": (
        {"total_output", "distance", "elevation"},
        ["avg_output", "avg_pace", "avg_incline", "avg_speed"],
        ["output", "pace", "incline"],
    ),
    "outdoor": ({"distance", "elevation"}, ["avg_pace", "avg_speed"], ["pace", "altitude"]),
    "row": (
        {"total_output", "distance", "stroke_count"},
        ["avg_output", "avg_stroke_rate", "avg_split_pace"],
        ["output", "stroke_rate", "split_pace"],
    ),
    "floor": (set(), [], []),
    "no_sensors": (set(), [], []),
    "meditation": (set(), [], []),
}
CALORIE_SLUGS = {"calories", "total_calories", "active_calories"}


def by_slug(items):
    return {i["slug"]: i for i in items}


# ---- determinism and size ----------------------------------------------------------------


def test_same_seed_same_account_and_graphs(demo):
    again = make_account()
    assert again.workouts == demo.workouts and again.user_id == demo.user_id
    wid = demo.workouts[5]["id"]
    assert again.graph(wid, 1) == demo.graph(wid, 1)


def test_another_seed_another_account(demo):
    other = make_account(seed=8)
    assert other.user_id != demo.user_id
    assert {w["id"] for w in other.workouts}.isdisjoint(w["id"] for w in demo.workouts)


def test_hundreds_of_workouts_over_more_than_two_years_newest_first(demo):
    created = [w["created_at"] for w in demo.workouts]
    assert len(created) >= 300 and len(set(w["id"] for w in demo.workouts)) == len(created)
    assert created == sorted(created, reverse=True) and len(set(created)) == len(created)
    assert (created[0] - created[-1]) / 86400 >= 2 * 365
    assert created[0] <= datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc).timestamp()
    assert all(re.fullmatch(r"[0-9a-f]{32}", w["id"]) for w in demo.workouts)
    assert re.fullmatch(r"[0-9a-f]{32}", demo.user_id)
    assert all(w["user_id"] == demo.user_id for w in demo.workouts)


def test_end_and_years_place_the_history():
    end = datetime(2024, 3, 1, tzinfo=timezone.utc)
    acct = make_account(50, end=end, years=1.0)
    first, last = acct.workouts[-1]["created_at"], acct.workouts[0]["created_at"]
    assert end.timestamp() - 366 * 86400 - 86400 <= first and last <= end.timestamp()


@pytest.mark.slow
def test_a_big_account_holds_no_series():
    # Memory, not time (speed is the benchmarks' business): 2,000 per-second graphs held would be
    # hundreds of MB; the plans and list items are about 10 MB.
    tracemalloc.start()
    try:
        big = make_account(2000)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 25e6
    assert len(big.workouts) == 2000
    plan = big.plan(big.workouts[0]["id"])
    assert all(isinstance(v, float) for v in plan.targets.values())  # scalars; series made on demand
    assert len(big.graph(big.workouts[0]["id"], 1)["seconds_since_pedaling_start"]) == plan.duration


# ---- a realistic mix ---------------------------------------------------------------------


def test_disciplines_devices_time_zones_and_instructors(demo):
    disciplines = Counter(w["fitness_discipline"] for w in demo.workouts)
    assert set(disciplines) >= {
        "cycling",
        "running",
        "walking",
        "strength",
        "yoga",
        "stretching",
        "meditation",
        "caesar",
        "bike_bootcamp",
        "cardio",
    }
    assert disciplines.most_common(1)[0][0] == "cycling"
    devices = {w["device_type"] for w in demo.workouts}
    assert devices >= {"home_bike_v1", "home_tread", "iOS_app", "web", "caesar"}
    assert {w["timezone"] for w in demo.workouts} == {"America/New_York", "Europe/London", "Etc/GMT+6"}
    names = {
        (w.get("ride") or {}).get("instructor", {}) and w["ride"]["instructor"]["name"]
        for w in demo.workouts
        if (w.get("ride") or {}).get("instructor")
    }
    assert len(names - {"JUST RIDE"}) >= 13


def test_titles_and_class_lengths_look_real(demo):
    rides = [w["ride"] for w in demo.workouts if w.get("ride")]
    titles = {r["title"] for r in rides}
    assert {"30 min Pop Ride", "20 min HIIT Run"} & titles or any(re.fullmatch(r"\d+ min .+ Ride", t) for t in titles)
    for ride in rides:
        assert 5 * 60 - 90 <= ride["duration"] <= 60 * 60 + 90, ride["title"]
        if re.match(r"\d+ min ", ride["title"]):
            assert ride["duration"] == int(ride["title"].split()[0]) * 60


def test_live_and_on_demand_classes(demo):
    timed = [w for w in demo.workouts if (w.get("ride") or {}).get("original_air_time")]
    live = [w for w in timed if abs(w["start_time"] - w["ride"]["original_air_time"]) <= 10 * 60]
    assert 0.03 * len(timed) < len(live) < 0.3 * len(timed)


def test_personal_records_now_and_then(demo):
    records = [w for w in demo.workouts if w["is_total_work_personal_record"]]
    assert 5 <= len(records) < len(demo.workouts) / 2
    assert all(w["total_work"] > 0 for w in records)


def test_default_account_is_complete(demo):
    assert all(w["status"] == "COMPLETE" and w["end_time"] > w["start_time"] for w in demo.workouts)


# ---- the quirks ----------------------------------------------------------------------------


def test_workouts_without_a_ride_key(demo):
    bare = [w for w in demo.workouts if "ride" not in w]
    assert bare and all(w["fitness_discipline"] in ("running", "walking") for w in bare)


def test_just_ride_and_scenic_rides_have_the_zero_ride_id(demo):
    zero = [w["ride"] for w in demo.workouts if (w.get("ride") or {}).get("id") == ZERO_RIDE_ID]
    assert any(r["instructor"] is None for r in zero)
    assert any(r["instructor"] and r["instructor"]["name"] == "JUST RIDE" for r in zero)
    assert any(r["title"] == "Just Ride" for r in zero)


def test_classes_without_an_instructor(demo):
    assert any(
        w.get("ride") and w["ride"]["id"] != ZERO_RIDE_ID and w["ride"]["instructor"] is None for w in demo.workouts
    )


def test_rows_have_a_unitless_stroke_count_metres_and_split_pace(demo, graphs):
    rows = [w for w in demo.workouts if w["fitness_discipline"] == "caesar"]
    assert rows
    for w in rows:
        g = graphs[w["id"]]
        summaries, averages = by_slug(g["summaries"]), by_slug(g["average_summaries"])
        assert summaries["stroke_count"]["display_unit"] is None
        assert summaries["distance"]["display_unit"] == "m"
        assert averages["avg_split_pace"]["display_unit"] == "min/500m"
        assert 1.7 <= averages["avg_split_pace"]["value"] <= 3.6


def test_apple_watch_calories_come_as_total_and_active(demo, graphs):
    watch = [g for g in graphs.values() if "total_calories" in by_slug(g["summaries"])]
    assert watch
    for g in watch:
        s = by_slug(g["summaries"])
        assert "calories" not in s and "active_calories" in s and g["has_apple_watch_metrics"]
        assert s["active_calories"]["value"] <= s["total_calories"]["value"]


def test_strength_has_calories_only_and_meditation_nothing(demo, graphs):
    for w in demo.workouts:
        g = graphs[w["id"]]
        if w["fitness_discipline"] == "strength":
            assert {s["slug"] for s in g["summaries"]} <= CALORIE_SLUGS and g["summaries"]
            assert g["average_summaries"] == []
            assert [m["slug"] for m in g["metrics"]] in ([], ["heart_rate"])
        if w["fitness_discipline"] == "meditation":
            assert g["summaries"] == g["average_summaries"] == g["metrics"] == []
    strength = [graphs[w["id"]] for w in demo.workouts if w["fitness_discipline"] == "strength"]
    assert any(g["metrics"] == [] for g in strength) and any(g["metrics"] for g in strength)


def test_running_without_sensors_has_calories_only(demo, graphs):
    bare = [graphs[w["id"]] for w in demo.workouts if profile(w) == "no_sensors"]
    assert bare
    for g in bare:
        assert {s["slug"] for s in g["summaries"]} <= CALORIE_SLUGS and g["average_summaries"] == []


def test_heart_rate_with_zones_on_many_workouts_but_not_all(demo, graphs):
    with_hr = [g for g in graphs.values() if "heart_rate" in by_slug(g["metrics"])]
    assert 0.3 * len(graphs) < len(with_hr) < 0.9 * len(graphs)
    for g in with_hr:
        zones = by_slug(g["metrics"])["heart_rate"]["zones"]
        assert [z["slug"] for z in zones] == ["zone1", "zone2", "zone3", "zone4", "zone5"]
        assert sum(z["duration"] for z in zones) == g["duration"]


def test_every_discipline_has_the_slugs_of_the_shared_table(demo, graphs):
    seen = set()
    for w in demo.workouts:
        kind = profile(w)
        seen.add(kind)
        summaries, averages, metrics = SLUGS[kind]
        g = graphs[w["id"]]
        slugs = [s["slug"] for s in g["summaries"]]
        assert set(slugs) - CALORIE_SLUGS == summaries, (kind, slugs)
        if kind != "meditation":
            assert set(slugs) & CALORIE_SLUGS
        assert [s["slug"] for s in g["average_summaries"]] == averages, kind
        assert [m["slug"] for m in g["metrics"] if m["slug"] != "heart_rate"] == metrics, kind
        pace = by_slug(g["metrics"]).get("pace")
        if pace:
            assert [a["slug"] for a in pace["alternatives"]] == ["speed"]
    assert seen == set(SLUGS)


# ---- plausible and consistent values -------------------------------------------------------


def test_values_are_plausible(demo, graphs):
    for w in demo.workouts:
        g = graphs[w["id"]]
        averages, summaries = by_slug(g["average_summaries"]), by_slug(g["summaries"])
        kind = profile(w)
        if kind in ("cycling", "distance_ride"):
            assert 90 <= averages["avg_output"]["value"] <= 250
            assert 70 <= averages["avg_cadence"]["value"] <= 100
            assert 25 <= averages["avg_resistance"]["value"] <= 55
            assert 14 <= averages["avg_speed"]["value"] <= 25
        if kind in ("tread", "outdoor"):
            assert 2.5 <= averages["avg_speed"]["value"] <= 8.5
            assert 7 <= averages["avg_pace"]["value"] <= 22
        if "heart_rate" in by_slug(g["metrics"]):
            hr = by_slug(g["metrics"])["heart_rate"]
            assert 90 <= hr["average_value"] <= 170 and hr["max_value"] <= 190
        for cal in CALORIE_SLUGS & set(summaries):
            assert 0 < summaries[cal]["value"] <= 25 * g["duration"] / 60


def test_total_work_in_joules_matches_total_output_in_kj(demo, graphs):
    with_output = 0
    for w in demo.workouts:
        total = by_slug(graphs[w["id"]]["summaries"]).get("total_output")
        if total:
            with_output += 1
            assert total["display_unit"] == "kj"
            assert abs(w["total_work"] / 1000 - total["value"]) <= 0.5
        else:
            assert w["total_work"] == 0
    assert with_output > 100


def test_metric_averages_match_the_summary_averages(demo, graphs):
    pairs = {
        "avg_output": "output",
        "avg_cadence": "cadence",
        "avg_resistance": "resistance",
        "avg_stroke_rate": "stroke_rate",
        "avg_pace": "pace",
        "avg_split_pace": "split_pace",
    }
    for g in graphs.values():
        metrics = by_slug(g["metrics"])
        for avg in g["average_summaries"]:
            if avg["slug"] in pairs:
                assert avg["value"] == metrics[pairs[avg["slug"]]]["average_value"], avg["slug"]


@pytest.mark.parametrize("every_n", [1, 7, 60, 300, 5000])
def test_graph_length_follows_every_n_and_values_fit_their_averages(demo, every_n):
    for w in demo.workouts[:40]:
        g = demo.graph(w["id"], every_n)
        n = math.ceil(g["duration"] / every_n)
        assert len(g["seconds_since_pedaling_start"]) == n
        assert g["seconds_since_pedaling_start"][-1] == g["duration"]
        for m in g["metrics"]:
            values = [v for v in m["values"] if v is not None]
            assert len(m["values"]) == n
            if m["slug"] in ("pace", "split_pace"):
                assert min(values) >= m["max_value"] - 0.01  # the best pace is the smallest number
                continue
            assert max(values) <= m["max_value"] + 0.5
            if every_n == 1:
                assert abs(sum(values) / len(values) - m["average_value"]) <= 0.6


def test_effort_zones_on_the_list_match_the_graph(demo, graphs):
    zoned = [w for w in demo.workouts if w["effort_zones"]]
    assert zoned
    for w in zoned:
        graph_zones = graphs[w["id"]]["effort_zones"]
        assert graph_zones == w["effort_zones"]
        hr = by_slug(graphs[w["id"]]["metrics"])["heart_rate"]
        durations = [z["duration"] for z in hr["zones"]]
        assert durations == list(w["effort_zones"]["heart_rate_zone_durations"].values())


def test_kilometre_account_uses_metric_units():
    acct = make_account(120, units="km")
    units = Counter()
    for w in acct.workouts:
        g = acct.graph(w["id"], 300)
        for s in g["summaries"] + g["average_summaries"]:
            units[(s["slug"], s["display_unit"])] += 1
    assert ("distance", "km") in units and ("avg_speed", "kph") in units and ("avg_pace", "min/km") in units
    assert ("distance", "mi") not in units and ("avg_speed", "mph") not in units
    bike = next(w for w in acct.workouts if w["fitness_discipline"] == "cycling")
    assert by_slug(acct.graph(bike["id"], 60)["average_summaries"])["avg_speed"]["value"] > 22


def test_me_has_the_profile_shape_and_counts(demo):
    me = demo.me
    assert me["id"] == demo.user_id and me["total_workouts"] == len(demo.workouts)
    counts = {c["slug"]: c["count"] for c in me["workout_counts"]}
    assert sum(counts.values()) == len(demo.workouts) and counts["cycling"] > 0
    assert me["customized_max_heart_rate"] > 150 and len(me["default_heart_rate_zones"]) == 5


# ---- an account that changes between refreshes --------------------------------------------


def test_added_workouts_are_newest_and_counted():
    acct = make_account(30)
    newest = acct.workouts[0]["created_at"]
    added = acct.add_workouts(5)
    assert [w["id"] for w in acct.workouts[:5]] == [w["id"] for w in added]
    assert all(w["created_at"] > newest for w in added)
    assert len(acct.workouts) == 35 and acct.me["total_workouts"] == 35
    assert acct.graph(added[0]["id"], 60)["duration"] > 0
    at = datetime(2027, 1, 1, 12, tzinfo=timezone.utc)
    acct.add_workouts(1, at=at)
    assert acct.workouts[0]["created_at"] == int(at.timestamp())
    with pytest.raises(ValueError):
        acct.add_workouts(1, at=datetime(2020, 1, 1, tzinfo=timezone.utc))


def test_deleted_workout_is_gone():
    acct = make_account(30)
    gone = acct.workouts[3]["id"]
    acct.delete_workout(gone)
    assert gone not in {w["id"] for w in acct.workouts} and len(acct.workouts) == 29
    with pytest.raises(KeyError):
        acct.graph(gone, 5)
    with pytest.raises(KeyError):
        acct.delete_workout(gone)


def test_a_workout_in_progress_then_finished():
    acct = make_account(30)
    live = acct.start_workout()
    assert acct.workouts[0] is live
    assert live["status"] == "IN_PROGRESS" and live["end_time"] is None and live["effort_zones"] is None
    partial = acct.graph(live["id"], 1)
    acct.finish(live["id"])
    assert live["status"] == "COMPLETE" and live["end_time"] > live["start_time"]
    full = acct.graph(live["id"], 1)
    assert partial["duration"] < full["duration"]
    total = by_slug(full["summaries"])["total_output"]["value"]
    assert abs(live["total_work"] / 1000 - total) <= 0.5


def test_every_n_must_be_positive(demo):
    with pytest.raises(ValueError):
        demo.graph(demo.workouts[0]["id"], 0)


def best_average(values, seconds: int) -> float:
    samples = np.asarray(values, dtype=float)
    return float(np.convolve(samples, np.ones(seconds) / seconds, "valid").max())


def test_rides_repeat_classes_with_the_same_efforts_a_sprint_included(demo):
    attempts = Counter(
        w["ride"]["id"]
        for w in demo.workouts
        if w["fitness_discipline"] == "cycling" and w.get("ride") and w["ride"]["id"] != ZERO_RIDE_ID
    )
    ride_id, count = attempts.most_common(1)[0]
    assert count >= 3 and sum(1 for n in attempts.values() if n >= 2) >= 5
    sprint_at = []
    for w in (w for w in demo.workouts if (w.get("ride") or {}).get("id") == ride_id):
        graph = demo.graph(w["id"], 1)
        output = next(m for m in graph["metrics"] if m["slug"] == "output")["values"]
        mean = np.mean(output)
        # Efforts of different lengths: the shorter, the harder; the sprint far above the rest.
        curve = [best_average(output, s) for s in (15, 60, 300, 1200)]
        assert curve == sorted(curve, reverse=True) and curve[-1] > mean
        assert curve[0] > 2 * mean
        smooth = np.convolve(np.asarray(output, float), np.ones(15) / 15, "valid")
        sprint_at.append(int(smooth.argmax()))
        assert [s["name"] for s in graph["segment_list"]] == ["Warmup", "Main", "Cool Down"]
    assert max(sprint_at) - min(sprint_at) <= 20  # the same class: the sprint at the same minute


def test_the_demo_people_see_ends_on_the_day_it_is_run():
    end = demo_end(date(2026, 12, 2))
    assert end == datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc) == demo_end(date(2026, 12, 2))  # all day
    demo = make_account(60, end=end)
    newest = max(w["start_time"] for w in demo.workouts)
    assert datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp() <= newest < end.timestamp()  # yesterday
    later = make_account(60, end=demo_end(date(2027, 1, 9)))
    assert [w["id"] for w in demo.workouts] == [w["id"] for w in later.workouts]  # the same workouts, moved
