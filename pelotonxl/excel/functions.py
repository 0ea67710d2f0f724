"""What the worksheet functions answer from: the local store of the last refresh, never the network.

Which refresh: the calling workbook's own (wherever its state folder was), else this machine's most
recent one; see _Cache.

An in-memory index (workout id → metric values, start times, metric names) is built once and rebuilt
only when the store file changes, so 10,000 =PELOTON_METRIC calls cost a dictionary lookup each.
PELOTON_SERIES reads the one graph it needs from the store (one row by key): the samples of every
workout are too many to keep in memory for a function called once per ride.
"""

from __future__ import annotations

import functools
import math
import os
import re
import threading
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pelotonxl.model import derived, tables
from pelotonxl.model.catalog import DISCIPLINE_NAMES
from pelotonxl.model.samples import sampled_metrics
from pelotonxl.model.units import is_pace, pace_as_duration
from pelotonxl.model.workbook import EXCEL_EPOCH, WORKOUT_ID
from pelotonxl.peloton.store import WorkoutStore, file_version, watched_files
from pelotonxl.settings import FIELD_BY_NAME
from pelotonxl.state import StateFolder, answering_store

# "latest ride", "latest run"...: the word a member says -> Peloton's fitness_discipline. Any discipline's
# own slug or name works too ("latest yoga", "latest cycling").
LATEST_KINDS = {"ride": "cycling", "run": "running", "row": "caesar", "walk": "walking"}
LATEST_WORDS = '"latest", "latest ride", "latest run", "latest row" or "latest walk"'
HOME_ENV = FIELD_BY_NAME["home"].env


class MetricLookupError(LookupError):
    """The workout or metric asked for is not in the store; the message says which."""

    excel_error = "#N/A"


class BadArgumentError(MetricLookupError):
    """The argument is not a Workout ID, a date, "latest" or a metric name at all."""

    excel_error = "#VALUE!"


def as_excel_error(exc: MetricLookupError) -> str:
    """The text the workbook's VBA wrapper turns into a real error value (#N/A, #VALUE!)."""
    return f"{exc.excel_error} {exc}"


