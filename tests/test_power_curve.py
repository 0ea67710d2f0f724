"""The power curve and FTP estimate against best averages worked out by hand on small graphs."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.hand_made import ride

from pelotonxl.model import power_curve as pc

# A: every second; 15 s at 100 W, then 5 s at 400 W.  B: every 5 s, 30 s long.
A = ride("a" * 32, (11, 20), [100] * 15 + [400] * 5)
B = ride("b" * 32, (6, 1), [200, 300, 0, 0, 0, 500], every_n=5, ride_id=pc.ZERO_RIDE_ID)  # a Just Ride
RUN = ride("r" * 32, (11, 21), [900] * 40, discipline="running")


def test_best_averages_by_hand_at_every_n_1_and_5():
    assert pc.power_curve(pc.bike_series([A, B, RUN])).durations.tolist() == [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        10,
        12,
        15,
        18,
        22,
        30,
    ]
    curve = pc.power_curve(pc.bike_series([A, B, RUN]), durations=(5, 15, 30, 60))
    # The longest Bike ride is 30 s (6 samples x 5 s): 5, 15 and 30 s only; the run does not count.
    assert curve.durations.tolist() == [5, 15, 30]
    ids = [r.workout_id for r in curve.rides]
    assert ids == ["b" * 32, "a" * 32]  # oldest first
    best_b, best_a = curve.best
    assert best_a[:2].tolist() == [400.0, 200.0]  # 5 s of 400; (10 x 100 + 5 x 400) / 15
    assert np.isnan(best_a[2])  # A lasts 20 s: no 30 s window
    # B: 5 s = one sample (500); 15 s = three samples, best (200+300+0)/3 = (0+0+500)/3; 30 s = all six.
    assert best_b.tolist() == pytest.approx([500.0, 500 / 3, 1000 / 6])
    values, holders = curve.bests()
    assert values.tolist() == pytest.approx([500.0, 200.0, 1000 / 6])
    assert [ids[i] for i in holders] == ["b" * 32, "a" * 32, "b" * 32]


def test_windows_never_run_into_the_next_ride():
    sums = pc.best_averages([np.array([0, 0, 0, 1000.0]), np.array([1000.0, 0, 0, 0])], 1, [2])
    assert sums[:, 0].tolist() == [500.0, 500.0]  # not (1000 + 1000) / 2 across the boundary


def test_a_duration_not_a_multiple_of_every_n_is_rounded_up():
    # every 2 s, 5 s -> 3 samples (6 s): best of [10,20,30],[20,30,40] is 30.
    assert pc.best_averages([np.array([10, 20, 30, 40.0])], 2, [5]).tolist() == [[30.0]]


def test_every_n_from_the_graph():
    assert pc.every_n_of({"seconds_since_pedaling_start": [5, 10, 15]}) == 5
    assert pc.every_n_of({"every_n": 3, "seconds_since_pedaling_start": [1, 2]}) == 3
    assert pc.every_n_of({}) == 1


def test_missing_samples_count_as_zero_and_table_columns():
    gap = ride("g" * 32, (11, 25), [300, None, 300, 300, 300, 300])
    curve = pc.power_curve(pc.bike_series([gap, A]), durations=(5, 15, 30))
    table = pc.curve_table(curve, datetime(2026, 11, 30))
    assert table.name == "PowerCurve"
    assert list(table.frame.columns) == list(pc.COLUMNS)
    assert table.frame["Duration (s)"].tolist() == [5, 15]
    assert table.frame["Best Output (watts)"].tolist() == [400.0, 200.0]  # gap: (300x4+0)/5 = 240 < 400
    assert table.frame["Workout ID"].tolist() == ["a" * 32, "a" * 32]
    assert table.frame["Date"].iloc[0] == datetime(2026, 11, 20, 7, 0)


def test_ftp_all_time_and_last_90_days():
    old = ride("o" * 32, (3, 1), [300] * 1200)
    recent = ride("n" * 32, (11, 1), [200] * 1200 + [0] * 60)
    curve = pc.power_curve(pc.bike_series([old, recent]))
    now = datetime(2026, 11, 30)
    assert curve.ftp() == 285.0  # 0.95 x 300
    assert curve.ftp(now - pc.timedelta(days=90)) == 190.0  # 0.95 x 200
    table = pc.curve_table(curve, now)
    row = table.frame.set_index("Duration (s)").loc[1200]
    assert (row["Best Output (watts)"], row["Best Output, Last 90 Days (watts)"]) == (300.0, 200.0)
    assert row["Best Output, Last 365 Days (watts)"] == 300.0  # March is within the year
    import pandas as pd

    history = pc.ftp_history(curve, pd.date_range("2026-02-01", "2026-11-01", freq="MS"))
    by_month = dict(zip(history["Month"].dt.strftime("%Y-%m"), history["Estimated FTP (W)"], strict=False))
    assert np.isnan(by_month["2026-02"])
    assert by_month["2026-03"] == by_month["2026-04"] == 285.0  # March 1 is within 90 days of April 30
    assert np.isnan(by_month["2026-05"])  # the 90 days before June 1 start on March 3
    assert by_month["2026-11"] == 190.0


@pytest.mark.parametrize("step", [1, 2, 5, 10, 30])
def test_at_least_30_log_spaced_durations_from_the_sampling_to_90_minutes(step):
    durations = np.array(pc.durations_for(step))
    assert len(durations) >= 30 and durations[0] == step and durations[-1] == 5400
    assert (durations % step == 0).all() and (np.diff(durations) > 0).all()
    assert {60, 300, 1200, 3600} <= set(durations.tolist())
    # Log-spaced: no gap between neighbours wider than a factor of 1.5 (beyond the first few samples).
    ratios = durations[1:] / durations[:-1]
    assert ratios[durations[:-1] >= 10 * step].max() < 1.5


def test_a_ride_sampled_every_5_s_starts_the_curve_at_5_s():
    curve = pc.power_curve(pc.bike_series([ride("f" * 32, (11, 2), [250] * 720, every_n=5)]))
    assert curve.durations[0] == 5 and curve.durations[-1] == 3600  # the ride's hour is as far as it goes
    assert len(curve.durations) >= 30


def test_critical_power_from_the_3_to_20_minute_bests():
    cp, w_prime = 250.0, 20000.0
    durations = np.array([60, 180, 300, 600, 1200, 3600])
    bests = w_prime / durations + cp
    bests[0] = bests[-1] = 999  # outside 3-20 min: not used
    assert pc.critical_power(durations, bests) == pytest.approx((cp, w_prime))
    assert pc.critical_power(durations[:2], bests[:2]) is None  # one point in range
    assert pc.critical_power(np.array([180, 1200]), np.array([100.0, 300.0])) is None  # rising: not physical


def test_no_rides_gives_an_empty_curve():
    curve = pc.power_curve([])
    assert curve.durations.tolist() == [] and curve.ftp() is None
    assert pc.curve_table(curve, datetime(2026, 1, 1)).frame.empty


def test_odd_samples_are_read_as_missing():
    assert np.isnan(pc.metric_samples({"metrics": [{"slug": "output", "values": [1, "x", None]}]}, "output")[1:]).all()


def test_the_benchmark_reports_its_figure_against_the_goal(capsys):
    from benchmarks import bench_power_curve

    assert bench_power_curve.main(["--rides", "12", "--repeat", "1"]) == 0
    report = capsys.readouterr().out
    assert "Power curve of 12 rides" in report and "| **total** (goal < 1 s) |" in report


@given(
    st.lists(st.lists(st.integers(0, 1500), min_size=0, max_size=40), min_size=1, max_size=6),
    st.lists(st.integers(1, 50), min_size=1, max_size=5),
    st.sampled_from([1, 2, 5]),
)
def test_best_averages_match_every_window_tried_one_by_one(rides, durations, every_n):
    outputs = [np.array(r, dtype="float64") for r in rides]
    got = pc.best_averages(outputs, every_n, durations)
    for i, series in enumerate(outputs):
        for j, seconds in enumerate(durations):
            width = -(-seconds // every_n)
            windows = [series[k : k + width].mean() for k in range(len(series) - width + 1)]
            if windows:
                assert got[i, j] == pytest.approx(max(windows))
            else:
                assert np.isnan(got[i, j])
