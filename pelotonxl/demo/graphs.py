"""Performance graphs for the demo account's workouts: the summaries, averages, heart-rate zones and
sampled metrics of /api/workout/{id}/performance_graph, built from a workout's plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pelotonxl.demo.catalogue import WorkoutPlan

import hashlib
import random
from typing import Any

import numpy as np

MAX_HEART_RATE = 181


# Peloton's default zone floors are 65/75/85/95 % of the maximum heart rate.
ZONE_FLOORS = tuple(round(MAX_HEART_RATE * f, 1) for f in (0.0, 0.65, 0.75, 0.85, 0.95))


# Effort points per minute spent in each zone (a plausible weighting, not Peloton's formula).
ZONE_EFFORT = (0.2, 0.5, 0.8, 1.2, 1.6)


COARSE_STEP = 5  # seconds per point of the class shape and of heart rate


PACE_PROFILES = {"tread_run", "tread_walk", "outdoor_run", "outdoor_walk"}


OUTPUT_PROFILES = {"bike", "bike_distance", "tread_run", "tread_walk", "row"}


def hex_id(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


# Efforts a class is built from: (length in 5-second steps, lowest and highest intensity). The
# shorter the effort, the harder: 30 s and 1 min surges, 2-4 min intervals, 8 and 12 min climbs.
EFFORTS = ((6, 1.35, 1.55), (12, 1.25, 1.4), (24, 1.15, 1.3), (48, 1.1, 1.2), (96, 1.05, 1.12), (144, 1.02, 1.08))
SPRINT = (3, 1.9, 2.1)  # 15 seconds all out


def class_efforts(rng: random.Random, start: int, end: int) -> list[tuple[int, int, float]]:
    """(first step, steps, intensity) of each effort between `start` and `end`, the sprint last,
    each followed by an easier recovery; what is left between them is steady riding."""
    efforts = []
    at = start + 6
    sprint_at = end - SPRINT[0] - 12  # a minute of recovery before the cool-down
    while True:
        fitting = [e for e in EFFORTS if at + e[0] + max(6, e[0] // 2) <= sprint_at]
        if not fitting:
            break
        length, low, high = rng.choice(fitting)
        efforts.append((at, length, rng.uniform(low, high)))
        recovery = max(6, length // 2)
        efforts.append((at + length, recovery, rng.uniform(0.7, 0.82)))
        at += length + recovery + rng.randrange(13)  # some steady riding between
    if sprint_at > start:
        efforts.append((sprint_at, SPRINT[0], rng.uniform(SPRINT[1], SPRINT[2])))
        efforts.append((sprint_at + SPRINT[0], 12, 0.7))
    return efforts


def zone_durations(hr: np.ndarray) -> list[int]:
    edges = np.array(ZONE_FLOORS[1:])
    zone = np.searchsorted(edges, hr, side="right")
    return [int(c) for c in np.bincount(zone, minlength=5)[:5]]


def _entry(name: str, unit: str | None, value: float | int | None, slug: str) -> dict[str, Any]:
    return {"display_name": name, "display_unit": unit, "value": value, "slug": slug}


class GraphBuilder:
    """Generates one workout's performance graph from its plan; same seed, same graph."""

    def __init__(self, plan: WorkoutPlan, units: str) -> None:
        self.plan = plan
        self.units = units
        self.n = max(plan.elapsed, 1)
        self.km = units == "km"
        self._coarse: np.ndarray | None = None
        self._hr: np.ndarray | None = None

    def _rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.plan.seed, stream])

    def _coarse_intensity(self) -> np.ndarray:
        """The class on a 5-second grid, the shape every metric follows: a warm-up, efforts of
        different lengths with recoveries between them, a sprint near the end and a cool-down.

        The structure comes from the class (its ride id), so every attempt of a class has the same
        efforts at the same minutes; how hard the member rides them comes from the workout's seed."""
        if self._coarse is None:
            m = -(-self.n // COARSE_STEP)
            warm, cool = max(1, int(m * 0.12)), max(1, int(m * 0.08))
            steps = np.arange(m, dtype="float64")
            prof = np.full(m, 0.95)
            prof[:warm] = 0.55 + 0.3 * steps[:warm] / warm
            prof[m - cool :] = 0.8 - 0.3 * steps[:cool] / cool
            class_rng = random.Random(self.plan.class_seed or self.plan.seed)  # scalar draws: cheap
            for at, length, level in class_efforts(class_rng, warm, m - cool):
                prof[at : at + length] = level
            # Attempts differ: a little more or less in each effort, a drift of fatigue or freshness.
            rng = self._rng(0)
            prof *= 1 + rng.normal(0.0, 0.03, m) + steps * (rng.uniform(-0.06, 0.06) / m)
            self._coarse = np.clip(prof, 0.3, None)
        return self._coarse

    def _intensity(self) -> np.ndarray:
        return np.repeat(self._coarse_intensity(), COARSE_STEP)[: self.n]

    def _series(self, stream: int, mean: float, shape: np.ndarray, wobble: float) -> np.ndarray:
        """A noisy series following `shape`, rescaled so its mean is exactly `mean`."""
        noise = self._rng(stream).normal(0.0, wobble, self.n)
        noise = np.convolve(noise, np.ones(9) / 9, mode="same")
        raw = np.clip(shape * (1 + noise), 0.05, None)
        return raw * (mean / raw.mean())

    def heart_rate(self) -> np.ndarray:
        """Beats per minute, second by second. Cheap (5-second grid): workout lists need its zones."""
        if self._hr is None:
            self._hr = self._make_heart_rate()
        return self._hr

    def _make_heart_rate(self) -> np.ndarray:
        prof = self._coarse_intensity()
        m = prof.size
        # Heart rate lags effort by about a minute and starts from rest.
        lagged = np.convolve(prof, np.ones(12) / 12, mode="full")[:m] * np.minimum(1.0, np.arange(1, m + 1) / 12)
        shape = (0.8 + 0.2 * lagged) * np.minimum(1.0, 0.75 + 0.25 * np.arange(m) / 36)
        shape *= 1 + self._rng(9).normal(0.0, 0.012, m)
        hr = np.clip(shape * (self.plan.targets["hr"] / shape.mean()), 60, MAX_HEART_RATE + 4)
        return np.repeat(hr, COARSE_STEP)[: self.n]

    # ---- assembling ------------------------------------------------------------------------
    def build(self, every_n: int) -> dict[str, Any]:
        plan, p = self.plan, self.plan.kind.profile
        starts = np.arange(0, self.n, every_n)
        self._windows = (starts, np.diff(np.append(starts, self.n)))
        summaries: list[dict[str, Any]] = []
        averages: list[dict[str, Any]] = []
        metrics: list[dict[str, Any]] = []
        if p in ("bike", "bike_distance"):
            self._bike(summaries, averages, metrics)
        elif p in PACE_PROFILES:
            self._pace(summaries, averages, metrics)
        elif p == "row":
            self._row(summaries, averages, metrics)
        if p != "meditation":
            summaries.extend(self._calories())
        if plan.has_hr and p != "meditation":
            metrics.append(self._heart_rate_metric())
        graph: dict[str, Any] = {
            "duration": self.n,
            "is_class_plan_shown": plan.kind.ride != "none",
            "segment_list": self._segments(),
            "seconds_since_pedaling_start": [min(int(s) + every_n, self.n) for s in starts],
            "average_summaries": averages,
            "summaries": summaries,
            "metrics": metrics,
            "has_apple_watch_metrics": plan.apple_watch,
            "location_data": [],
            "is_location_data_accurate": True if p.startswith("outdoor") else None,
            "splits_data": {},
            "target_metrics_performance_data": {"target_metrics": [], "time_in_metric": []},
            "effort_zones": None,
        }
        if plan.has_hr:
            d = zone_durations(self.heart_rate())
            graph["effort_zones"] = {
                "total_effort_points": round(sum(x / 60 * e for x, e in zip(d, ZONE_EFFORT, strict=False)), 1),
                "heart_rate_zone_durations": {f"heart_rate_z{i + 1}_duration": x for i, x in enumerate(d)},
            }
        return graph

    def _windowed(self, series: np.ndarray) -> np.ndarray:
        starts, counts = self._windows
        return np.add.reduceat(series, starts) / counts

    def _metric(self, name: str, unit: str, slug: str, series: np.ndarray, digits: int) -> dict[str, Any]:
        values = [round(float(v), digits) if digits else int(round(v)) for v in self._windowed(series)]
        avg, top = float(series.mean()), float(series.max())
        return {
            "display_name": name,
            "display_unit": unit,
            "max_value": round(top, digits) if digits else int(round(top)),
            "average_value": round(avg, digits) if digits else int(round(avg)),
            "values": values,
            "slug": slug,
        }

    def _distance_unit(self) -> tuple[str, str, float]:
        return ("km", "kph", 1.609344) if self.km else ("mi", "mph", 1.0)

    def _bike(self, summaries: list, averages: list, metrics: list) -> None:
        t, shape = self.plan.targets, self._intensity()
        output = self._series(1, t["output"], shape**1.6, 0.12)
        cadence = self._series(2, t["cadence"], shape**0.3, 0.05)
        resistance = self._series(3, t["resistance"], shape**0.6, 0.04)
        dist_unit, speed_unit, k = self._distance_unit()
        speed = 3.45 * np.cbrt(output)
        speed *= t["speed"] * k / speed.mean()
        summaries += [
            _entry("Total Output", "kj", int(round(t["output"] * self.n / 1000)), "total_output"),
            _entry("Distance", dist_unit, round(float(speed.sum()) / 3600, 2), "distance"),
        ]
        if self.plan.kind.profile == "bike_distance":
            summaries.append(_entry("Duration", "min", round(self.n / 60, 2), "duration"))
        averages += [
            _entry("Avg Output", "watts", int(round(t["output"])), "avg_output"),
            _entry("Avg Cadence", "rpm", int(round(cadence.mean())), "avg_cadence"),
            _entry("Avg Resistance", "%", int(round(resistance.mean())), "avg_resistance"),
            _entry("Avg Speed", speed_unit, round(float(speed.mean()), 1), "avg_speed"),
        ]
        metrics += [
            self._metric("Output", "watts", "output", output, 0),
            self._metric("Cadence", "rpm", "cadence", cadence, 0),
            self._metric("Resistance", "%", "resistance", resistance, 0),
            self._metric("Speed", speed_unit, "speed", speed, 1),
        ]

    def _pace(self, summaries: list, averages: list, metrics: list) -> None:
        t, p = self.plan.targets, self.plan.kind.profile
        dist_unit, speed_unit, k = self._distance_unit()
        shape = self._intensity()
        speed = self._series(4, t["speed"] * k, shape**0.8, 0.05)
        speed[: min(self.n, 8)] = 0.0  # the belt (or the member) takes a few seconds to get going
        speed *= t["speed"] * k / speed.mean()
        pace_unit = f"min/{dist_unit}"
        distance = float(speed.sum()) / 3600
        pace = self._pace_metric(speed, pace_unit, speed_unit)
        elev_unit, per_mile = ("m", 1000.0) if self.km else ("ft", 5280.0)
        if p.startswith("tread"):
            incline = self._series(5, t["incline"], shape**0.5, 0.1)
            output = self._series(1, t["output"], shape**1.2, 0.08)
            # Climb = distance travelled up the belt's slope.
            elevation = float((speed / 3600 * incline / 100).sum()) * per_mile
            summaries += [
                _entry("Total Output", "kj", int(round(t["output"] * self.n / 1000)), "total_output"),
                _entry("Distance", dist_unit, round(distance, 2), "distance"),
                _entry("Elevation", elev_unit, int(round(elevation)), "elevation"),
            ]
            averages += [
                _entry("Avg Output", "watts", int(round(t["output"])), "avg_output"),
                _entry("Avg Pace", pace_unit, pace["average_value"], "avg_pace"),
                _entry("Avg Incline", "%", round(float(incline.mean()), 1), "avg_incline"),
                _entry("Avg Speed", speed_unit, round(float(speed.mean()), 1), "avg_speed"),
            ]
            metrics += [
                self._metric("Output", "watts", "output", output, 0),
                pace,
                self._metric("Incline", "%", "incline", incline, 1),
            ]
        else:
            walk = np.cumsum(self._rng(6).normal(0, 0.15, self.n))
            altitude = t["altitude"] * (0.3048 if self.km else 1.0) + np.convolve(walk, np.ones(31) / 31, "same")
            gain = float(np.clip(np.diff(altitude[::30]), 0, None).sum())
            summaries += [
                _entry("Distance", dist_unit, round(distance, 2), "distance"),
                _entry("Elevation", elev_unit, int(round(gain)), "elevation"),
            ]
            averages += [
                _entry("Avg Pace", pace_unit, pace["average_value"], "avg_pace"),
                _entry("Avg Speed", speed_unit, round(float(speed.mean()), 1), "avg_speed"),
            ]
            metrics += [pace, self._metric("Altitude", elev_unit, "altitude", altitude, 1)]

    def _pace_metric(self, speed: np.ndarray, pace_unit: str, speed_unit: str) -> dict[str, Any]:
        windows = self._windowed(speed)
        # Pace is minutes per distance unit; standing still has no pace, so it is null.
        values = [round(60 / float(v), 2) if v >= 0.5 else None for v in windows]
        return {
            "display_name": "Pace",
            "display_unit": pace_unit,
            "max_value": round(60 / float(speed.max()), 2),
            "average_value": round(60 / float(speed.mean()), 2),
            "values": values,
            "slug": "pace",
            "alternatives": [self._metric("Speed", speed_unit, "speed", speed, 1)],
        }

    def _row(self, summaries: list, averages: list, metrics: list) -> None:
        t, shape = self.plan.targets, self._intensity()
        output = self._series(1, t["output"], shape**1.5, 0.15)
        rate = self._series(7, t["stroke_rate"], shape**0.4, 0.05)
        velocity = np.cbrt(output / 2.8)  # m/s, the usual rowing-ergometer power law
        split = 500 / velocity / 60
        distance = float(velocity.sum())
        avg_split = round(500 / (distance / self.n) / 60, 2)
        summaries += [
            _entry("Total Output", "kj", int(round(t["output"] * self.n / 1000)), "total_output"),
            _entry("Distance", "m", round(distance, 2), "distance"),
            _entry("Strokes", None, int(round(float(rate.sum()) / 60)), "stroke_count"),
        ]
        averages += [
            _entry("Avg Stroke Output", "watts", int(round(t["output"])), "avg_output"),
            _entry("Avg Stroke Rate", "spm", int(round(rate.mean())), "avg_stroke_rate"),
            _entry("Avg Pace", "min/500m", avg_split, "avg_split_pace"),
        ]
        split_windows = 500 / self._windowed(velocity) / 60
        metrics += [
            self._metric("Stroke Output", "watts", "output", output, 0),
            self._metric("Stroke Rate", "spm", "stroke_rate", rate, 0),
            {
                "display_name": "Pace",
                "display_unit": "min/500m",
                "max_value": round(float(split.min()), 2),
                "average_value": avg_split,
                "values": [round(float(v), 2) for v in split_windows],
                "slug": "split_pace",
            },
        ]

    def _calories(self) -> list[dict[str, Any]]:
        kcal = int(round(self.plan.calories * self.n / max(self.plan.duration, 1)))
        if self.plan.apple_watch:
            return [
                _entry("Total Calories", "kcal", kcal, "total_calories"),
                _entry("Active Calories", "kcal", int(round(kcal * 0.82)), "active_calories"),
            ]
        return [_entry("Calories", "kcal", kcal, "calories")]

    def _heart_rate_metric(self) -> dict[str, Any]:
        hr = self.heart_rate()
        metric = self._metric("Heart Rate", "bpm", "heart_rate", hr, 0)
        floors = [int(round(f)) for f in ZONE_FLOORS]
        durations = zone_durations(hr)
        zones = []
        for i in range(5):
            lo, hi = floors[i], (floors[i + 1] - 1 if i < 4 else MAX_HEART_RATE + 9)
            label = f"<{floors[1]} bpm" if i == 0 else (f">={lo} bpm" if i == 4 else f"{lo}-{hi} bpm")
            zones.append(
                {
                    "display_name": f"Zone {i + 1}",
                    "slug": f"zone{i + 1}",
                    "range": label,
                    "duration": durations[i],
                    "max_value": hi,
                    "min_value": lo,
                }
            )
        metric["zones"] = zones
        metric["missing_data_duration"] = 0
        return metric

    def _segments(self) -> list[dict[str, Any]]:
        p = self.plan.kind.profile
        metrics_type = {"bike": "cycling", "bike_distance": "cycling", "row": "caesar"}.get(
            p, "running" if p in PACE_PROFILES or p == "app_run" else "floor"
        )
        warm, cool = max(1, int(self.n * 0.12)), max(1, int(self.n * 0.08))
        parts = (
            ("Warmup", "warmup", 0, warm),
            ("Main", metrics_type, warm, self.n - warm - cool),
            ("Cool Down", "cooldown", self.n - cool, cool),
        )
        return [
            {
                "id": hex_id("segment", self.plan.workout_id, name),
                "length": length,
                "start_time_offset": at,
                "icon_url": f"https://example.invalid/segment-icons/{slug}.png",
                "intensity_in_mets": 5.0,
                "metrics_type": metrics_type,
                "icon_name": slug,
                "icon_slug": slug,
                "name": name,
            }
            for name, slug, at, length in parts
            if length > 0
        ]
