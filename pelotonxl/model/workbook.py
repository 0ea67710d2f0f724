"""What a refresh hands the writers, and the names and colours both writers (and the template) share.

`WorkbookContent` is the one hand-off from the model to a writer: the headless writer
(`xlsx.writer.write_tables`) and the live one (`excel.live_writer.write_tables_live`) take it whole.
Its members are optional so a writer can be asked to write only part of a refresh (the tests do). Its
`Status` is the Config sheet's status cells; a refresh's writer answers with `Written`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from pelotonxl.model.problems import Problems

if TYPE_CHECKING:
    from pelotonxl.model.dashboard import Dashboard
    from pelotonxl.model.ride_view import RideView
    from pelotonxl.model.tables import SheetTable

CONFIG_SHEET = "Config"
# The sheets a refresh writes (the model modules that fill them name them from here).
DASHBOARD_SHEET, DASHBOARD_DATA_SHEET = "Dashboard", "Dashboard Data"
RIDE_SHEET, RIDE_DATA_SHEET = "Ride", "Ride Data"
WORKOUTS_SHEET, METRICS_SHEET, POWER_CURVE_SHEET = "Workouts", "Metrics", "PowerCurve"
FITNESS_SHEET = "Fitness"  # the training load's table (model/fitness.py), one row per day
TABLE_SHEETS = (WORKOUTS_SHEET, METRICS_SHEET, POWER_CURVE_SHEET)  # each holds the Excel Table of its name
TABLE_STYLE = "TableStyleMedium2"  # new tables' style; an existing table keeps the member's
# How a table sheet prints, on portrait pages with its header row repeated on each: (pages wide, pages
# tall; 0 = as many as it takes). PowerCurve fits one page. Workouts and Metrics fit their width on as
# few pages side by side as keep the print readable (None: worked out from the columns' widths, see
# READABLE_CHARS_PER_PAGE): 20 columns scaled onto one portrait page would print at 3 points.
PRINT_FIT: dict[str, tuple[int | None, int]] = {"PowerCurve": (1, 1)}
DEFAULT_PRINT_FIT: tuple[int | None, int] = (None, 0)
# A portrait Letter or A4 page inside 0.4-inch margins holds about 105 characters of Calibri 11 at 100 %;
# 175 a page prints at 60 % or more (about 6.5 points), still readable on paper.
READABLE_CHARS_PER_PAGE = 175

# The workbook's house colours (RGB hex, no '#'); the header fill is TableStyleMedium2's blue.
TITLE_COLOUR = "1F4E78"
NOTE_COLOUR = "595959"
HEADER_FILL = "4472C4"
HEADER_TEXT = "FFFFFF"
# Chart colours used by more than one sheet: cycling and output, running and cadence, strength and
# resistance, heart rate, the trend lines (rolling output, the FTP estimate), greys for what is older or empty.
ORANGE_RED = "E4572E"
STEEL_BLUE = "2E86AB"
PURPLE = "6C4F9E"
CRIMSON = "D7263D"
BRICK = "B8321A"
GREY = "7F7F7F"
LIGHT_GREY = "BFBFBF"

ID_COLUMN = "Workout ID"  # the first column of every table: what the member's notes are kept by
PELOTON_ID = re.compile(r"[0-9a-f]{32}")  # Peloton's ids (fullmatch)
# A Workout ID: Peloton's, or one made for a workout imported from the website's CSV (peloton.csv_import).
WORKOUT_ID = re.compile(r"[0-9a-f]{32}|csv-[0-9a-f]{28}")
EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 in Excel's 1900 date system (its leap-year bug included)


# The Config sheet's status cells, each a workbook defined name (and the label the template puts beside it).
STATUS_NAMES = {
    "last_refresh": ("PelotonLastRefresh", "Last refresh"),
    "workout_count": ("PelotonWorkoutCount", "Workouts in workbook"),
    "last_result": ("PelotonLastResult", "Last result"),
}


@dataclass(frozen=True)
class Status:
    """What a refresh writes into the Config sheet's status cells. A None member leaves its cell as it is."""

    last_refresh: datetime | None = None
    workout_count: int | None = None
    last_result: str | None = None  # what Last result says when there is no problem ("OK", "OK; …")
    problems: Problems = field(default_factory=Problems)  # said in Last result instead, when there are any

    def cells(self, notes_dropped: int = 0) -> dict[str, object]:
        """Each cell's value by its defined name (STATUS_NAMES), None members left out. `notes_dropped`:
        the removed workouts whose notes the writer dropped, which only it finds out."""
        problems = self.problems.with_notes_dropped(notes_dropped)
        result = problems.one_line() if problems else self.last_result
        values = {"last_refresh": self.last_refresh, "workout_count": self.workout_count, "last_result": result}
        return {STATUS_NAMES[key][0]: value for key, value in values.items() if value is not None}


@dataclass
class RideSheet:
    """The Ride sheet's content: one ride and its earlier attempts, or None (no Bike ride yet: a note)."""

    view: RideView | None


@dataclass
class WorkbookContent:
    """Everything one refresh writes: the tables (Workouts, Metrics, PowerCurve, Fitness), the Dashboard, the
    Ride sheet and the Config status cells. A None member is left as it is in the workbook.
    """

    workouts: SheetTable | None = None
    metrics: SheetTable | None = None
    dashboard: Dashboard | None = None
    status: Status = field(default_factory=Status)
    power_curve: SheetTable | None = None
    ride: RideSheet | None = None
    # --full: notes the member typed for workouts no longer on Peloton go with them (else they stay).
    full: bool = False
    # What this content is (refresh_job's stamp), recorded in the file by the headless writer so the
    # next refresh can tell what the workbook already shows; None leaves the record as it is.
    stamp: str | None = None

    @property
    def status_only(self) -> bool:
        """Nothing but the status cells (and the stamp) to write."""
        return not self.tables and self.dashboard is None and self.ride is None

    # Workout IDs that changed (a CSV row replaced by the API's record): old -> new, for follow_renamed.
    renamed_ids: dict[str, str] = field(default_factory=dict)
    fitness: SheetTable | None = None  # one row per day: load, fitness, fatigue, form

    @property
    def tables(self) -> list[SheetTable]:
        """The tables present, in sheet order (each names its sheet and Excel Table)."""
        return [t for t in (self.workouts, self.metrics, self.power_curve, self.fitness) if t is not None]


@dataclass
class Written:
    """What a writer tells the refresh: how many removed workouts' notes it dropped (--full only), and a
    last step to run once the refresh is recorded: the live writer's recalculation of the workbook's
    PELOTON_ formulas, which must find this refresh's store, not the one before it."""

    notes_dropped: int = 0
    finish: Callable[[], object] | None = None


Kept = TypeVar("Kept")


def follow_renamed(by_id: dict[str, Kept], renamed: Mapping[str, str]) -> dict[str, Kept]:
    """The member's values keyed by Workout ID, those of a workout whose id changed (a CSV row the API's
    record replaced) moved to its new id; where the new id has values of its own, they win."""
    if not renamed or not any(wid in renamed for wid in by_id):
        return by_id
    moved = {wid: value for wid, value in by_id.items() if wid not in renamed}
    for old, value in by_id.items():
        if old in renamed:
            moved.setdefault(renamed[old], value)
    return moved