@functools.lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """'Avg Output', 'avg_output' and 'AVG-OUTPUT' all become 'avgoutput'."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass
class MetricIndex:
    """Every workout's metric values, compact: one float array (NaN where a workout lacks a metric), a row
    per workout, a column per metric of the catalogue. Built by a refresh from the store's row records and
    kept in the store (`to_json`), so the first call of a session reads one value instead of every workout."""

    catalog: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # slug -> (name, unit)
    rows: dict[str, int] = field(default_factory=dict)  # workout id -> row
    table: array = field(default_factory=lambda: array("d"))  # rows x len(catalog)
    starts: list[tuple[datetime, str]] = field(default_factory=list)  # newest first
    kinds: dict[str, str] = field(default_factory=dict)  # workout id -> its Discipline as the sheet shows it
    slugs: dict[str, str] = field(default_factory=dict)  # _key(name or slug) -> slug
    columns: dict[str, int] = field(default_factory=dict)  # slug -> column

    def __post_init__(self) -> None:
        self.columns = {slug: i for i, slug in enumerate(self.catalog)}
        for slug, (name, unit) in self.catalog.items():
            for alias in (slug, name, f"{name} ({unit})" if unit else name):
                self.slugs.setdefault(_key(alias), slug)

    @classmethod
    def build(cls, records: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> MetricIndex:
        """From (workout, graph) pairs."""
        return cls.from_rows(
            [(w["id"], tables.row_record(w, g)) for w, g in records if isinstance(w, dict) and "id" in w]
        )

    @classmethod
    def from_rows(cls, rows: list[tuple[str, dict]]) -> MetricIndex:
        """From the store's "rows" records ((workout id, `tables.row_record`), newest first)."""
        index = cls(catalog=tables.row_catalog(tables.sorted_rows(row for _, row in rows)))
        width = len(index.columns)
        for wid, row in rows:
            index.rows[wid] = len(index.rows)
            line = [math.nan] * width
            for slug, value in tables.row_metric_values(row).items():
                line[index.columns[slug]] = value
            index.table.extend(line)
            start = row["w"]["Start"]
            if start is not None:
                index.starts.append((datetime.fromisoformat(start), wid))
            index.kinds[wid] = row["w"].get("Discipline") or ""
        index.starts.sort(reverse=True)
        return index

    def to_json(self) -> dict:
        ids = list(self.rows)
        width = len(self.columns)
        return {
            "catalog": [[slug, name, unit] for slug, (name, unit) in self.catalog.items()],
            "ids": ids,
            "values": [None if math.isnan(v) else v for v in self.table] if width else [],
            "starts": [[start.isoformat(), wid] for start, wid in self.starts],
            "kinds": self.kinds,
        }

    @classmethod
    def from_json(cls, data: dict) -> MetricIndex:
        index = cls(catalog={slug: (name, unit) for slug, name, unit in data["catalog"]})
        index.rows = {wid: i for i, wid in enumerate(data["ids"])}
        index.table = array("d", (math.nan if v is None else v for v in data["values"]))
        index.starts = [(datetime.fromisoformat(start), wid) for start, wid in data["starts"]]
        index.kinds = dict(data.get("kinds") or {})
        return index

    def values_of(self, workout_id: str) -> dict[str, float]:
        """slug -> value of one workout's metrics (those it has)."""
        base = self.rows[workout_id] * len(self.columns)
        return {
            slug: self.table[base + column]
            for slug, column in self.columns.items()
            if not math.isnan(self.table[base + column])
        }

    def resolve_workout(self, workout: object) -> str:
        if isinstance(workout, str):
            text = workout.strip()
            if text.lower() == "latest" or text.lower().startswith("latest "):
                return self.latest(text[len("latest") :].strip())
            if WORKOUT_ID.fullmatch(text.lower()):
                if text.lower() not in self.rows:
                    raise MetricLookupError(f"no workout {text} in the last refresh")
                return text.lower()
            try:
                workout = datetime.fromisoformat(text)
            except ValueError:
                raise BadArgumentError(f"{text!r} is not a Workout ID, a date or {LATEST_WORDS}") from None
        when = _as_datetime(workout)
        if when is None:
            raise BadArgumentError(f"{workout!r} is not a Workout ID, a date or {LATEST_WORDS}")
        same_minute = [wid for start, wid in self.starts if abs((start - when).total_seconds()) < 60]
        if same_minute:
            return same_minute[0]
        if when.time() == datetime.min.time():  # a bare date: the latest workout that day
            for start, wid in self.starts:
                if start.date() == when.date():
                    return wid
            raise MetricLookupError(f"no workout on {when.date().isoformat()}")
        raise MetricLookupError(f"no workout started at {when:%Y-%m-%d %H:%M}")

    def latest(self, kind: str) -> str:
        """The newest workout, or the newest of one discipline: "ride", "run", "row", "walk", or a
        discipline's slug or name ("yoga", "Cycling", "Rowing")."""
        if not kind:
            if not self.starts:
                raise MetricLookupError("no workouts in the store yet: refresh first")
            return self.starts[0][1]
        wanted = _key(kind)
        slug = LATEST_KINDS.get(wanted) or next(
            (s for s, name in DISCIPLINE_NAMES.items() if wanted in (_key(s), _key(name))), None
        )
        if slug is None and wanted not in {_key(k) for k in self.kinds.values()}:
            raise BadArgumentError(f"{'latest ' + kind!r} names no discipline: say {LATEST_WORDS}")
        shown = _key(DISCIPLINE_NAMES[slug]) if slug else wanted  # the Discipline column's words
        found = next((wid for _, wid in self.starts if _key(self.kinds.get(wid, "")) == shown), None)
        if found is None:
            raise MetricLookupError(f"no {kind.lower()} in the store yet")
        return found

    def value(self, workout: object, metric: object) -> float:
        wid = self.resolve_workout(workout)
        if not isinstance(metric, str):
            raise BadArgumentError(f"{metric!r} is not a metric name")
        slug = self.slugs.get(_key(metric))
        if slug is None:
            raise MetricLookupError(f"unknown metric {metric!r}; see =PELOTON_METRIC_NAMES()")
        value = self.table[self.rows[wid] * len(self.columns) + self.columns[slug]]
        if math.isnan(value):
            raise MetricLookupError(f"workout {wid} has no {self.catalog[slug][0]}")
        return value


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2958466:
        return (EXCEL_EPOCH + timedelta(days=float(value))).replace(microsecond=0)  # an Excel serial
    return None


