"""Store records made by hand: a small account whose Dashboard figures add up by hand, and rides
with known output samples for the power curve. Each is a (workout, graph) pair as the store holds it.
"""

from __future__ import annotations

import datetime as dt

# "Now" for the hand-made account: Thursday 26 Nov 2026, so this week runs from Monday 23 Nov.
NOW = dt.datetime(2026, 11, 26, 12, 0)


def workout(
    wid: str,
    start: str,
    minutes: float,
    discipline: str,
    *,
    length: int | None = None,
    kj: float | None = None,
    watts: float | None = None,
    kcal: float | None = None,
    miles: float | None = None,
    instructor: str | None = None,
    zones: list[float] | None = None,
):
    """One raw (workout, graph) pair as the store holds it, in UTC so local time is what is written."""
    begin = int(dt.datetime.fromisoformat(start).replace(tzinfo=dt.timezone.utc).timestamp())
    ride = None
    if length:
        ride = {
            "id": f"ride{wid}".ljust(32, "r"),
            "title": f"{length} min {discipline} class",
            "duration": length * 60,
            "instructor": {"name": instructor} if instructor else None,
        }
    item = {
        "id": wid,
        "start_time": begin,
        "end_time": begin + round(minutes * 60),
        "timezone": "UTC",
        "fitness_discipline": discipline,
        "ride": ride,
        "total_work": kj * 1000 if kj else 0,
        "status": "COMPLETE",
    }
    summaries = []
    if kcal:
        summaries.append({"display_name": "Calories", "display_unit": "kcal", "value": kcal, "slug": "calories"})
    if miles:
        summaries.append({"display_name": "Distance", "display_unit": "mi", "value": miles, "slug": "distance"})
    averages = (
        [{"display_name": "Avg Output", "display_unit": "watts", "value": watts, "slug": "avg_output"}] if watts else []
    )
    metrics = []
    if zones:
        metrics.append(
            {
                "slug": "heart_rate",
                "average_value": 140,
                "max_value": 170,
                "zones": [{"slug": f"zone{n}", "duration": m * 60} for n, m in enumerate(zones, 1)],
            }
        )
    return item, {"summaries": summaries, "average_summaries": averages, "metrics": metrics}


def hand_account():
    return [
        workout(
            "w1",
            "2026-11-23 07:00",
            30,
            "cycling",
            length=30,
            kj=300,
            watts=167,
            kcal=400,
            miles=9.5,
            instructor="Ann",
            zones=[5, 10, 10, 4, 1],
        ),
        workout("w2", "2026-11-24 18:00", 20, "strength", length=20, kcal=150, instructor="Ben"),
        workout(
            "w3",
            "2026-11-16 07:00",
            30,
            "cycling",
            length=30,
            kj=320,
            watts=178,
            kcal=420,
            miles=10.0,
            instructor="Ann",
        ),
        workout(
            "w4",
            "2026-11-02 07:00",
            45,
            "cycling",
            length=45,
            kj=450,
            watts=167,
            kcal=600,
            miles=14.2,
            instructor="Cal",
        ),
        workout("w5", "2026-10-05 07:00", 20, "running", length=20, kcal=200, instructor="Ben"),
        workout("w6", "2026-10-12 07:00", 20, "running", length=20, instructor="Ben"),
        workout("w7", "2026-10-19 07:00", 25, "running"),  # a Just Run: no class
        workout("w8", "2025-11-20 07:00", 10, "cycling", length=10, kj=100, watts=167, instructor="Ann"),
    ]


def ride(workout_id, day, output, every_n=1, discipline="cycling", ride_id="c" * 32, state=None):
    start = dt.datetime(2026, *day, 7, 0, tzinfo=dt.timezone.utc).timestamp()
    workout = {
        "id": workout_id,
        "fitness_discipline": discipline,
        "start_time": start,
        "timezone": "UTC",
        "ride": {"id": ride_id},
    }
    graph = {
        "seconds_since_pedaling_start": [every_n * (i + 1) for i in range(len(output))],
        "metrics": [{"slug": "output", "values": list(output)}, {"slug": "cadence", "values": [80] * len(output)}],
    }
    return workout, graph
