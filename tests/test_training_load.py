"""Training load, power zones, fitness and the FTP of each ride, against answers known exactly."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pelotonxl.model import fitness
from pelotonxl.model import ftp as ftp_mod
from pelotonxl.model import training_load as tl


@pytest.mark.parametrize("every_n", [1, 5])
def test_an_hour_of_constant_power(every_n):
    p, ftp = 180.0, 200.0
    output = np.full(3600 // every_n, p)
    figures = tl.power_figures(output, every_n)
    assert figures.seconds == 3600 and figures.avg_power == p
    assert figures.normalized_power == pytest.approx(p)
    assert tl.intensity_factor(figures.normalized_power, ftp) == pytest.approx(p / ftp)
    assert tl.tss(figures.seconds, figures.normalized_power, ftp) == pytest.approx(100 * (p / ftp) ** 2)


def test_an_hour_at_ftp_is_100():
    assert tl.tss(3600, 250.0, 250.0) == pytest.approx(100.0)


@pytest.mark.parametrize("every_n", [1, 5])
def test_a_square_wave_with_long_periods(every_n):
    p1, p2, period = 100.0, 300.0, 600  # ten minutes each, an hour in all
    one = np.concatenate([np.full(period // every_n, p1), np.full(period // every_n, p2)])
    np_ = tl.normalized_power(np.tile(one, 3), every_n)
    expected = ((p1**4 + p2**4) / 2) ** 0.25
    assert np_ == pytest.approx(expected, rel=0.01)
    assert np_ > np.mean([p1, p2])  # the variability counts


def test_np_window_is_30_seconds_at_the_stored_sampling():
    assert [tl.window_samples(n) for n in (1, 2, 5, 7, 30, 60)] == [30, 15, 6, 5, 1, 1]
    # 30 s at 1 s: the rolling average of 29 x 0 and one 300 W sample is 10 W.
    output = np.zeros(30)
    output[-1] = 300
    assert tl.normalized_power(output, 1) == pytest.approx(10.0)
    assert tl.normalized_power(np.ones(29), 1) is None  # shorter than one window


def test_missing_samples_are_zero_watts():
    figures = tl.power_figures(np.array([200.0, np.nan, 200.0, 200.0, 200.0, 200.0, 200.0]), 5)
    assert figures.avg_power == pytest.approx(1200 / 7)


def test_zone_minutes_by_share_of_ftp():
    ftp = 200.0
    # one sample each at 55 % (zone 1: a bound belongs below), 56 %, 75 %, 90 %, 105 %, 120 %, 150 %, 151 %, 0
    watts = np.array([110, 112, 150, 180, 210, 240, 300, 302, 0, np.nan], dtype="float64")
    seconds = tl.zone_seconds(watts, 5, ftp)
    assert seconds.tolist() == [15.0, 10.0, 5.0, 5.0, 5.0, 5.0, 5.0]  # z1: 110, 0 and the gap
    assert seconds.sum() == len(watts) * 5


def test_trimp_scaled_so_an_hour_at_threshold_is_100():
    rest, top = 50.0, 190.0
    threshold = tl.threshold_hr(top)
    assert threshold == pytest.approx(171.0)  # 90 % of the maximum when none is set
    assert tl.threshold_hr(top, 165) == 165
    assert tl.hr_load(60, threshold, rest_hr=rest, max_hr=top, threshold=threshold) == pytest.approx(100.0)
    assert tl.hr_load(30, threshold, rest_hr=rest, max_hr=top, threshold=threshold) == pytest.approx(50.0)
    # Banister by hand: 45 min at 130 bpm, HRr = 80/140.
    hrr = 80 / 140
    by_hand = 45 * hrr * 0.64 * math.exp(1.67 * hrr)
    assert tl.trimp(45, 130, rest, top, k=1.67) == pytest.approx(by_hand)
    hour = 60 * ((165 - rest) / 140) * 0.64 * math.exp(1.67 * (165 - rest) / 140)
    load = tl.hr_load(45, 130, rest_hr=rest, max_hr=top, threshold=165, k=1.67)
    assert load == pytest.approx(100 * by_hand / hour)


@given(
    st.lists(st.floats(min_value=0, max_value=2000, allow_nan=False), min_size=6, max_size=400),
    st.sampled_from([1, 2, 5, 10]),
    st.floats(min_value=50, max_value=500),
)
@example([0.0] * 6, 5, 200.0)
def test_invariants(samples, every_n, ftp):
    output = np.array(samples)
    figures = tl.power_figures(output, every_n)
    zones = tl.zone_seconds(output, every_n, ftp)
    assert zones.sum() == pytest.approx(figures.seconds)  # every sample in exactly one zone
    if figures.normalized_power is not None:
        # NP lies between the least and the most of the rolling averages, and a ride of zeros scores 0.
        assert 0 <= figures.normalized_power <= output.max() + 1e-9
        assert tl.tss(figures.seconds, figures.normalized_power, ftp) >= 0


def test_42_days_of_constant_load():
    load = 80.0
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(42)]
    frame = fitness.fitness_frame(fitness.daily_load(days, [load] * 42))
    assert len(frame) == 42
    assert frame["Fitness (CTL)"].iloc[-1] == pytest.approx(load * (1 - (41 / 42) ** 42), abs=0.1)
    assert frame["Fatigue (ATL)"].iloc[-1] == pytest.approx(load * (1 - (6 / 7) ** 42), abs=0.1)


def test_form_is_yesterdays_fitness_minus_yesterdays_fatigue_and_ramp_a_weeks_change():
    days = [date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 4)]  # two workouts on the first day
    frame = fitness.fitness_frame(fitness.daily_load(days, [60.0, 40.0, 70.0], last=date(2026, 3, 12)))
    assert frame["Date"].tolist()[0] == pd.Timestamp(2026, 3, 1) and len(frame) == 12
    assert frame["Load"].tolist()[:4] == [100.0, 0.0, 0.0, 70.0]
    ctl, atl = [0.0], [0.0]
    for load in frame["Load"]:
        ctl.append(ctl[-1] + (load - ctl[-1]) / 42)
        atl.append(atl[-1] + (load - atl[-1]) / 7)
    assert frame["Fitness (CTL)"].tolist() == pytest.approx(ctl[1:])
    assert frame["Form (TSB)"].tolist() == pytest.approx([c - a for c, a in zip(ctl[:-1], atl[:-1], strict=True)])
    assert frame["Ramp (CTL/7 days)"].tolist() == pytest.approx([ctl[i + 1] - ctl[max(0, i - 6)] for i in range(12)])
    assert frame["Form (TSB)"].iloc[0] == 0.0  # nothing before the first day


def test_no_workouts_no_days():
    assert fitness.fitness_frame(fitness.daily_load([], [])).empty


T0 = datetime(2026, 1, 1, 7, 0)


def _ride(n, **kw):
    return ftp_mod.RideFtpInput(f"{n:032x}", T0 + timedelta(days=10 * n), **kw)


def test_a_rider_whose_ftp_changes_mid_history_is_scored_against_the_ftp_of_each_date():
    rides = [
        _ride(0, best_20min=200.0),  # nothing before it: today's FTP from /api/me
        _ride(1, best_20min=210.0),  # the estimate from ride 0: 95 % of 200
        _ride(2, test_output=220.0),  # an FTP test: the estimate still holds for itself
        _ride(3),  # the test before it: 95 % of 220
        _ride(4, peloton_ftp=230),  # Peloton's own for this ride
        _ride(5, peloton_ftp=0),  # Peloton had none: the test again
    ]
    got = ftp_mod.ftp_in_effect(rides, today=250)
    assert [(got[r.workout_id].ftp, got[r.workout_id].source) for r in rides] == [
        (250.0, "Peloton today"),
        (190.0, "estimate"),
        (199.5, "estimate"),
        (209.0, "FTP test"),
        (230.0, "Peloton"),
        (209.0, "FTP test"),
    ]
    # Each ride's TSS against its own date's FTP: an hour at 200 W.
    scored = [tl.tss(3600, 200.0, got[r.workout_id].ftp) for r in rides]
    assert scored[3] == pytest.approx(100 * (200 / 209) ** 2) and scored[4] == pytest.approx(100 * (200 / 230) ** 2)
    assert {v.source for v in ftp_mod.ftp_in_effect(rides, override=240, today=250).values()} == {"Config"}


def test_the_estimate_forgets_rides_older_than_90_days():
    old = ftp_mod.RideFtpInput("a" * 32, T0, best_20min=300.0)
    later = ftp_mod.RideFtpInput("b" * 32, T0 + timedelta(days=91))
    assert ftp_mod.ftp_in_effect([old, later])["b" * 32] == ftp_mod.FtpInEffect(None, "")


def test_ftp_test_classes_by_title():
    assert ftp_mod.is_ftp_test("20 min FTP Test Ride")
    assert not ftp_mod.is_ftp_test("10 min FTP Warm Up Ride")
    assert not ftp_mod.is_ftp_test(None)