class _Cache:
    """Which store a call answers from, and that store's index, rebuilt when the store changes.

    `book` is the calling workbook's path (None from plain Python). A workbook answers from the store
    its last refresh filled (state.refresh_of), wherever that was; plain Python from PELOTON_XL_HOME's
    last account when that is set, else this machine's most recent refresh (state.last_refresh), else
    the default state folder's last account. Both lookups are memoised against the stamps of the files
    they read; those are looked at again when RECHECK seconds have passed since they last were, so the
    calls of one recalculation (10,000 cells in a few milliseconds) cost a dictionary lookup each and all
    answer from the same store, and the first call after a refresh (seconds later) sees the new one.
    A refresh in this same process (the ribbon's, a test's) ends the trusted window at once: its
    formulas are re-entered within milliseconds of the refresh, well inside RECHECK.
    """

    KEPT = 4  # stores indexed at once (a member's workbook and the demo's, say)
    RECHECK = 0.25  # seconds a checked index is trusted without looking at the files again

    def __init__(self) -> None:
        self._recent: dict[tuple, tuple[float, int, MetricIndex]] = {}  # key -> when checked, generation, index
        self._lock = threading.Lock()
        self._where: dict[tuple, tuple[tuple[str, ...], tuple, Path]] = {}  # key -> files, version, store
        self._indexes: dict[Path, tuple[tuple[str, ...], tuple, MetricIndex]] = {}  # store -> files, version, index

    def store(self, book: str | None) -> Path:
        """The store file a call from `book` answers from, or MetricLookupError."""
        # Keyed without the user data folder (platformdirs costs more than the rest of a call): it
        # does not move while a process runs; the tests give each test a fresh _Cache.
        key = (book, os.environ.get(HOME_ENV) or "")
        hit = self._where.get(key)
        if hit is not None and file_version(hit[0]) == hit[1]:
            return hit[2]
        files, store = _locate(book, key[1])
        with self._lock:
            if len(self._where) >= 64:
                self._where.clear()
            self._where[key] = (files, file_version(files), store)
        return store

    def index(self, book: str | None = None) -> MetricIndex:
        key = (book, os.environ.get(HOME_ENV) or "")
        now = time.monotonic()
        recent = self._recent.get(key)
        if recent is not None and now - recent[0] < self.RECHECK and recent[1] == _kept_generation[0]:
            return recent[2]
        generation = _kept_generation[0]
        index = self._checked_index(book)
        if len(self._recent) >= 64:
            self._recent.clear()
        self._recent[key] = (now, generation, index)
        return index

    def _checked_index(self, book: str | None) -> MetricIndex:
        path = self.store(book)
        hit = self._indexes.get(path)
        if hit is not None and file_version(hit[0]) == hit[1]:
            return hit[2]
        with self._lock:
            files = watched_files(path)
            version = file_version(files)
            if not path.exists():
                raise MetricLookupError(f"the local store {path} is missing: refresh first")
            with WorkoutStore(path) as store:
                index = stored_index(store) or MetricIndex.from_rows(derived.read_only(store, derived.ROWS))
            self._indexes.pop(path, None)
            while len(self._indexes) >= self.KEPT:
                self._indexes.pop(next(iter(self._indexes)))
            self._indexes[path] = (files, version, index)
            return index

    def graph(self, workout_id: str, book: str | None = None) -> dict | None:
        """One workout's stored graph, from the store a call from `book` answers from."""
        with WorkoutStore(self.store(book)) as store:
            return store.graph(workout_id)


