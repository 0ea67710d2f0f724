"""What the demo member does: the kinds of workout (discipline, class lengths, devices, how often),
the instructors, the time zones, and the plan of one workout before any JSON is made of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pelotonxl.demo.graphs import (
    hex_id,
)
from pelotonxl.model.catalog import ZERO_RIDE_ID

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


FLOOR_DEVICES = (
    ("iOS_app", "iOS_app"),
    ("web", "web"),
    ("home_bike_v1", "home_bike"),
    ("home_tread", "home_tread"),
    ("fire_tv", "fire_tv"),
    ("android", "android"),
)


# Calories per minute of floor classes, by discipline.
FLOOR_KCAL_PER_MIN = {
    "strength": (5.0, 8.0),
    "yoga": (3.0, 5.0),
    "stretching": (2.0, 3.2),
    "cardio": (8.0, 11.0),
    "bike_bootcamp": (8.5, 12.0),
    "running": (9.0, 12.0),
}


@dataclass(frozen=True)
class Kind:
    """One sort of workout: what class it is, on what device, and which graph it gets."""

    key: str
    discipline: str
    profile: str  # graph layout: bike, tread_run, outdoor_run, row, floor, ...
    titles: tuple[str, ...]  # "{m}" is the class length in minutes
    minutes: tuple[int, ...]
    devices: tuple[tuple[str, str], ...]
    weight: float
    ride: str = "class"  # class | none (no ride key) | just_ride | scenic | gym
    hr_share: float = 0.65
    watch_share: float = 0.0
    live_share: float = 0.12


# One kind a few lines (not ruff's one value a line): the table reads as a table.
KINDS: tuple[Kind, ...] = (
    Kind("bike", "cycling", "bike",
         ("{m} min Pop Ride", "{m} min Climb Ride", "{m} min HIIT & Hills Ride", "{m} min Power Zone Endurance Ride",
          "{m} min Tabata Ride", "{m} min Intervals Ride", "{m} min Low Impact Ride", "{m} min 80s Ride",
          "{m} min Rock Ride", "{m} min Hip Hop Ride", "{m} min Recovery Ride", "{m} min Groove Ride"),
         (10, 15, 20, 20, 30, 30, 30, 45, 45, 60), BIKE, 0.31, hr_share=0.7),
    Kind("just_ride", "cycling", "bike",
         ("Just Ride",),
         (15, 20, 25, 30, 40), BIKE, 0.02, ride="just_ride", live_share=0.0),
    Kind("scenic", "cycling", "bike",
         ("{m} min Scenic Ride: Swiss Alps", "{m} min Scenic Ride: Pacific Coast", "{m} min Scenic Ride: Tuscany"),
         (20, 30, 45), BIKE, 0.02, ride="scenic", live_share=0.0),
    Kind("distance_ride", "cycling", "bike_distance", ("{d} mi Distance Ride",), (5, 10, 15), BIKE, 0.015),
    Kind("tread_run", "running", "tread_run",
         ("{m} min HIIT Run", "{m} min Tempo Run", "{m} min Endurance Run", "{m} min Pop Fun Run",
          "{m} min Hills Run", "{m} min Progression Run"),
         (10, 15, 20, 20, 30, 30, 45), TREAD, 0.07),
    Kind("tread_walk", "walking", "tread_walk",
         ("{m} min Power Walk", "{m} min Hiking Walk", "{m} min Pop Walk"),
         (20, 30, 45), TREAD, 0.04),
    Kind("outdoor_run", "running", "outdoor_run",
         ("{m} min Outdoor Endurance Run", "{m} min Outdoor Fun Run", "{m} min Outdoor Tempo Run"),
         (20, 30, 45), PHONE, 0.03, watch_share=0.4),
    Kind("just_run", "running", "outdoor_run", (), (20, 30, 40, 50), PHONE, 0.02, ride="none", watch_share=0.5),
    Kind("outdoor_walk", "walking", "outdoor_walk",
         ("{m} min Outdoor Walk", "{m} min Outdoor Power Walk"),
         (20, 30, 45), PHONE, 0.02, watch_share=0.4),
    Kind("just_walk", "walking", "outdoor_walk", (), (15, 30, 45, 60), PHONE, 0.015, ride="none"),
    Kind("app_run", "running", "app_run",
         ("{m} min Fun Run", "{m} min HIIT Run", "{m} min Endurance Run"),
         (20, 30), (("iOS_app", "iOS_app"), ("fire_tv", "fire_tv"), ("android", "android")), 0.02, hr_share=0.2),
    Kind("row", "caesar", "row",
         ("{m} min Form & Drills Row", "{m} min Endurance Row", "{m} min HIIT Row", "{m} min Pop Row",
          "{m} min Sprint Row", "{m} min Power Row"),
         (10, 15, 20, 20, 30, 45), (("caesar", "caesar"),), 0.06),
    Kind("strength", "strength", "floor",
         ("{m} min Full Body Strength", "{m} min Upper Body Strength", "{m} min Core Strength",
          "{m} min Glutes & Legs Strength", "{m} min Arms & Shoulders Strength", "{m} min Bodyweight Strength"),
         (5, 10, 10, 20, 20, 30, 45), FLOOR_DEVICES, 0.12, hr_share=0.5, watch_share=0.3),
    Kind("gym_strength", "strength", "floor",
         ("{m} min Upper Body Push", "{m} min Lower Body Power"),
         (30, 45), PHONE, 0.015, ride="gym", hr_share=0.4, watch_share=0.5, live_share=0.0),
    Kind("yoga", "yoga", "floor",
         ("{m} min Yoga Flow", "{m} min Power Yoga", "{m} min Restorative Yoga", "{m} min Slow Flow Yoga"),
         (10, 15, 20, 30, 45, 60), FLOOR_DEVICES, 0.05, hr_share=0.4, watch_share=0.3),
    Kind("stretching", "stretching", "floor",
         ("{m} min Full Body Stretch", "{m} min Post-Ride Stretch", "{m} min Lower Body Stretch",
          "{m} min Pre-Run Stretch"),
         (5, 5, 10, 10, 15), FLOOR_DEVICES, 0.07, hr_share=0.4),
    Kind("meditation", "meditation", "meditation",
         ("{m} min Sleep Meditation", "{m} min Mindfulness Meditation", "{m} min Gratitude Meditation"),
         (5, 10, 10, 15, 20), (("iOS_app", "iOS_app"), ("web", "web")), 0.05, hr_share=0.0),
    Kind("cardio", "cardio", "floor",
         ("{m} min HIIT Cardio", "{m} min Dance Cardio", "{m} min Low Impact Cardio", "{m} min Shadowboxing"),
         (10, 15, 20, 30), FLOOR_DEVICES, 0.03, watch_share=0.3),
    Kind("bike_bootcamp", "bike_bootcamp", "floor",
         ("{m} min Bike Bootcamp", "{m} min Full Body Bike Bootcamp"),
         (30, 45, 60), BIKE, 0.02),
)  # fmt: skip


KIND_BY_KEY = {k.key: k for k in KINDS}


# Placed once each, spread over the history, so every quirk is in any account of this size or more.
REQUIRED_KINDS = (
    "just_ride",
    "scenic",
    "just_run",
    "gym_strength",
    "row",
    "outdoor_run",
    "app_run",
    "meditation",
    "strength",
    "distance_ride",
    "tread_run",
    "tread_walk",
    "outdoor_walk",
    "yoga",
    "stretching",
    "cardio",
    "bike_bootcamp",
    "just_walk",
)


@dataclass
class WorkoutPlan:
    """The few numbers a workout's graph is generated from."""

    workout_id: str
    kind: Kind
    seed: int
    duration: int  # seconds of the class (or free workout)
    targets: dict[str, float]  # planned whole-workout means: output, cadence, speed, hr...
    calories: int
    has_hr: bool
    apple_watch: bool
    in_progress: bool = False
    class_seed: int | None = None  # from the class's ride id: every attempt of it has the same efforts

    @property
    def elapsed(self) -> int:
        # An unfinished workout's graph covers half of it so far.
        return self.duration // 2 if self.in_progress else self.duration


def instructor_payload(index: int) -> dict[str, Any]:
    name, disciplines = INSTRUCTORS[index]
    first, last = name.split(" ", 1)
    iid = hex_id("instructor", name)
    return {
        "id": iid,
        "name": name,
        "first_name": first,
        "last_name": last,
        "username": (first + last).replace(" ", ""),
        "user_id": hex_id("instructor-user", name),
        "coach_type": "peloton_coach",
        "short_bio": f"{first} coaches {', '.join(disciplines)}.",
        "quote": "",
        "is_visible": True,
        "is_filterable": True,
        "list_order": index + 1,
        "image_url": f"https://example.invalid/instructors/{iid}.png",
        "fitness_disciplines": list(disciplines),
    }


JUST_RIDE_INSTRUCTOR = {
    "id": ZERO_RIDE_ID,
    "name": "JUST RIDE",
    "first_name": "JUST",
    "last_name": "RIDE",
    "username": "",
    "user_id": None,
    "coach_type": "peloton_coach",
    "short_bio": "",
    "quote": "",
    "is_visible": False,
    "is_filterable": False,
    "list_order": 0,
    "image_url": None,
    "fitness_disciplines": ["cycling"],
}
