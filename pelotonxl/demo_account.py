"""A synthetic, deterministic Peloton member for the demo and the tests.

`make_account()` plans every workout up front as a few scalars (discipline, length, target
averages, a per-workout seed) and builds the list items the workouts endpoint returns. The
performance graph of a workout is generated only when asked for, from its seed, so an account of
5,000 workouts holds no time series in memory. Each series is rescaled to its planned mean, which
is what keeps `total_work` (J) equal to the graph's total output (kJ) and the metric averages
equal to the summary averages.

Every quirk in the shared API notes appears in the default account: workouts without a `ride`,
"Just Ride" and scenic rides with the all-zero ride id, classes without an instructor, Apple
Watch calories, calories-only and empty graphs, outdoor runs, rows, heart-rate zones on some
workouts only.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ZERO_RIDE_ID = "0" * 32
DEFAULT_END = datetime(2026, 11, 28, 18, 0, tzinfo=timezone.utc)
MAX_HEART_RATE = 181
# Peloton's default zone floors are 65/75/85/95 % of the maximum heart rate.
ZONE_FLOORS = tuple(round(MAX_HEART_RATE * f, 1) for f in (0.0, 0.65, 0.75, 0.85, 0.95))
# Effort points per minute spent in each zone (a plausible weighting, not Peloton's formula).
ZONE_EFFORT = (0.2, 0.5, 0.8, 1.2, 1.6)

HOME_TZ = "America/New_York"
TRAVEL_TZS = ("Europe/London", "Etc/GMT+6")

INSTRUCTORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Maya Brennan", ("cycling", "strength", "bike_bootcamp")),
    ("Theo Alvarez", ("cycling", "cardio")),
    ("Priya Raman", ("yoga", "meditation", "stretching")),
    ("Jonah Whitfield", ("running", "walking", "bike_bootcamp")),
    ("Sofia Lindqvist", ("cycling", "stretching")),
    ("Marcus Dade", ("strength", "cardio", "running")),
    ("Keiko Tanaka", ("yoga", "meditation")),
    ("Olivia Hart", ("running", "walking", "strength")),
    ("Dev Malhotra", ("caesar", "strength")),
    ("Hannah Okafor", ("cycling", "walking")),
    ("Luca Moretti", ("caesar", "cycling")),
    ("Ruth Castellano", ("meditation", "stretching", "yoga")),
    ("Sam Whitaker", ("running", "bike_bootcamp", "cardio")),
    ("Grace Abernathy", ("strength", "stretching")),
    ("Ben Kowalczyk", ("cycling", "running")),
)

DISCIPLINE_NAMES = {
    "cycling": ("Cycling", "Cycling Workout"),
    "running": ("Running", "Running Workout"),
    "walking": ("Walking", "Walking Workout"),
    "strength": ("Strength", "Strength Workout"),
    "yoga": ("Yoga", "Yoga Workout"),
    "stretching": ("Stretching", "Stretching Workout"),
    "meditation": ("Meditation", "Meditation Workout"),
    "caesar": ("Rowing", "Rowing Workout"),
    "cardio": ("Cardio", "Cardio Workout"),
    "bike_bootcamp": ("Bike Bootcamp", "Bike Bootcamp Workout"),
}

BIKE = (("home_bike_v1", "home_bike"),)
TREAD = (("home_tread", "home_tread"),)
PHONE = (("iOS_app", "iOS_app"),)
FLOOR_DEVICES = (("iOS_app", "iOS_app"), ("web", "web"), ("home_bike_v1", "home_bike"),
                 ("home_tread", "home_tread"), ("fire_tv", "fire_tv"), ("android", "android"))
# Calories per minute of floor classes, by discipline.
FLOOR_KCAL_PER_MIN = {"strength": (5.0, 8.0), "yoga": (3.0, 5.0), "stretching": (2.0, 3.2),
                      "cardio": (8.0, 11.0), "bike_bootcamp": (8.5, 12.0), "running": (9.0, 12.0)}


@dataclass(frozen=True)
class Kind:
    """One sort of workout: what class it is, on what device, and which graph it gets."""
    key: str
    discipline: str
    profile: str                     # graph layout: bike, tread_run, outdoor_run, row, floor, ...
    titles: tuple[str, ...]          # "{m}" is the class length in minutes
    minutes: tuple[int, ...]
    devices: tuple[tuple[str, str], ...]
    weight: float
    ride: str = "class"              # class | none (no ride key) | just_ride | scenic | gym
    hr_share: float = 0.65
    watch_share: float = 0.0
    live_share: float = 0.12


KINDS: tuple[Kind, ...] = (
    Kind("bike", "cycling", "bike",
         ("{m} min Pop Ride", "{m} min Climb Ride", "{m} min HIIT & Hills Ride", "{m} min Power Zone Endurance Ride",
          "{m} min Tabata Ride", "{m} min Intervals Ride", "{m} min Low Impact Ride", "{m} min 80s Ride",
          "{m} min Rock Ride", "{m} min Hip Hop Ride", "{m} min Recovery Ride", "{m} min Groove Ride"),
         (10, 15, 20, 20, 30, 30, 30, 45, 45, 60), BIKE, 0.31, hr_share=0.7),
    Kind("just_ride", "cycling", "bike", ("Just Ride",), (15, 20, 25, 30, 40), BIKE, 0.02,
         ride="just_ride", live_share=0.0),
    Kind("scenic", "cycling", "bike", ("{m} min Scenic Ride: Swiss Alps", "{m} min Scenic Ride: Pacific Coast",
                                       "{m} min Scenic Ride: Tuscany"), (20, 30, 45), BIKE, 0.02,
         ride="scenic", live_share=0.0),
    Kind("distance_ride", "cycling", "bike_distance", ("{d} mi Distance Ride",), (5, 10, 15), BIKE, 0.015),
    Kind("tread_run", "running", "tread_run",
         ("{m} min HIIT Run", "{m} min Tempo Run", "{m} min Endurance Run", "{m} min Pop Fun Run",
          "{m} min Hills Run", "{m} min Progression Run"), (10, 15, 20, 20, 30, 30, 45), TREAD, 0.07),
    Kind("tread_walk", "walking", "tread_walk", ("{m} min Power Walk", "{m} min Hiking Walk", "{m} min Pop Walk"),
         (20, 30, 45), TREAD, 0.04),
    Kind("outdoor_run", "running", "outdoor_run",
         ("{m} min Outdoor Endurance Run", "{m} min Outdoor Fun Run", "{m} min Outdoor Tempo Run"),
         (20, 30, 45), PHONE, 0.03, watch_share=0.4),
    Kind("just_run", "running", "outdoor_run", (), (20, 30, 40, 50), PHONE, 0.02, ride="none", watch_share=0.5),
    Kind("outdoor_walk", "walking", "outdoor_walk", ("{m} min Outdoor Walk", "{m} min Outdoor Power Walk"),
         (20, 30, 45), PHONE, 0.02, watch_share=0.4),
    Kind("just_walk", "walking", "outdoor_walk", (), (15, 30, 45, 60), PHONE, 0.015, ride="none"),
    Kind("app_run", "running", "app_run", ("{m} min Fun Run", "{m} min HIIT Run", "{m} min Endurance Run"),
         (20, 30), (("iOS_app", "iOS_app"), ("fire_tv", "fire_tv"), ("android", "android")), 0.02,
         hr_share=0.2),
    Kind("row", "caesar", "row",
         ("{m} min Form & Drills Row", "{m} min Endurance Row", "{m} min HIIT Row", "{m} min Pop Row",
          "{m} min Sprint Row", "{m} min Power Row"), (10, 15, 20, 20, 30, 45), (("caesar", "caesar"),), 0.06),
    Kind("strength", "strength", "floor",
         ("{m} min Full Body Strength", "{m} min Upper Body Strength", "{m} min Core Strength",
          "{m} min Glutes & Legs Strength", "{m} min Arms & Shoulders Strength", "{m} min Bodyweight Strength"),
         (5, 10, 10, 20, 20, 30, 45), FLOOR_DEVICES, 0.12, hr_share=0.5, watch_share=0.3),
    Kind("gym_strength", "strength", "floor", ("{m} min Upper Body Push", "{m} min Lower Body Power"),
         (30, 45), PHONE, 0.015, ride="gym", hr_share=0.4, watch_share=0.5, live_share=0.0),
    Kind("yoga", "yoga", "floor",
         ("{m} min Yoga Flow", "{m} min Power Yoga", "{m} min Restorative Yoga", "{m} min Slow Flow Yoga"),
         (10, 15, 20, 30, 45, 60), FLOOR_DEVICES, 0.05, hr_share=0.4, watch_share=0.3),
    Kind("stretching", "stretching", "floor",
         ("{m} min Full Body Stretch", "{m} min Post-Ride Stretch", "{m} min Lower Body Stretch",
          "{m} min Pre-Run Stretch"), (5, 5, 10, 10, 15), FLOOR_DEVICES, 0.07, hr_share=0.4),
    Kind("meditation", "meditation", "meditation",
         ("{m} min Sleep Meditation", "{m} min Mindfulness Meditation", "{m} min Gratitude Meditation"),
         (5, 10, 10, 15, 20), (("iOS_app", "iOS_app"), ("web", "web")), 0.05, hr_share=0.0),
    Kind("cardio", "cardio", "floor",
         ("{m} min HIIT Cardio", "{m} min Dance Cardio", "{m} min Low Impact Cardio", "{m} min Shadowboxing"),
         (10, 15, 20, 30), FLOOR_DEVICES, 0.03, watch_share=0.3),
    Kind("bike_bootcamp", "bike_bootcamp", "floor",
         ("{m} min Bike Bootcamp", "{m} min Full Body Bike Bootcamp"), (30, 45, 60), BIKE, 0.02),
)
KIND_BY_KEY = {k.key: k for k in KINDS}
# Placed once each, spread over the history, so every quirk is in any account of this size or more.
REQUIRED_KINDS = ("just_ride", "scenic", "just_run", "gym_strength", "row", "outdoor_run", "app_run",
                  "meditation", "strength", "distance_ride", "tread_run", "tread_walk", "outdoor_walk",
                  "yoga", "stretching", "cardio", "bike_bootcamp", "just_walk")
COARSE_STEP = 5  # seconds per point of the class shape and of heart rate
PACE_PROFILES = {"tread_run", "tread_walk", "outdoor_run", "outdoor_walk"}
OUTPUT_PROFILES = {"bike", "bike_distance", "tread_run", "tread_walk", "row"}


@dataclass
class WorkoutPlan:
    """The few numbers a workout's graph is generated from."""
    workout_id: str
    kind: Kind
    seed: int
    duration: int                    # seconds of the class (or free workout)
    targets: dict[str, float]        # planned whole-workout means: output, cadence, speed, hr...
    calories: int
    has_hr: bool
    apple_watch: bool
    in_progress: bool = False

    @property
    def elapsed(self) -> int:
        # An unfinished workout's graph covers half of it so far.
        return self.duration // 2 if self.in_progress else self.duration