INDEX_NOTE = "metric_index"
_kept_generation = [0]  # bumped by each keep_index in this process: a refresh here is seen at once


def index_tag(store: WorkoutStore) -> str:
    """What a kept index was built from: the store's data and the code of its row records."""
    return f"{store.data_version()}:{derived.ROWS.version}"


def keep_index(store: WorkoutStore, rows: list[tuple[str, dict]]) -> None:
    """The refresh's part: the index of these row records (all of the store's, newest first), kept in the store."""
    store.remember(INDEX_NOTE, {"tag": index_tag(store), **MetricIndex.from_rows(rows).to_json()})
    _kept_generation[0] += 1


def stored_index(store: WorkoutStore) -> MetricIndex | None:
    """The index the last refresh kept, if it is of the store's current data."""
    kept = store.recalled(INDEX_NOTE)
    return MetricIndex.from_json(kept) if kept is not None and kept.get("tag") == index_tag(store) else None


def _locate(book: str | None, home_env: str) -> tuple[tuple[str, ...], Path]:
    """(the files read to decide, whose change means "look again"; the store file) for a call from `book`."""
    record, files = answering_store(book, home_env or None)
    if record is None:
        root = StateFolder(home_env or None).root
        raise MetricLookupError(f"no refresh has run yet (state folder {root}): refresh first")
    return files, record.store_file


_cache = _Cache()


def lookup_metric(workout: object, metric: object, book: str | None = None) -> float:
    """`book`: the calling workbook's path (None from plain Python): which refresh's store answers."""
    return _cache.index(book).value(workout, metric)


def series(workout: object, metric: object, book: str | None = None) -> list[float | None]:
    """The samples of one metric of one workout's stored performance graph, oldest first.

    `workout` as for lookup_metric; `metric` a graph metric's slug or name ("output", "Heart Rate",
    "Speed (mph)"). Samples are `every_n` seconds apart (the Graph sampling setting); a gap is None.
    A pace (`pace`, `split_pace`) is a duration, as on the Metrics sheet and from PELOTON_METRIC: Excel's
    fraction of a day in whole seconds (8.47 min/mi is 8:28), so `[m]:ss` reads it.
    """
    if not isinstance(metric, str) or not metric.strip():
        raise BadArgumentError(f"{metric!r} is not a metric name")
    wid = _cache.index(book).resolve_workout(workout)
    graph = _cache.graph(wid, book)
    if graph is None:
        raise MetricLookupError(f"workout {wid} has no performance graph in the store")
    wanted = _key(metric)
    for entry in sampled_metrics(graph):
        name, unit = entry.get("display_name") or "", entry.get("display_unit")
        if wanted in {_key(entry.get("slug") or ""), _key(name), _key(f"{name} ({unit})")}:
            values = list(entry.get("values") or [])
            if is_pace(entry.get("slug"), unit):
                return [pace_as_duration(v) if isinstance(v, (int, float)) else None for v in values]
            return values
    raise MetricLookupError(f"workout {wid} has no {metric.strip()} samples")


def metric_names(book: str | None = None) -> list[list[str]]:
    catalog = _cache.index(book).catalog
    return [["Metric", "Name", "Unit"]] + [[slug, name, unit or ""] for slug, (name, unit) in catalog.items()]


def workouts_on(day: object, book: str | None = None) -> list[list[str]]:
    try:
        when = _as_datetime(datetime.fromisoformat(day.strip()) if isinstance(day, str) else day)
    except ValueError:
        when = None
    if when is None:
        raise BadArgumentError(f"{day!r} is not a date")
    ids = [[wid] for start, wid in _cache.index(book).starts if start.date() == when.date()]
    return ids or [["no workouts that day"]]
