"""The demo account as the Peloton website's "Download Workouts" CSV (shared notes, section 6).

For the tests and the benchmark of the CSV import, and for a person trying it by hand:

    python -m pelotonxl.demo.csv_export > workouts.csv     # the 360 workouts the demo server serves today

Each row is what the website writes for that workout: local times with the zone's abbreviation,
resistance with a `%`, empty cells for what was not measured, no instructor or class time for a
Just Ride, figures from the workout's own summaries.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pelotonxl.demo.account import DemoAccount, demo_end, make_account
from pelotonxl.model.catalog import DISCIPLINE_NAMES, NO_CLASS_LABELS, ZERO_RIDE_ID

GRAPH_SAMPLING = 600  # the summaries are the same at any sampling; a coarse graph is cheap to build


def header(units: str) -> list[str]:
    speed, pace = ("kph", "min/km") if units == "km" else ("mph", "min/mi")
    return [
        "Workout Timestamp",
        "Live/On-Demand",
        "Instructor Name",
        "Length (minutes)",
        "Fitness Discipline",
        "Type",
        "Title",
        "Class Timestamp",
        "Total Output",
        "Avg. Watts",
        "Avg. Resistance",
        "Avg. Cadence (RPM)",
        f"Avg. Speed ({speed})",
        f"Distance ({units})",
        "Calories Burned",
        "Avg. Heartrate",
        "Avg. Incline",
        f"Avg. Pace ({pace})",
    ]


def _local(epoch: float | None, zone: str) -> str:
    if not epoch:
        return ""
    moment = datetime.fromtimestamp(epoch, ZoneInfo(zone))
    return f"{moment:%Y-%m-%d %H:%M} ({moment.tzname()})"


def _figure(value: Any, digits: int = 2) -> str:
    if value is None or isinstance(value, bool):
        return ""
    number = round(float(value), digits)
    return str(int(number)) if number.is_integer() else str(number)


def _row(workout: dict[str, Any], graph: dict[str, Any], units_of_file: str) -> list[str]:
    zone = workout["timezone"]
    ride = workout.get("ride") or {}
    freestyle = not ride or ride.get("id") == ZERO_RIDE_ID
    minutes = round((ride.get("duration") or (workout["end_time"] - workout["start_time"])) / 60)
    found = {s["slug"]: s["value"] for s in graph.get("summaries", []) + graph.get("average_summaries", [])}
    units = {s["slug"]: s.get("display_unit") for s in graph.get("summaries", [])}
    if units.get("distance") == "m" and found.get("distance") is not None:  # a row's metres, in the file's unit
        found["distance"] = found["distance"] / (1000.0 if units_of_file == "km" else 1609.344)
    heart = next((m.get("average_value") for m in graph.get("metrics", []) if m.get("slug") == "heart_rate"), None)
    aired = ride.get("original_air_time")
    live = aired and abs(workout["start_time"] - aired) <= 15 * 60
    just = NO_CLASS_LABELS.get(workout["fitness_discipline"], "Just Ride")
    return [
        _local(workout["start_time"], zone),
        "Live" if live else "On Demand",
        "" if freestyle else ((ride.get("instructor") or {}).get("name") or ""),
        str(minutes),
        DISCIPLINE_NAMES.get(workout["fitness_discipline"], workout["fitness_discipline"].title()),
        just if freestyle else (ride.get("title", "").split(" ", 2)[-1] or ""),
        f"{minutes} min {just}" if freestyle else ride.get("title", ""),
        "" if freestyle else _local(aired, zone),
        _figure(workout["total_work"] / 1000 if workout.get("total_work") else None),
        _figure(found.get("avg_output")),
        f"{_figure(found['avg_resistance'])}%" if found.get("avg_resistance") is not None else "",
        _figure(found.get("avg_cadence")),
        _figure(found.get("avg_speed")),
        _figure(found.get("distance")),
        _figure(found.get("calories") or found.get("total_calories")),
        _figure(heart),
        _figure(found.get("avg_incline")),
        _figure(found.get("avg_pace")),
    ]


def workout_history_csv(account: DemoAccount) -> str:
    """The whole account, newest first, as the website's CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header(account.units))
    for workout in account.workouts:
        if workout.get("end_time") is None:
            continue  # still under way: the website lists finished workouts
        writer.writerow(_row(workout, account.graph(workout["id"], GRAPH_SAMPLING), account.units))
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the demo account as Peloton's workout CSV.")
    parser.add_argument("--workouts", type=int, default=360, help="as many as `demo.server --workouts` serves")
    parser.add_argument("--units", choices=("mi", "km"), default="mi")
    args = parser.parse_args(argv)
    # The account `python -m pelotonxl.demo.server` serves today, so a refresh from it meets the same workouts.
    sys.stdout.write(workout_history_csv(make_account(args.workouts, end=demo_end(), units=args.units)))


if __name__ == "__main__":
    main()