def hex_id(*parts: Any) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def instructor_payload(index: int) -> dict[str, Any]:
    name, disciplines = INSTRUCTORS[index]
    first, last = name.split(" ", 1)
    iid = hex_id("instructor", name)
    return {
        "id": iid, "name": name, "first_name": first, "last_name": last,
        "username": (first + last).replace(" ", ""), "user_id": hex_id("instructor-user", name),
        "coach_type": "peloton_coach", "short_bio": f"{first} coaches {', '.join(disciplines)}.",
        "quote": "", "is_visible": True, "is_filterable": True, "list_order": index + 1,
        "image_url": f"https://example.invalid/instructors/{iid}.png", "fitness_disciplines": list(disciplines),
    }


JUST_RIDE_INSTRUCTOR = {"id": ZERO_RIDE_ID, "name": "JUST RIDE", "first_name": "JUST", "last_name": "RIDE",
                        "username": "", "user_id": None, "coach_type": "peloton_coach", "short_bio": "",
                        "quote": "", "is_visible": False, "is_filterable": False, "list_order": 0,
                        "image_url": None, "fitness_disciplines": ["cycling"]}


class DemoAccount:
    """A member with a workout history; `workouts` are list items, newest first."""

    def __init__(self, *, seed: int, end: datetime, years: float, units: str) -> None:
        if units not in ("mi", "km"):
            raise ValueError("units must be 'mi' or 'km'")
        self.seed = seed
        self.end = end
        self.years = years
        self.units = units
        self._rng = random.Random(seed)
        self.user_id = hex_id("user", seed)
        self.username = "DemoRider"
        self.workouts: list[dict[str, Any]] = []
        self.rides: dict[str, dict[str, Any]] = {}          # ride id -> ride with instructor
        self.rides_without_details: set[str] = set()        # Peloton Gym classes: details 404
        self._plans: dict[str, WorkoutPlan] = {}
        self._ride_pool: dict[tuple[str, int], list[dict[str, Any]]] = {}  # (kind, length) -> rides taken
        self._best_work: dict[tuple[str, int], float] = {}  # (discipline, length) -> best total_work
        self._instructors = [instructor_payload(i) for i in range(len(INSTRUCTORS))]

    # ---- the /api/me payload -------------------------------------------------------------
    @property
    def me(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for w in self.workouts:
            counts[w["fitness_discipline"]] = counts.get(w["fitness_discipline"], 0) + 1
        pedaling = sum(1 for w in self.workouts if w["has_pedaling_metrics"])
        oldest = self.workouts[-1]["created_at"] if self.workouts else int(self.end.timestamp())
        return {
            "id": self.user_id, "username": self.username, "email": "demo@example.com",
            "obfuscated_email": hex_id("email", self.seed) * 2, "name": "Demo Rider", "first_name": "Demo",
            "last_name": "Rider", "middle_initial": "", "location": "Brooklyn, NY", "gender": None, "birthday": 0,
            "weight": 160.0, "height": 68.0, "image_url": None, "is_demo": False, "is_profile_private": True,
            "is_provisional": False, "is_complete_profile": True, "created_at": oldest - 30 * 86400,
            "created_country": "US", "phone_number": "", "facebook_id": "", "facebook_access_token": "",
            "instructor_id": None, "referral_code": hex_id("referral", self.seed), "referrals_made": 0,
            "v1_referrals_made": 0, "member_groups": [], "contract_agreements": [], "paired_devices": [],
            "quick_hits": {"quick_hits_enabled": False, "speed_shortcuts": None, "incline_shortcuts": None},
            "customized_max_heart_rate": MAX_HEART_RATE, "default_max_heart_rate": MAX_HEART_RATE,
            "default_heart_rate_zones": list(ZONE_FLOORS), "customized_heart_rate_zones": [],
            "cycling_ftp": 190, "cycling_ftp_source": "ftp_workout_source", "cycling_ftp_workout_id": None,
            "cycling_workout_ftp": 190, "estimated_cycling_ftp": 185, "block_explicit": False,
            "can_charge": True, "has_signed_waiver": True, "has_active_device_subscription": True,
            "has_active_digital_subscription": False, "subscription_credits": 0, "subscription_credits_used": 0,
            "is_fitbit_authenticated": False, "is_strava_authenticated": False, "is_internal_beta_tester": False,
            "is_external_beta_tester": False, "total_followers": 12, "total_following": 9,
            "total_pending_followers": 0, "total_workouts": len(self.workouts),
            "total_pedaling_metric_workouts": pedaling,
            "total_non_pedaling_metric_workouts": len(self.workouts) - pedaling,
            "last_workout_at": self.workouts[0]["created_at"] if self.workouts else None,
            "workout_counts": [
                {"name": display, "slug": slug, "count": counts.get(slug, 0),
                 "icon_url": f"https://example.invalid/workout-count-icons/{slug}.png"}
                for slug, (display, _) in DISCIPLINE_NAMES.items()],
        }

    # ---- changing the account between refreshes ------------------------------------------
    def add_workouts(self, n: int, *, at: datetime | None = None) -> list[dict[str, Any]]:
        """Append n workouts newer than any so far, the newest at `at` (default: a day apart)."""
        newest = self.workouts[0]["created_at"] if self.workouts else int(self.end.timestamp())
        last = int(at.timestamp()) if at else newest + n * 86400
        if last <= newest:
            raise ValueError("new workouts must be newer than the newest one")
        step = (last - newest) / n
        added = [self._new_workout(self._rng.choices(KINDS, [k.weight for k in KINDS])[0],
                                   int(newest + step * (i + 1))) for i in range(n)]
        for w in added:
            self.workouts.insert(0, w)
        return list(reversed(added))

    def delete_workout(self, workout_id: str) -> None:
        self.workouts[:] = [w for w in self.workouts if w["id"] != workout_id]
        if self._plans.pop(workout_id, None) is None:
            raise KeyError(workout_id)

    def start_workout(self, kind: str = "bike") -> dict[str, Any]:
        """Begin a new newest workout that is still IN_PROGRESS (end_time null)."""
        newest = self.workouts[0]["created_at"] if self.workouts else int(self.end.timestamp())
        w = self._new_workout(KIND_BY_KEY[kind], newest + 3600)
        self.workouts.insert(0, w)
        self.mark_in_progress(w["id"])
        return w

    def mark_in_progress(self, workout_id: str) -> None:
        plan, w = self._plans[workout_id], self.workout(workout_id)
        plan.in_progress = True
        w.update(status="IN_PROGRESS", end_time=None, effort_zones=None,
                 total_work=self._total_work(plan))

    def finish(self, workout_id: str) -> None:
        """Complete an IN_PROGRESS workout: end_time, total_work and zones filled in."""
        plan, w = self._plans[workout_id], self.workout(workout_id)
        plan.in_progress = False
        w.update(status="COMPLETE", end_time=w["start_time"] + plan.duration + 2,
                 total_work=self._total_work(plan), effort_zones=self._effort_zones(plan))

    # ---- lookups ---------------------------------------------------------------------------
    def workout(self, workout_id: str) -> dict[str, Any]:
        for w in self.workouts:
            if w["id"] == workout_id:
                return w
        raise KeyError(workout_id)

    def has_workout(self, workout_id: str) -> bool:
        return workout_id in self._plans

    def plan(self, workout_id: str) -> WorkoutPlan:
        return self._plans[workout_id]

    def graph(self, workout_id: str, every_n: int = 5) -> dict[str, Any]:
        """The performance_graph payload, sampled every `every_n` seconds (KeyError if unknown)."""
        if every_n < 1:
            raise ValueError("every_n must be at least 1")
        return GraphBuilder(self._plans[workout_id], self.units).build(every_n)

    # ---- building workouts -----------------------------------------------------------------
    def _populate(self, n: int) -> None:
        rng = self._rng
        end_ts = self.end.timestamp()
        span = self.years * 365.25 * 86400
        # Oldest first, so personal records and repeated classes follow time's arrow.
        days = sorted(rng.random() for _ in range(n))
        if n >= 2:
            days[0], days[-1] = 0.0, 1.0
        slots = {(i * n) // len(REQUIRED_KINDS) + n // (2 * len(REQUIRED_KINDS)): key
                 for i, key in enumerate(REQUIRED_KINDS)} if n >= len(REQUIRED_KINDS) else {}
        weights = [k.weight for k in KINDS]
        created_prev = 0
        for i, frac in enumerate(days):
            kind = KIND_BY_KEY[slots[i]] if i in slots else rng.choices(KINDS, weights)[0]
            created = max(self._local_time(end_ts - span + frac * (span - 86400)), created_prev + 1800)
            created_prev = created
            self.workouts.append(self._new_workout(kind, created))
        self.workouts.reverse()

    def _local_time(self, ts: float) -> int:
        """Move a moment to a plausible local hour of its day (early morning, lunch or evening)."""
        tz = ZoneInfo(self._timezone_for(ts))
        day = datetime.fromtimestamp(ts, tz)
        hour = self._rng.choices((6, 7, 12, 17, 18, 19, 20), (2, 3, 1, 2, 3, 3, 1))[0]
        local = day.replace(hour=hour, minute=self._rng.randrange(60), second=self._rng.randrange(60))
        return int(local.timestamp())

    @staticmethod
    def _timezone_for(ts: float) -> str:
        # Trips come as whole weeks: some in London, some in a GMT-6 zone, the rest at home.
        week = int(ts // (7 * 86400))
        if week % 13 == 5:
            return TRAVEL_TZS[0]
        if week % 17 == 3:
            return TRAVEL_TZS[1]
        return HOME_TZ

    def _new_workout(self, kind: Kind, created: int) -> dict[str, Any]:
        rng = self._rng
        wid = "%032x" % rng.getrandbits(128)
        tz_name = self._timezone_for(created)
        offset = datetime.fromtimestamp(created, ZoneInfo(tz_name)).utcoffset() or timedelta(0)
        device, platform = rng.choice(kind.devices)
        plan = self._plan(kind, wid, rng.choice(kind.minutes), device)
        self._plans[wid] = plan
        start = created + rng.randint(30, 90)
        disc = kind.discipline
        total_work = self._total_work(plan)
        w: dict[str, Any] = {
            "created_at": created, "device_type": device, "end_time": start + plan.duration + rng.randint(0, 4),
            "fitness_discipline": disc, "has_pedaling_metrics": kind.profile in ("bike", "bike_distance"),
            "has_leaderboard_metrics": kind.profile in OUTPUT_PROFILES and kind.ride == "class",
            "id": wid, "is_total_work_personal_record": self._is_record(disc, plan.duration, total_work),
            "is_outdoor": kind.profile.startswith("outdoor"),
            "metrics_type": {"bike": "cycling", "bike_distance": "cycling", "tread_run": "running",
                             "tread_walk": "walking", "row": "caesar"}.get(kind.profile),
            "name": DISCIPLINE_NAMES[disc][1], "peloton_id": "%032x" % rng.getrandbits(128),
            "platform": platform, "start_time": start, "status": "COMPLETE", "timezone": tz_name, "title": None,
            "total_work": total_work, "user_id": self.user_id,
            "workout_type": "class" if kind.ride != "none" else "freestyle",
            "total_video_watch_time_seconds": plan.duration if kind.ride != "none" else 0,
            "total_video_buffering_seconds": 0,
            "v2_total_video_watch_time_seconds": plan.duration + 60 if kind.ride != "none" else None,
            "v2_total_video_buffering_seconds": rng.randint(0, 3) if kind.ride != "none" else None,
            "total_music_audio_play_seconds": None, "total_music_audio_buffer_seconds": None,
            "created": created, "device_time_created_at": created + int(offset.total_seconds()),
            "strava_id": None, "fitbit_id": None, "effort_zones": self._effort_zones(plan), "service_id": None,
        }
        ride = self._ride(kind, plan, start)
        if ride is not None:
            w["ride"] = ride
        return w

    def _plan(self, kind: Kind, wid: str, minutes: int, device: str) -> WorkoutPlan:
        rng = self._rng
        # A slow fitness gain over the years: outputs grow about a fifth from the start to the end.
        progress = min(1.0, len(self._plans) / 2000)
        fit = 1.0 + 0.2 * progress
        t: dict[str, float] = {}
        p = kind.profile
        duration = minutes * 60
        if p in ("bike", "bike_distance"):
            t["output"] = min(250.0, rng.uniform(90, 205) * fit)
            t["cadence"], t["resistance"] = rng.uniform(72, 96), rng.uniform(32, 48)
            t["speed"] = 3.45 * t["output"] ** (1 / 3)  # mph, Peloton's output-to-speed curve, roughly
            if p == "bike_distance":
                duration = int(minutes / t["speed"] * 3600)
            calories = t["output"] * duration / 1000 * rng.uniform(1.05, 1.3)
        elif p in ("tread_run", "tread_walk", "outdoor_run", "outdoor_walk"):
            run = p.endswith("run")
            t["speed"] = rng.uniform(5.2, 7.8) if run else rng.uniform(2.8, 3.9)
            t["incline"] = rng.uniform(0.5, 3.0) if run else rng.uniform(2.0, 7.0)
            t["output"] = t["speed"] * rng.uniform(30, 40) + t["incline"] * 8
            t["altitude"] = rng.uniform(40, 400)
            calories = t["speed"] * duration / 3600 * rng.uniform(95, 115)
        elif p == "row":
            t["output"] = min(200.0, rng.uniform(60, 170) * fit)
            t["stroke_rate"] = rng.uniform(18, 29)
            # The ergometer makers' formula: kcal/h = 4 * 0.8604 * watts + 300.
            calories = (3.44 * t["output"] + 300) * duration / 3600 * rng.uniform(0.95, 1.1)
        elif p in ("floor", "app_run"):
            lo, hi = FLOOR_KCAL_PER_MIN[kind.discipline]
            calories = duration / 60 * rng.uniform(lo, hi)
        else:  # meditation
            calories = 0.0
        if kind.ride in ("none", "just_ride"):
            duration += rng.randint(-90, 90)  # a free workout stops when the member does
        has_hr = rng.random() < kind.hr_share
        easy = kind.discipline in ("yoga", "stretching", "walking")
        t["hr"] = rng.uniform(100, 128) if easy else rng.uniform(125, 160)
        watch = device == "iOS_app" and rng.random() < kind.watch_share
        if kind.key == "gym_strength":
            watch = has_hr = True  # at least one Apple Watch workout in every account
        return WorkoutPlan(wid, kind, rng.getrandbits(63), duration, t, int(round(calories)), has_hr or watch, watch)

    @staticmethod
    def _total_work(plan: WorkoutPlan) -> float:
        if plan.kind.profile not in OUTPUT_PROFILES:
            return 0.0
        return round(plan.targets["output"] * plan.elapsed, 2)

    def _is_record(self, discipline: str, duration: int, total_work: float) -> bool:
        if total_work <= 0:
            return False
        key = (discipline, duration)
        if total_work > self._best_work.get(key, 0.0):
            self._best_work[key] = total_work
            return True
        return False

    def _effort_zones(self, plan: WorkoutPlan) -> dict[str, Any] | None:
        if not plan.has_hr or plan.in_progress:
            return None
        durations = zone_durations(GraphBuilder(plan, self.units).heart_rate())
        return {"total_effort_points": round(sum(d / 60 * e for d, e in zip(durations, ZONE_EFFORT)), 1),
                "heart_rate_zone_durations": {f"heart_rate_z{i + 1}_duration": d for i, d in enumerate(durations)}}

    def _ride(self, kind: Kind, plan: WorkoutPlan, start: int) -> dict[str, Any] | None:
        rng = self._rng
        if kind.ride == "none":
            return None
        if kind.ride in ("just_ride", "scenic"):
            title = "Just Ride" if kind.ride == "just_ride" else rng.choice(kind.titles).format(m=plan.duration // 60)
            ride = self._ride_payload(ZERO_RIDE_ID, kind, title, plan.duration, None, None)
            ride["instructor"] = None if kind.ride == "just_ride" else dict(JUST_RIDE_INSTRUCTOR)
            ride["original_air_time"] = None if kind.ride == "just_ride" else start - rng.randint(400, 1500) * 86400
            ride["scheduled_start_time"] = ride["original_air_time"]
            return ride
        # Now and then the member takes a class again: reuse one of this kind aired before.
        if kind.ride == "class" and rng.random() < 0.15:
            seen = self._ride_pool.get((kind.key, plan.duration), [])
            if seen and seen[0]["original_air_time"] < start - 86400:
                return dict(rng.choice(seen))
        live = rng.random() < kind.live_share
        aired = start - (rng.randint(0, 240) if live else rng.randint(1, 900) * 86400 + rng.randint(0, 86400))
        minutes = plan.duration // 60
        if kind.profile == "bike_distance":
            title = kind.titles[0].format(d=int(round(plan.targets["speed"] * plan.duration / 3600)))
        else:
            title = rng.choice(kind.titles).format(m=minutes)
        instructor = None
        if kind.ride == "class":
            pool = [i for i, (_, ds) in enumerate(INSTRUCTORS)
                    if kind.discipline in ds or (kind.discipline == "walking" and "running" in ds)]
            instructor = self._instructors[rng.choice(pool)]
        ride_id = "%032x" % rng.getrandbits(128)
        ride = self._ride_payload(ride_id, kind, title, plan.duration, aired, instructor)
        if kind.profile == "bike_distance":
            dist = int(round(plan.targets["speed"] * plan.duration / 3600))
            ride.update(is_fixed_distance=True, distance=dist, distance_unit="mi",
                        distance_display_value=f"{dist} mi")
        self.rides[ride_id] = ride
        self._ride_pool.setdefault((kind.key, plan.duration), []).append(ride)
        if kind.ride == "gym":
            self.rides_without_details.add(ride_id)
        return ride

    def _ride_payload(self, ride_id: str, kind: Kind, title: str, duration: int, aired: int | None,
                      instructor: dict[str, Any] | None) -> dict[str, Any]:
        rng = self._rng
        disc = kind.discipline
        metrics = {"bike": ["heart_rate", "cadence", "calories"], "row": ["heart_rate", "calories"]}.get(
            kind.profile.split("_")[0], ["heart_rate", "calories"])
        class_type = hex_id("class_type", disc, title.split(" ")[-2] if " " in title else title)
        return {
            "id": ride_id, "title": title,
            "description": f"A {duration // 60} minute {DISCIPLINE_NAMES[disc][0].lower()} class.",
            "duration": duration, "length": duration + 120, "pedaling_start_offset": 60,
            "pedaling_end_offset": duration + 60, "pedaling_duration": duration,
            "difficulty_rating_avg": round(rng.uniform(4.5, 8.9), 4), "difficulty_rating_count": rng.randint(50, 20000),
            "difficulty_estimate": round(rng.uniform(4.5, 8.9), 4), "difficulty_level": None,
            "overall_rating_avg": round(rng.uniform(0.95, 0.999), 4), "overall_rating_count": rng.randint(40, 18000),
            "overall_estimate": round(rng.uniform(0.95, 0.999), 4),
            "original_air_time": aired, "scheduled_start_time": aired,
            "fitness_discipline": disc, "fitness_discipline_display_name": DISCIPLINE_NAMES[disc][0],
            "has_pedaling_metrics": kind.profile in ("bike", "bike_distance"), "has_closed_captions": True,
            "instructor_id": instructor["id"] if instructor else None, "instructor": instructor,
            "is_archived": True, "is_explicit": rng.random() < 0.3, "is_fixed_distance": False,
            "distance": None, "distance_unit": None, "distance_display_value": None,
            "language": "english", "origin_locale": "en-US", "location": f"psny-studio-{rng.randint(1, 4)}",
            "content_provider": "peloton",
            "content_format": "audio" if kind.profile.startswith("outdoor") else "video",
            "image_url": f"https://example.invalid/rides/{ride_id}.png", "metrics": metrics,
            "ride_type_id": class_type, "ride_type_ids": [class_type], "class_type_ids": [class_type],
            "series_id": hex_id("series", ride_id), "total_workouts": rng.randint(500, 90000),
            "total_in_progress_workouts": rng.randint(0, 40), "availability": {"is_available": True, "reason": None},
        }


def zone_durations(hr: np.ndarray) -> list[int]:
    edges = np.array(ZONE_FLOORS[1:])
    zone = np.searchsorted(edges, hr, side="right")
    return [int(c) for c in np.bincount(zone, minlength=5)[:5]]


# ---- performance graphs ----------------------------------------------------------------------

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
        """Warm-up ramp, intervals, cool-down on a 5-second grid: the shape every metric follows."""
        if self._coarse is None:
            m, rng = -(-self.n // COARSE_STEP), self._rng(0)
            i = np.arange(m)
            warm, cool = max(1.0, m * 0.12), max(1.0, m * 0.08)
            prof = 1 + 0.15 * np.sin(2 * np.pi * i / rng.uniform(24, 84) + rng.uniform(0, 2 * np.pi))
            prof *= np.minimum(1.0, 0.55 + 0.45 * i / warm) * np.minimum(1.0, 0.55 + 0.45 * (m - 1 - i) / cool)
            self._coarse = prof
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
            "duration": self.n, "is_class_plan_shown": plan.kind.ride != "none",
            "segment_list": self._segments(),
            "seconds_since_pedaling_start": [int(min(s + every_n, self.n)) for s in starts],
            "average_summaries": averages, "summaries": summaries, "metrics": metrics,
            "has_apple_watch_metrics": plan.apple_watch, "location_data": [],
            "is_location_data_accurate": True if p.startswith("outdoor") else None,
            "splits_data": {}, "target_metrics_performance_data": {"target_metrics": [], "time_in_metric": []},
            "effort_zones": None,
        }
        if plan.has_hr:
            d = zone_durations(self.heart_rate())
            graph["effort_zones"] = {
                "total_effort_points": round(sum(x / 60 * e for x, e in zip(d, ZONE_EFFORT)), 1),
                "heart_rate_zone_durations": {f"heart_rate_z{i + 1}_duration": x for i, x in enumerate(d)}}
        return graph

    def _windowed(self, series: np.ndarray) -> np.ndarray:
        starts, counts = self._windows
        return np.add.reduceat(series, starts) / counts

    def _metric(self, name: str, unit: str, slug: str, series: np.ndarray, digits: int) -> dict[str, Any]:
        values = [round(float(v), digits) if digits else int(round(v)) for v in self._windowed(series)]
        avg, top = float(series.mean()), float(series.max())
        return {"display_name": name, "display_unit": unit,
                "max_value": round(top, digits) if digits else int(round(top)),
                "average_value": round(avg, digits) if digits else int(round(avg)),
                "values": values, "slug": slug}

    def _distance_unit(self) -> tuple[str, str, float]:
        return ("km", "kph", 1.609344) if self.km else ("mi", "mph", 1.0)

    def _bike(self, summaries: list, averages: list, metrics: list) -> None:
        t, shape = self.plan.targets, self._intensity()
        output = self._series(1, t["output"], shape ** 1.6, 0.12)
        cadence = self._series(2, t["cadence"], shape ** 0.3, 0.05)
        resistance = self._series(3, t["resistance"], shape ** 0.6, 0.04)
        dist_unit, speed_unit, k = self._distance_unit()
        speed = 3.45 * np.cbrt(output)
        speed *= t["speed"] * k / speed.mean()
        summaries += [_entry("Total Output", "kj", int(round(t["output"] * self.n / 1000)), "total_output"),
                      _entry("Distance", dist_unit, round(float(speed.sum()) / 3600, 2), "distance")]
        if self.plan.kind.profile == "bike_distance":
            summaries.append(_entry("Duration", "min", round(self.n / 60, 2), "duration"))
        averages += [_entry("Avg Output", "watts", int(round(t["output"])), "avg_output"),
                     _entry("Avg Cadence", "rpm", int(round(cadence.mean())), "avg_cadence"),
                     _entry("Avg Resistance", "%", int(round(resistance.mean())), "avg_resistance"),
                     _entry("Avg Speed", speed_unit, round(float(speed.mean()), 1), "avg_speed")]
        metrics += [self._metric("Output", "watts", "output", output, 0),
                    self._metric("Cadence", "rpm", "cadence", cadence, 0),
                    self._metric("Resistance", "%", "resistance", resistance, 0),
                    self._metric("Speed", speed_unit, "speed", speed, 1)]

    def _pace(self, summaries: list, averages: list, metrics: list) -> None:
        t, p = self.plan.targets, self.plan.kind.profile
        dist_unit, speed_unit, k = self._distance_unit()
        shape = self._intensity()
        speed = self._series(4, t["speed"] * k, shape ** 0.8, 0.05)
        speed[: min(self.n, 8)] = 0.0  # the belt (or the member) takes a few seconds to get going
        speed *= t["speed"] * k / speed.mean()
        pace_unit = f"min/{dist_unit}"
        distance = float(speed.sum()) / 3600
        pace = self._pace_metric(speed, pace_unit, speed_unit)
        elev_unit, per_mile = ("m", 1000.0) if self.km else ("ft", 5280.0)
        if p.startswith("tread"):
            incline = self._series(5, t["incline"], shape ** 0.5, 0.1)
            output = self._series(1, t["output"], shape ** 1.2, 0.08)
            # Climb = distance travelled up the belt's slope.
            elevation = float((speed / 3600 * incline / 100).sum()) * per_mile
            summaries += [_entry("Total Output", "kj", int(round(t["output"] * self.n / 1000)), "total_output"),
                          _entry("Distance", dist_unit, round(distance, 2), "distance"),
                          _entry("Elevation", elev_unit, int(round(elevation)), "elevation")]
            averages += [_entry("Avg Output", "watts", int(round(t["output"])), "avg_output"),
                         _entry("Avg Pace", pace_unit, pace["average_value"], "avg_pace"),
                         _entry("Avg Incline", "%", round(float(incline.mean()), 1), "avg_incline"),
                         _entry("Avg Speed", speed_unit, round(float(speed.mean()), 1), "avg_speed")]
            metrics += [self._metric("Output", "watts", "output", output, 0), pace,
                        self._metric("Incline", "%", "incline", incline, 1)]
        else:
            walk = np.cumsum(self._rng(6).normal(0, 0.15, self.n))
            altitude = t["altitude"] * (0.3048 if self.km else 1.0) + np.convolve(walk, np.ones(31) / 31, "same")
            gain = float(np.clip(np.diff(altitude[::30]), 0, None).sum())
            summaries += [_entry("Distance", dist_unit, round(distance, 2), "distance"),
                          _entry("Elevation", elev_unit, int(round(gain)), "elevation")]
            averages += [_entry("Avg Pace", pace_unit, pace["average_value"], "avg_pace"),
                         _entry("Avg Speed", speed_unit, round(float(speed.mean()), 1), "avg_speed")]
            metrics += [pace, self._metric("Altitude", elev_unit, "altitude", altitude, 1)]

    def _pace_metric(self, speed: np.ndarray, pace_unit: str, speed_unit: str) -> dict[str, Any]:
        windows = self._windowed(speed)
        # Pace is minutes per distance unit; standing still has no pace, so it is null.
        values = [round(60 / float(v), 2) if v >= 0.5 else None for v in windows]
        return {"display_name": "Pace", "display_unit": pace_unit,
                "max_value": round(60 / float(speed.max()), 2), "average_value": round(60 / float(speed.mean()), 2),
                "values": values, "slug": "pace",
                "alternatives": [self._metric("Speed", speed_unit, "speed", speed, 1)]}

    def _row(self, summaries: list, averages: list, metrics: list) -> None:
        t, shape = self.plan.targets, self._intensity()
        output = self._series(1, t["output"], shape ** 1.5, 0.15)
        rate = self._series(7, t["stroke_rate"], shape ** 0.4, 0.05)
        velocity = np.cbrt(output / 2.8)  # m/s, the usual rowing-ergometer power law
        split = 500 / velocity / 60
        distance = float(velocity.sum())
        avg_split = round(500 / (distance / self.n) / 60, 2)
        summaries += [_entry("Total Output", "kj", int(round(t["output"] * self.n / 1000)), "total_output"),
                      _entry("Distance", "m", round(distance, 2), "distance"),
                      _entry("Strokes", None, int(round(float(rate.sum()) / 60)), "stroke_count")]
        averages += [_entry("Avg Stroke Output", "watts", int(round(t["output"])), "avg_output"),
                     _entry("Avg Stroke Rate", "spm", int(round(rate.mean())), "avg_stroke_rate"),
                     _entry("Avg Pace", "min/500m", avg_split, "avg_split_pace")]
        split_windows = 500 / self._windowed(velocity) / 60
        metrics += [self._metric("Stroke Output", "watts", "output", output, 0),
                    self._metric("Stroke Rate", "spm", "stroke_rate", rate, 0),
                    {"display_name": "Pace", "display_unit": "min/500m", "max_value": round(float(split.min()), 2),
                     "average_value": avg_split, "values": [round(float(v), 2) for v in split_windows],
                     "slug": "split_pace"}]

    def _calories(self) -> list[dict[str, Any]]:
        kcal = int(round(self.plan.calories * self.n / max(self.plan.duration, 1)))
        if self.plan.apple_watch:
            return [_entry("Total Calories", "kcal", kcal, "total_calories"),
                    _entry("Active Calories", "kcal", int(round(kcal * 0.82)), "active_calories")]
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
            zones.append({"display_name": f"Zone {i + 1}", "slug": f"zone{i + 1}", "range": label,
                          "duration": durations[i], "max_value": hi, "min_value": lo})
        metric["zones"] = zones
        metric["missing_data_duration"] = 0
        return metric

    def _segments(self) -> list[dict[str, Any]]:
        p = self.plan.kind.profile
        metrics_type = {"bike": "cycling", "bike_distance": "cycling", "row": "caesar"}.get(
            p, "running" if p in PACE_PROFILES or p == "app_run" else "floor")
        warm, cool = max(1, int(self.n * 0.12)), max(1, int(self.n * 0.08))
        parts = (("Warmup", "warmup", 0, warm), ("Main", metrics_type, warm, self.n - warm - cool),
                 ("Cool Down", "cooldown", self.n - cool, cool))
        return [{"id": hex_id("segment", self.plan.workout_id, name), "length": length, "start_time_offset": at,
                 "icon_url": f"https://example.invalid/segment-icons/{slug}.png", "intensity_in_mets": 5.0,
                 "metrics_type": metrics_type, "icon_name": slug, "icon_slug": slug, "name": name}
                for name, slug, at, length in parts if length > 0]


def make_account(n_workouts: int = 360, *, seed: int = 7, end: datetime | None = None, years: float = 2.5,
                 units: str = "mi") -> DemoAccount:
    """A deterministic demo member with `n_workouts` spread over `years` before `end`."""
    account = DemoAccount(seed=seed, end=end or DEFAULT_END, years=years, units=units)
    account._populate(n_workouts)
    return account
